#include "upstreambackend.h"

#include <QLocalSocket>
#include <QTcpSocket>

namespace portico {

UpstreamBackend::UpstreamBackend(const BackendTarget &target, const RuntimeContext &context, QObject *parent)
    : Backend(parent), m_target(target), m_context(context) {
    m_interval.setInterval(qMax(10, m_context.config->healthCheckIntervalMs));
    connect(&m_interval, &QTimer::timeout, this, &UpstreamBackend::check);
    m_checkTimeout.setSingleShot(true);
    connect(&m_checkTimeout, &QTimer::timeout, this, [this] {
        finishCheck(false, QStringLiteral("connect timed out after %1 ms").arg(m_checkTimeout.interval()));
    });
}

UpstreamBackend::~UpstreamBackend() = default;

void UpstreamBackend::start() {
    if (m_interval.isActive())
        return;
    setState(BackendState::Running, QStringLiteral("upstream %1").arg(m_target.describe()));
    m_interval.start();
    check();
    Q_EMIT ready();
}

void UpstreamBackend::stop() {
    m_interval.stop();
    m_checkTimeout.stop();
    if (m_check)
        m_check->deleteLater();
    m_check = nullptr;
    setState(BackendState::Stopped, QStringLiteral("stopped"));
    Q_EMIT stopped();
}

void UpstreamBackend::restart() {
    m_interval.stop();
    start();
}

void UpstreamBackend::check() {
    if (m_check)
        return; // the previous check is still waiting for its answer or its timeout
    m_checkTimeout.start(
        qBound(10, m_context.config->backendConnectTimeoutMs, qMax(10, m_interval.interval())));
    if (m_target.kind == BackendTarget::Kind::Unix) {
        auto *socket = new QLocalSocket(this);
        m_check = socket;
        connect(socket, &QLocalSocket::connected, this, [this] { finishCheck(true, {}); });
        connect(socket, &QLocalSocket::errorOccurred, this,
                [this, socket] { finishCheck(false, socket->errorString()); });
        socket->connectToServer(m_target.unixPath);
        return;
    }
    auto *socket = new QTcpSocket(this);
    m_check = socket;
    connect(socket, &QTcpSocket::connected, this, [this] { finishCheck(true, {}); });
    connect(socket, &QTcpSocket::errorOccurred, this,
            [this, socket] { finishCheck(false, socket->errorString()); });
    // A host name is looked up asynchronously by QTcpSocket (QHostInfo), never blocking here.
    socket->connectToHost(m_target.host, m_target.port);
}

void UpstreamBackend::finishCheck(bool ok, const QString &error) {
    m_checkTimeout.stop();
    if (QObject *c = m_check) {
        m_check = nullptr;
        c->disconnect(this);
        if (auto *t = qobject_cast<QTcpSocket *>(c))
            t->abort();
        else if (auto *l = qobject_cast<QLocalSocket *>(c))
            l->abort();
        c->deleteLater();
    }
    if (!m_interval.isActive())
        return; // stopped meanwhile
    if (ok)
        setState(BackendState::Running,
                 QStringLiteral("upstream %1 accepts connections").arg(m_target.describe()));
    else
        setState(
            BackendState::Unhealthy,
            QStringLiteral("upstream %1 does not accept connections: %2").arg(m_target.describe(), error));
}

void UpstreamBackend::setState(BackendState state, const QString &reason) {
    // Only transitions are news; the same state with a fresh reason is not.
    if (state == m_state) {
        m_reason = reason;
        return;
    }
    m_state = state;
    m_reason = reason;
    Q_EMIT stateChanged(state, reason);
}

} // namespace portico

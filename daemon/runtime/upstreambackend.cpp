#include "upstreambackend.h"

#include <QHostInfo>
#include <QLocalSocket>
#include <QSocketNotifier>
#include <QTcpSocket>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace portico {

namespace {

// One health probe of a UDP upstream: a connected datagram socket that sent one empty
// datagram. The kernel turns an ICMP port unreachable for it into ECONNREFUSED on the next
// receive; a datagram back means something answers. The socket closes with the object.
class UdpProbe final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpProbe)
public:
    using Done = std::function<void(bool ok, const QString &error)>;
    UdpProbe(QObject *parent) : QObject(parent) {}
    ~UdpProbe() override {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    // False with *error when the probe could not be sent; otherwise done() may come later.
    // Silence ends in the owner's timeout, which counts as healthy.
    bool start(const QHostAddress &address, quint16 port, Done done, QString *error) {
        sockaddr_storage ss{};
        socklen_t len = 0;
        bool ok = false;
        const quint32 v4 = address.toIPv4Address(&ok);
        if (ok) {
            auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
            sin->sin_family = AF_INET;
            sin->sin_port = htons(port);
            sin->sin_addr.s_addr = htonl(v4);
            len = sizeof(sockaddr_in);
        } else {
            auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(port);
            const Q_IPV6ADDR a = address.toIPv6Address();
            std::memcpy(&sin6->sin6_addr, &a, sizeof a);
            sin6->sin6_scope_id = address.scopeId().toUInt();
            len = sizeof(sockaddr_in6);
        }
        m_fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 ||
            ::send(m_fd, "", 0, MSG_NOSIGNAL) != 0) {
            *error = QString::fromLocal8Bit(std::strerror(errno));
            return false;
        }
        m_done = std::move(done);
        auto *notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
        connect(notifier, &QSocketNotifier::activated, this, [this, notifier] {
            char byte;
            if (::recv(m_fd, &byte, 1, MSG_DONTWAIT) >= 0) {
                notifier->setEnabled(false);
                m_done(true, {});
            } else if (errno == ECONNREFUSED) {
                notifier->setEnabled(false);
                m_done(false, QStringLiteral("ICMP port unreachable: nothing listens on that udp port"));
            }
        });
        return true;
    }

private:
    int m_fd = -1;
    Done m_done;
};

} // namespace

UpstreamBackend::UpstreamBackend(const BackendTarget &target, bool udpOnly, const RuntimeContext &context,
                                 QObject *parent)
    : Backend(parent), m_target(target), m_udpOnly(udpOnly && target.kind == BackendTarget::Kind::Tcp),
      m_context(context) {
    m_interval.setInterval(qMax(10, m_context.config->healthCheckIntervalMs));
    connect(&m_interval, &QTimer::timeout, this, &UpstreamBackend::check);
    m_checkTimeout.setSingleShot(true);
    connect(&m_checkTimeout, &QTimer::timeout, this, [this] {
        if (m_udpOnly && m_lookupId < 0) // the datagram went out and nothing refused it
            finishCheck(true, {});
        else if (m_udpOnly)
            finishCheck(false,
                        QStringLiteral("the name lookup took over %1 ms").arg(m_checkTimeout.interval()));
        else
            finishCheck(false,
                        QStringLiteral("connect timed out after %1 ms").arg(m_checkTimeout.interval()));
    });
}

UpstreamBackend::~UpstreamBackend() {
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
}

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
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    m_lookupId = -1;
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
    if (m_check || m_lookupId >= 0)
        return; // the previous check is still waiting for its answer or its timeout
    m_checkTimeout.start(
        qBound(10, m_context.config->backendConnectTimeoutMs, qMax(10, m_interval.interval())));
    if (m_udpOnly) {
        checkUdp();
        return;
    }
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

void UpstreamBackend::checkUdp() {
    const QHostAddress literal(m_target.host);
    if (!literal.isNull()) {
        probeUdp(literal);
        return;
    }
    // Looked up asynchronously; the check timeout also bounds the lookup.
    m_lookupId = QHostInfo::lookupHost(m_target.host, this, [this](const QHostInfo &info) {
        m_lookupId = -1;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            finishCheck(false,
                        QStringLiteral("cannot resolve %1: %2").arg(m_target.host, info.errorString()));
            return;
        }
        probeUdp(info.addresses().first());
    });
}

void UpstreamBackend::probeUdp(const QHostAddress &address) {
    auto *probe = new UdpProbe(this);
    m_check = probe;
    QString error;
    if (!probe->start(
            address, m_target.port, [this](bool ok, const QString &e) { finishCheck(ok, e); }, &error))
        finishCheck(false, error);
}

void UpstreamBackend::finishCheck(bool ok, const QString &error) {
    m_checkTimeout.stop();
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    m_lookupId = -1;
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
    if (m_udpOnly && ok)
        setState(BackendState::Running,
                 QStringLiteral("upstream %1 (udp): nothing refused the probe").arg(m_target.describe()));
    else if (m_udpOnly)
        setState(BackendState::Unhealthy,
                 QStringLiteral("upstream %1 (udp) is not there: %2").arg(m_target.describe(), error));
    else if (ok)
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

#include "upstreambackend.moc"

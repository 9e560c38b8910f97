#include "udprelay.h"

#include "net/listenermanager.h"

#include <QNetworkDatagram>
#include <QTimer>
#include <QUdpSocket>

#include <unistd.h>

namespace portico {

namespace {
constexpr int kMaxDatagram = 65536;
constexpr int kMaxQueued = 64;        // datagrams held per session while its backend socket connects
constexpr int kMaxReadsPerWake = 256; // then yield to the rest of the worker's event loop

QByteArray sessionKey(const QHostAddress &address, quint16 port) {
    const Q_IPV6ADDR a = address.toIPv6Address();
    QByteArray key(reinterpret_cast<const char *>(a.c), 16);
    key += char(port >> 8);
    key += char(port & 0xff);
    return key;
}
} // namespace

struct UdpRelay::Session {
    QByteArray key;
    QHostAddress address;
    quint16 port = 0;
    QUdpSocket *backend = nullptr; // child of the relay
    qint64 lastActivity = 0;       // ms, for the idle timeout
    quint64 lastUse = 0;           // a sequence number: orders sessions for eviction, ties impossible
    QList<QByteArray> queue;
};

UdpRelay::UdpRelay(std::shared_ptr<const UdpRelayContext> context, QObject *parent)
    : Listener(parent), m_ctx(std::move(context)) {
    m_clock.start();
    m_sweep = new QTimer(this);
    const int idle = qMax(1, m_ctx->config->udpIdleTimeoutMs);
    m_sweep->setInterval(qBound(5, idle / 4, 1000));
    connect(m_sweep, &QTimer::timeout, this, &UdpRelay::sweep);
}

UdpRelay::~UdpRelay() {
    const auto keys = m_sessions.keys();
    for (const QByteArray &k : keys)
        removeSession(k);
}

bool UdpRelay::start(int fd, QString *error) {
    m_socket = new QUdpSocket(this);
    if (!m_socket->setSocketDescriptor(fd, QAbstractSocket::BoundState)) {
        if (error)
            *error = m_socket->errorString();
        ::close(fd);
        return false;
    }
    connect(m_socket, &QUdpSocket::readyRead, this, &UdpRelay::readVisitors);
    m_sweep->start();
    return true;
}

void UdpRelay::stopAccepting() {
    if (m_socket) {
        m_socket->close();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    const auto keys = m_sessions.keys();
    for (const QByteArray &k : keys)
        removeSession(k);
    m_sweep->stop();
}

void UdpRelay::readVisitors() {
    m_readScheduled = false;
    if (!m_socket)
        return;
    for (int i = 0; i < kMaxReadsPerWake && m_socket->hasPendingDatagrams(); ++i) {
        const QNetworkDatagram dg = m_socket->receiveDatagram(kMaxDatagram);
        if (!dg.isValid())
            break;
        const QByteArray data = dg.data();
        if (m_ctx->stats) {
            m_ctx->stats->addRequest();
            m_ctx->stats->addIn(quint64(data.size()));
        }
        Session *s = sessionFor(dg.senderAddress(), quint16(dg.senderPort()));
        if (!s)
            continue;
        s->lastActivity = m_clock.elapsed();
        s->lastUse = ++m_useCounter;
        if (s->backend->state() == QAbstractSocket::ConnectedState) {
            if (s->backend->write(data) < 0 && m_ctx->stats)
                m_ctx->stats->addError();
        } else if (s->queue.size() < kMaxQueued) {
            s->queue.append(data);
        } else if (m_ctx->stats) {
            m_ctx->stats->addError();
        }
    }
    if (m_socket->hasPendingDatagrams() && !m_readScheduled) {
        m_readScheduled = true;
        QMetaObject::invokeMethod(this, &UdpRelay::readVisitors, Qt::QueuedConnection);
    }
}

UdpRelay::Session *UdpRelay::sessionFor(const QHostAddress &address, quint16 port) {
    const QByteArray key = sessionKey(address, port);
    if (Session *s = m_sessions.value(key))
        return s;

    const auto table = m_ctx->routes ? m_ctx->routes->current() : nullptr;
    const ProjectRoute *route = table ? table->project(m_ctx->project) : nullptr;
    if (!route || route->target.kind != BackendTarget::Kind::Tcp) {
        if (m_ctx->stats)
            m_ctx->stats->addError();
        return nullptr;
    }

    const int cap = qMax(1, m_ctx->config->udpMaxSessions);
    while (m_sessions.size() >= cap) {
        auto oldest = m_sessions.cbegin();
        for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it) {
            if (it.value()->lastUse < oldest.value()->lastUse)
                oldest = it;
        }
        qCDebug(lcNet) << "udp" << m_ctx->project << "at its session cap; evicting" << oldest.value()->address
                       << oldest.value()->port;
        removeSession(oldest.key());
    }

    auto *s = new Session;
    s->key = key;
    s->address = address;
    s->port = port;
    s->lastActivity = m_clock.elapsed();
    s->backend = new QUdpSocket(this);
    connect(s->backend, &QUdpSocket::readyRead, this, [this, s] { readBackend(s); });
    connect(s->backend, &QUdpSocket::connected, this, [this, s] {
        for (const QByteArray &d : std::as_const(s->queue)) {
            if (s->backend->write(d) < 0 && m_ctx->stats)
                m_ctx->stats->addError();
        }
        s->queue.clear();
    });
    connect(s->backend, &QUdpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        if (m_ctx->stats)
            m_ctx->stats->addError();
    });
    m_sessions.insert(key, s);
    if (m_ctx->stats)
        m_ctx->stats->connectionOpened();
    // A literal address connects at once; a name is looked up asynchronously by Qt.
    s->backend->connectToHost(route->target.host, route->target.port);
    return s;
}

void UdpRelay::readBackend(Session *s) {
    for (int i = 0; i < kMaxReadsPerWake && s->backend->hasPendingDatagrams(); ++i) {
        const QNetworkDatagram dg = s->backend->receiveDatagram(kMaxDatagram);
        if (!dg.isValid())
            break;
        s->lastActivity = m_clock.elapsed();
        s->lastUse = ++m_useCounter;
        if (!m_socket)
            continue;
        const QByteArray data = dg.data();
        if (m_socket->writeDatagram(data, s->address, s->port) >= 0) {
            if (m_ctx->stats)
                m_ctx->stats->addOut(quint64(data.size()));
        } else if (m_ctx->stats) {
            m_ctx->stats->addError();
        }
    }
    if (s->backend->hasPendingDatagrams()) {
        const QByteArray key = s->key;
        QMetaObject::invokeMethod(
            this,
            [this, key] {
                if (Session *again = m_sessions.value(key))
                    readBackend(again);
            },
            Qt::QueuedConnection);
    }
}

void UdpRelay::removeSession(const QByteArray &key) {
    Session *s = m_sessions.take(key);
    if (!s)
        return;
    s->backend->disconnect(this);
    s->backend->close();
    s->backend->deleteLater();
    delete s;
    if (m_ctx->stats)
        m_ctx->stats->connectionClosed();
    if (m_sessions.isEmpty())
        Q_EMIT allClosed();
}

void UdpRelay::sweep() {
    const qint64 now = m_clock.elapsed();
    const qint64 idle = qMax(1, m_ctx->config->udpIdleTimeoutMs);
    QList<QByteArray> expired;
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it) {
        if (now - it.value()->lastActivity >= idle)
            expired.append(it.key());
    }
    for (const QByteArray &k : expired)
        removeSession(k);
}

} // namespace portico

#include "udprelay.h"

#include "net/conn/connector.h"
#include "net/listenermanager.h"
#include "net/loop/fdbudget.h"

#include <QHostInfo>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portico {

namespace {
constexpr int kMaxDatagram = 65536;
constexpr int kMaxQueued = 64;        // datagrams held per session while its backend name resolves
constexpr int kMaxReadsPerWake = 256; // then yield to the rest of the worker's event loop

QByteArray sessionKey(const sockaddr_storage &from) {
    const PeerAddress p = PeerAddress::from(reinterpret_cast<const sockaddr *>(&from));
    QByteArray key(18, Qt::Uninitialized);
    std::memcpy(key.data(), p.ip.data(), 16);
    key[16] = char(p.port >> 8);
    key[17] = char(p.port & 0xff);
    return key;
}

thread_local char t_datagram[kMaxDatagram];
} // namespace

struct UdpRelay::Session final : IoHandler {
    UdpRelay *relay = nullptr;
    QByteArray key;
    sockaddr_storage visitor{};
    socklen_t visitorLength = 0;
    int fd = -1;             // connected to the backend
    bool resolving = false;  // the backend is a name being looked up
    QList<QByteArray> queue; // while resolving
    qint64 lastActivity = 0;
    Session *prev = nullptr;                    // older
    Session *next = nullptr;                    // newer
    std::shared_ptr<Session *> self;            // a lookup's way back
    std::shared_ptr<std::atomic<int>> inflight; // the backend's count, while the session lives

    void onIo(quint32) override {
        if (relay) // null once the session ended (an event of the same wake-up may follow)
            relay->readBackend(this);
    }
};

UdpRelay::UdpRelay(std::shared_ptr<const UdpRelayContext> context, QObject *parent)
    : Listener(parent), m_ctx(std::move(context)) {}

UdpRelay::~UdpRelay() {
    m_closing = true;
    m_sweep.cancel();
    while (m_oldest)
        removeSession(m_oldest);
    if (m_fd >= 0)
        ::close(m_fd);
}

bool UdpRelay::start(int fd, QString *error) {
    m_loop = EventLoop::current();
    if (!m_loop || !m_loop->add(fd, EPOLLIN, this)) {
        if (error)
            *error = m_loop ? QStringLiteral("cannot watch the UDP socket")
                            : QStringLiteral("this thread has no portico event loop");
        ::close(fd);
        return false;
    }
    m_fd = fd;
    return true;
}

void UdpRelay::stopAccepting() {
    if (m_fd >= 0) {
        ::close(m_fd); // leaves the loop with it
        m_fd = -1;
    }
    m_sweep.cancel();
    while (m_oldest)
        removeSession(m_oldest);
}

void UdpRelay::addError(ErrorKind kind) {
    if (m_ctx->stats)
        m_ctx->stats->addError(kind);
}

void UdpRelay::onIo(quint32) {
    readVisitors();
}

void UdpRelay::readVisitors() {
    for (int i = 0; i < kMaxReadsPerWake && m_fd >= 0; ++i) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            ::recvfrom(m_fd, t_datagram, kMaxDatagram, MSG_TRUNC, reinterpret_cast<sockaddr *>(&from), &len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // EAGAIN, or an error report that the next read clears
        }
        if (n > kMaxDatagram) { // cannot happen for UDP over IP, but never relay a cut datagram
            addError(ErrorKind::Client);
            continue;
        }
        if (m_ctx->stats) {
            m_ctx->stats->addRequest();
            m_ctx->stats->addIn(quint64(n));
        }
        Session *s = sessionFor(from, len);
        if (!s)
            continue;
        touch(s);
        if (s->resolving) {
            if (s->queue.size() < kMaxQueued)
                s->queue.append(QByteArray(t_datagram, qsizetype(n)));
            else
                addError(ErrorKind::Limit);
            continue;
        }
        sendToBackend(s, t_datagram, size_t(n));
    }
}

void UdpRelay::sendToBackend(Session *s, const char *data, size_t length) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (::send(s->fd, data, length, MSG_NOSIGNAL) >= 0)
            return;
        // ECONNREFUSED: an earlier datagram met a closed port (ICMP); the error is
        // reported once and cleared, and this datagram was not sent: send it again.
        if (errno != ECONNREFUSED && errno != EINTR)
            break;
        if (errno == ECONNREFUSED)
            addError(ErrorKind::Backend);
    }
    addError(ErrorKind::Backend);
}

UdpRelay::Session *UdpRelay::sessionFor(const sockaddr_storage &from, socklen_t length) {
    const QByteArray key = sessionKey(from);
    if (Session *s = m_sessions.value(key))
        return s;

    const auto table = m_ctx->routes ? m_ctx->routes->current() : nullptr;
    const ProjectRoute *route = table ? table->project(m_ctx->project) : nullptr;
    const BackendTarget &target = route ? route->targetFor(m_ctx->port) : BackendTarget::none();
    if (target.kind != BackendTarget::Kind::Tcp) {
        addError(ErrorKind::Unavailable);
        return nullptr;
    }
    const int cap = qMax(1, m_ctx->config->udpMaxSessions);
    while (m_count >= cap && m_oldest) {
        qCDebug(lcNet) << "udp" << m_ctx->project << "at its session cap; evicting the oldest";
        removeSession(m_oldest);
    }
    FdBudget *budget = m_loop->budget();
    if (budget && !budget->take(1)) {
        addError(ErrorKind::Limit);
        return nullptr;
    }

    auto *s = new Session;
    s->relay = this;
    s->key = key;
    s->visitor = from;
    s->visitorLength = length;
    s->lastActivity = m_loop->now();
    s->inflight = route->inflight;
    if (s->inflight)
        s->inflight->fetch_add(1, std::memory_order_relaxed);
    m_sessions.insert(key, s);
    ++m_count;
    s->prev = m_newest;
    (m_newest ? m_newest->next : m_oldest) = s;
    m_newest = s;
    if (m_ctx->stats)
        m_ctx->stats->connectionOpened();
    if (!m_sweep.armed())
        m_loop->arm(m_sweep, qMax(1, m_ctx->config->udpIdleTimeoutMs));

    const auto open = [this, s, budget](const sockaddr *address, socklen_t len) {
        s->fd = ::socket(address->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0 || ::connect(s->fd, address, len) != 0 || !m_loop->add(s->fd, EPOLLIN, s)) {
            if (s->fd >= 0)
                ::close(s->fd);
            s->fd = -1;
            return false;
        }
        (void)budget;
        return true;
    };
    sockaddr_storage ss;
    socklen_t len = 0;
    if (Connector::parseLiteral(target.host, target.port, &ss, &len)) {
        if (!open(reinterpret_cast<const sockaddr *>(&ss), len)) {
            addError(ErrorKind::Backend);
            removeSession(s);
            return nullptr;
        }
        return s;
    }
    // A name: resolved off the worker; datagrams wait (bounded) meanwhile.
    s->resolving = true;
    s->self = std::make_shared<Session *>(s);
    std::weak_ptr<Session *> weak = s->self;
    const quint16 port = target.port;
    QHostInfo::lookupHost(target.host, m_loop, [this, weak, port, open](const QHostInfo &info) {
        const auto self = weak.lock();
        if (!self || !*self)
            return;
        Session *s = *self;
        s->resolving = false;
        bool ok = false;
        for (const QHostAddress &a : info.addresses()) {
            sockaddr_storage ss;
            socklen_t len = 0;
            if (Connector::parseLiteral(a.toString(), port, &ss, &len) &&
                open(reinterpret_cast<const sockaddr *>(&ss), len)) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            addError(ErrorKind::Backend);
            removeSession(s);
            return;
        }
        for (const QByteArray &d : std::as_const(s->queue))
            sendToBackend(s, d.constData(), size_t(d.size()));
        s->queue.clear();
    });
    return s;
}

void UdpRelay::readBackend(Session *s) {
    for (int i = 0; i < kMaxReadsPerWake && s->fd >= 0; ++i) {
        const ssize_t n = ::recv(s->fd, t_datagram, kMaxDatagram, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECONNREFUSED) { // the backend's port was closed when we sent
                addError(ErrorKind::Backend);
                continue;
            }
            return;
        }
        touch(s);
        if (m_fd < 0)
            continue;
        if (::sendto(m_fd, t_datagram, size_t(n), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr *>(&s->visitor), s->visitorLength) >= 0) {
            if (m_ctx->stats)
                m_ctx->stats->addOut(quint64(n));
        } else {
            addError(ErrorKind::Backend);
        }
    }
}

void UdpRelay::touch(Session *s) {
    s->lastActivity = m_loop->now();
    if (s == m_newest)
        return;
    // Unlink and append as the newest.
    (s->prev ? s->prev->next : m_oldest) = s->next;
    (s->next ? s->next->prev : m_newest) = s->prev;
    s->prev = m_newest;
    s->next = nullptr;
    (m_newest ? m_newest->next : m_oldest) = s;
    m_newest = s;
}

void UdpRelay::removeSession(Session *s) {
    (s->prev ? s->prev->next : m_oldest) = s->next;
    (s->next ? s->next->prev : m_newest) = s->prev;
    m_sessions.remove(s->key);
    --m_count;
    if (s->self)
        *s->self = nullptr;
    if (s->inflight)
        s->inflight->fetch_sub(1, std::memory_order_relaxed);
    s->inflight.reset();
    if (s->fd >= 0)
        ::close(s->fd);
    if (FdBudget *budget = m_loop ? m_loop->budget() : nullptr)
        budget->give(1);
    if (m_ctx->stats)
        m_ctx->stats->connectionClosed();
    // An event for its socket may still be in this batch: freed after it.
    struct Holder final : Retirable {
        std::unique_ptr<Session> s;
    };
    auto holder = std::make_unique<Holder>();
    holder->s.reset(s);
    s->fd = -1;
    s->relay = nullptr;
    m_loop->retire(std::move(holder));
    if (m_count == 0 && !m_closing)
        Q_EMIT allClosed();
}

void UdpRelay::sweep() {
    const qint64 idle = qMax(1, m_ctx->config->udpIdleTimeoutMs);
    const qint64 now = m_loop->now();
    while (m_oldest && now - m_oldest->lastActivity >= idle)
        removeSession(m_oldest);
    if (m_oldest)
        m_loop->arm(m_sweep, int(qMax<qint64>(1, m_oldest->lastActivity + idle - now)));
}

} // namespace portico

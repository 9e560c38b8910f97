#include "connector.h"

#include "net/loop/eventloop.h"
#include "net/loop/fdbudget.h"
#include "socket.h"

#include <QFile>
#include <QHostInfo>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portico {

namespace {

const char *connectError(int err) {
    switch (err) {
    case ECONNREFUSED:
        return "connection refused";
    case ETIMEDOUT:
        return "connection timed out";
    case EHOSTUNREACH:
    case ENETUNREACH:
        return "no route to the backend";
    case EAGAIN:
        return "backend's accept queue is full";
    case ENOENT:
        return "no socket at the backend's path";
    case EACCES:
    case EPERM:
        return "permission denied";
    case EMFILE:
    case ENFILE:
        return "out of descriptors";
    default:
        return "connection failed";
    }
}

bool toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage *ss, socklen_t *len) {
    std::memset(ss, 0, sizeof *ss);
    bool v4 = false;
    const quint32 ip4 = address.toIPv4Address(&v4);
    if (v4) {
        auto *sin = reinterpret_cast<sockaddr_in *>(ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(ip4);
        *len = sizeof(sockaddr_in);
        return true;
    }
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return false;
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    const Q_IPV6ADDR a = address.toIPv6Address();
    std::memcpy(&sin6->sin6_addr, a.c, 16);
    *len = sizeof(sockaddr_in6);
    return true;
}

} // namespace

Connector::~Connector() {
    cancel();
}

void Connector::cancel() {
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    m_lookupId = -1;
    if (m_self)
        *m_self = nullptr;
    m_self.reset();
    m_state = State::Idle;
    m_candidates.clear();
}

bool Connector::parseLiteral(const QString &host, quint16 port, sockaddr_storage *out, socklen_t *len) {
    char text[INET6_ADDRSTRLEN + 1];
    if (host.isEmpty() || host.size() > INET6_ADDRSTRLEN)
        return false;
    for (qsizetype i = 0; i < host.size(); ++i) {
        const char16_t c = host.at(i).unicode();
        if (c > 0x7f)
            return false;
        text[i] = char(c);
    }
    text[host.size()] = '\0';
    std::memset(out, 0, sizeof *out);
    auto *sin = reinterpret_cast<sockaddr_in *>(out);
    if (::inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof(sockaddr_in);
        return true;
    }
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(out);
    if (::inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

Connector::Status Connector::fail(const char *why) {
    m_error = why;
    m_state = State::Idle;
    m_candidates.clear();
    if (m_socket)
        m_socket->close();
    return Status::Failed;
}

Connector::Status Connector::start(const BackendTarget &target, Socket *socket, EventLoop *loop,
                                   IoHandler *handler, ConnectWaiter *waiter) {
    cancel();
    m_socket = socket;
    m_loop = loop;
    m_handler = handler;
    m_waiter = waiter;
    m_error = "";
    if (target.kind == BackendTarget::Kind::Unix) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        const QByteArray p = QFile::encodeName(target.unixPath);
        if (p.isEmpty() || p.size() >= qsizetype(sizeof sun.sun_path))
            return fail("backend socket path too long");
        std::memcpy(sun.sun_path, p.constData(), size_t(p.size()));
        return connectTo(reinterpret_cast<const sockaddr *>(&sun), sizeof sun);
    }
    if (target.kind != BackendTarget::Kind::Tcp)
        return fail("no backend address");
    sockaddr_storage ss;
    socklen_t len = 0;
    if (parseLiteral(target.host, target.port, &ss, &len))
        return connectTo(reinterpret_cast<const sockaddr *>(&ss), len);

    // A name: Qt's resolver runs it on its own threads; the answer comes back as a queued
    // call on this thread (the loop is the context object).
    m_state = State::Resolving;
    m_port = target.port;
    m_self = std::make_shared<Connector *>(this);
    std::weak_ptr<Connector *> weak = m_self;
    m_lookupId = QHostInfo::lookupHost(target.host, loop, [weak](const QHostInfo &info) {
        const auto self = weak.lock();
        if (!self || !*self)
            return;
        Connector *c = *self;
        c->m_lookupId = -1;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            c->fail("backend name did not resolve");
            c->m_waiter->onConnectDecided(false);
            return;
        }
        c->m_candidates = info.addresses();
        const Status s = c->tryNext();
        if (s != Status::InProgress)
            c->m_waiter->onConnectDecided(s == Status::Connected);
    });
    return Status::InProgress;
}

Connector::Status Connector::tryNext() {
    while (!m_candidates.isEmpty()) {
        sockaddr_storage ss;
        socklen_t len = 0;
        if (!toSockaddr(m_candidates.takeFirst(), m_port, &ss, &len))
            continue;
        const Status s = connectTo(reinterpret_cast<const sockaddr *>(&ss), len);
        if (s != Status::Failed)
            return s;
    }
    return Status::Failed;
}

Connector::Status Connector::connectTo(const sockaddr *address, socklen_t length) {
    FdBudget *budget = m_loop->budget();
    if (budget && !budget->take(1))
        return fail("out of descriptors");
    const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (budget)
            budget->give(1);
        return fail(connectError(errno));
    }
    if (address->sa_family != AF_UNIX) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    m_socket->adopt(fd, budget);
    const int r = ::connect(fd, address, length);
    const int err = r == 0 ? 0 : errno;
    if (r != 0 && err != EINPROGRESS) {
        m_error = connectError(err);
        m_socket->close();
        if (!m_candidates.isEmpty())
            return tryNext();
        return fail(m_error);
    }
    if (!m_socket->watch(m_loop, m_handler))
        return fail("cannot watch the backend socket");
    if (r == 0) {
        m_state = State::Idle;
        return Status::Connected;
    }
    m_socket->expectConnect();
    m_state = State::Connecting;
    return Status::InProgress;
}

Connector::Status Connector::progress() {
    if (m_state == State::Resolving)
        return Status::InProgress;
    if (m_state != State::Connecting)
        return m_socket && m_socket->isOpen() ? Status::Connected : Status::Failed;
    if (!m_socket->writable())
        return Status::InProgress; // an event that does not decide the connect
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(m_socket->fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        m_state = State::Idle;
        return Status::Connected;
    }
    if (err == EINPROGRESS || err == EALREADY)
        return Status::InProgress;
    m_error = connectError(err);
    m_socket->close();
    if (!m_candidates.isEmpty()) {
        const Status s = tryNext();
        return s;
    }
    return fail(m_error);
}

} // namespace portico

#include "relayutil.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portico::test {

namespace {

socklen_t toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage *ss) {
    std::memset(ss, 0, sizeof *ss);
    bool ok = false;
    const quint32 v4 = address.toIPv4Address(&ok);
    if (ok) {
        auto *sin = reinterpret_cast<sockaddr_in *>(ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(v4);
        return sizeof(sockaddr_in);
    }
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    const Q_IPV6ADDR a = address.toIPv6Address();
    std::memcpy(&sin6->sin6_addr, a.c, 16);
    return sizeof(sockaddr_in6);
}

quint16 portOf(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

// Waits for fd to become readable/writable before the deadline.
bool waitFor(int fd, short events, const QDeadlineTimer &deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const qint64 left = deadline.remainingTime();
        if (left == 0)
            return false;
        const int r = ::poll(&p, 1, int(qMin<qint64>(left < 0 ? 1000 : left, 1000)));
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
        if (deadline.hasExpired())
            return false;
    }
}

} // namespace

int tcpListen(const QHostAddress &address, quint16 *port, int backlog) {
    sockaddr_storage ss{};
    const socklen_t len = toSockaddr(address, *port, &ss);
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
        ::close(fd);
        return -1;
    }
    *port = portOf(fd);
    return fd;
}

int tcpConnect(const QHostAddress &address, quint16 port, int timeoutMs) {
    sockaddr_storage ss{};
    const socklen_t len = toSockaddr(address, port, &ss);
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) {
        if (errno != EINPROGRESS || !waitFor(fd, POLLOUT, QDeadlineTimer(timeoutMs))) {
            ::close(fd);
            return -1;
        }
        int err = 0;
        socklen_t l = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0) {
            ::close(fd);
            return -1;
        }
    }
    // Blocking from here on; every read/write below still polls with a deadline first.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int acceptWithin(int listenFd, int timeoutMs) {
    if (!waitFor(listenFd, POLLIN, QDeadlineTimer(timeoutMs)))
        return -1;
    return ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
}

bool sendAll(int fd, const QByteArray &data, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    qsizetype off = 0;
    while (off < data.size()) {
        if (!waitFor(fd, POLLOUT, deadline))
            return false;
        const ssize_t n =
            ::send(fd, data.constData() + off, size_t(data.size() - off), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return false;
        off += n;
    }
    return true;
}

QByteArray recvExactly(int fd, qsizetype n, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    QByteArray out;
    out.reserve(n);
    char buf[65536];
    while (out.size() < n) {
        if (!waitFor(fd, POLLIN, deadline))
            break;
        const ssize_t r = ::recv(fd, buf, size_t(qMin<qsizetype>(sizeof buf, n - out.size())), MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        out.append(buf, r);
    }
    return out;
}

QByteArray recvUntilEof(int fd, int timeoutMs, bool *eof, qsizetype max) {
    const QDeadlineTimer deadline(timeoutMs);
    QByteArray out;
    char buf[65536];
    *eof = false;
    while (out.size() < max) {
        if (!waitFor(fd, POLLIN, deadline))
            break;
        const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            *eof = true;
            break;
        }
        out.append(buf, r);
    }
    return out;
}

qint64 waitClosed(int fd, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (!waitFor(fd, POLLIN, deadline))
            return -1;
        char c;
        const ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r > 0)
            return -2;
        return 0;
    }
}

void closeFd(int fd) {
    if (fd >= 0)
        ::close(fd);
}

std::optional<ProxyHeader> readProxyHeader(int fd, int timeoutMs, QString *error) {
    auto fail = [error](const QString &m) -> std::optional<ProxyHeader> {
        if (error)
            *error = m;
        return std::nullopt;
    };
    const QByteArray first = recvExactly(fd, 5, timeoutMs);
    if (first.size() < 5)
        return fail(QStringLiteral("short header"));
    ProxyHeader h;
    if (first == "PROXY") {
        h.version = 1;
        QByteArray line = first;
        while (!line.endsWith("\r\n")) {
            if (line.size() > 107)
                return fail(QStringLiteral("v1 line over 107 bytes"));
            const QByteArray c = recvExactly(fd, 1, timeoutMs);
            if (c.isEmpty())
                return fail(QStringLiteral("v1 line cut"));
            line += c;
        }
        const QList<QByteArray> parts = line.chopped(2).split(' ');
        if (parts.value(1) == "UNKNOWN") {
            h.unknown = true;
            return h;
        }
        if (parts.size() != 6 || (parts[1] != "TCP4" && parts[1] != "TCP6"))
            return fail(QStringLiteral("bad v1 line: ") + QString::fromLatin1(line));
        h.source = QHostAddress(QString::fromLatin1(parts[2]));
        h.destination = QHostAddress(QString::fromLatin1(parts[3]));
        h.sourcePort = quint16(parts[4].toUInt());
        h.destinationPort = quint16(parts[5].toUInt());
        const auto expected =
            parts[1] == "TCP4" ? QAbstractSocket::IPv4Protocol : QAbstractSocket::IPv6Protocol;
        if (h.source.protocol() != expected || h.destination.protocol() != expected)
            return fail(QStringLiteral("v1 addresses do not match the family"));
        return h;
    }
    const QByteArray rest = recvExactly(fd, 11, timeoutMs);
    const QByteArray head = first + rest;
    static const QByteArray sig("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);
    if (head.size() < 16 || head.left(12) != sig)
        return fail(QStringLiteral("neither v1 nor v2 signature"));
    h.version = 2;
    const quint8 verCmd = quint8(head[12]);
    const quint8 fam = quint8(head[13]);
    const int len = (quint8(head[14]) << 8) | quint8(head[15]);
    if ((verCmd >> 4) != 2)
        return fail(QStringLiteral("v2 version nibble"));
    const QByteArray body = recvExactly(fd, len, timeoutMs);
    if (body.size() != len)
        return fail(QStringLiteral("v2 body cut"));
    if ((verCmd & 0x0f) == 0 || fam == 0x00) {
        h.unknown = true;
        return h;
    }
    auto u16 = [&body](int at) { return quint16((quint8(body[at]) << 8) | quint8(body[at + 1])); };
    if (fam == 0x11 && len >= 12) {
        auto u32 = [&body](int at) {
            return (quint32(quint8(body[at])) << 24) | (quint32(quint8(body[at + 1])) << 16) |
                   (quint32(quint8(body[at + 2])) << 8) | quint32(quint8(body[at + 3]));
        };
        h.source = QHostAddress(u32(0));
        h.destination = QHostAddress(u32(4));
        h.sourcePort = u16(8);
        h.destinationPort = u16(10);
        return h;
    }
    if (fam == 0x21 && len >= 36) {
        h.source = QHostAddress(reinterpret_cast<const quint8 *>(body.constData()));
        h.destination = QHostAddress(reinterpret_cast<const quint8 *>(body.constData() + 16));
        h.sourcePort = u16(32);
        h.destinationPort = u16(34);
        return h;
    }
    return fail(QStringLiteral("unsupported v2 family %1").arg(fam));
}

ChunkSource::ChunkSource(quint64 seed) {
    m_block.resize(1024 * 1024);
    QRandomGenerator gen(quint32(seed ^ (seed >> 32)));
    gen.fillRange(reinterpret_cast<quint32 *>(m_block.data()), m_block.size() / 4);
}

QByteArray ChunkSource::chunk(quint64 index, qsizetype size) const {
    QByteArray c = m_block.left(qMin(size, m_block.size()));
    // Rotate the block by the index too, so chunks differ beyond their stamp.
    const qsizetype shift = qsizetype((index * 7919) % quint64(c.size()));
    c = c.mid(shift) + c.left(shift);
    for (size_t i = 0; i < sizeof index && qsizetype(i) < c.size(); ++i)
        c[qsizetype(i)] = char((index >> (8 * i)) & 0xff);
    return c;
}

qint64 sendUntilPushedBack(int fd, quint64 seed, qint64 ceiling, QCryptographicHash *sent, int budgetMs) {
    ChunkSource source(seed);
    qint64 written = 0;
    const QDeadlineTimer budget(budgetMs);
    for (quint64 i = 0; written < ceiling && !budget.hasExpired(); ++i) {
        const QByteArray c = source.chunk(i, 64 * 1024);
        qsizetype off = 0;
        while (off < c.size()) {
            const ssize_t n =
                ::send(fd, c.constData() + off, size_t(c.size() - off), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                off += n;
                continue;
            }
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 500) == 0)
                break; // stalled for half a second: pushed back
        }
        sent->addData(QByteArrayView(c.constData(), off));
        written += off;
        if (off < c.size())
            break;
    }
    return written;
}

// ---- EchoServer ----

EchoServer::EchoServer() : m_thread(std::make_unique<QThread>()) {
    m_thread->setObjectName(QStringLiteral("echo-backend"));
    m_root = new QObject;
    m_root->moveToThread(m_thread.get());
    QObject::connect(m_thread.get(), &QThread::finished, m_root, &QObject::deleteLater);
    m_thread->start();
    QMetaObject::invokeMethod(
        m_root,
        [this] {
            auto *server = new QTcpServer(m_root);
            server->setListenBacklogSize(4096);
            server->listen(QHostAddress::LocalHost, 0);
            m_port = server->serverPort();
            QObject::connect(server, &QTcpServer::pendingConnectionAvailable, server, [this, server] {
                while (QTcpSocket *s = server->nextPendingConnection()) {
                    ++m_accepted;
                    QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
                    QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                }
            });
        },
        Qt::BlockingQueuedConnection);
}

EchoServer::~EchoServer() {
    m_thread->quit();
    m_thread->wait();
}

// ---- UdpEchoServer ----

UdpEchoServer::UdpEchoServer(const QHostAddress &address, quint16 port) {
    sockaddr_storage ss{};
    const socklen_t len = toSockaddr(address, port, &ss);
    m_fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::pipe(m_wake) != 0) {
        closeFd(m_fd);
        m_fd = -1;
        return;
    }
    m_port = portOf(m_fd);
    m_thread = std::thread([this] { run(); });
}

UdpEchoServer::~UdpEchoServer() {
    if (m_thread.joinable()) {
        const char c = 'q';
        (void)!::write(m_wake[1], &c, 1);
        m_thread.join();
    }
    closeFd(m_fd);
    closeFd(m_wake[0]);
    closeFd(m_wake[1]);
}

QSet<quint16> UdpEchoServer::sourcePorts() const {
    std::lock_guard lock(m_mutex);
    return m_sources;
}

quint16 UdpEchoServer::sourceOf(const QByteArray &payload) const {
    std::lock_guard lock(m_mutex);
    return m_sourceOf.value(payload);
}

void UdpEchoServer::run() {
    char buf[65536];
    for (;;) {
        pollfd p[2] = {{m_fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        if (::poll(p, 2, 1000) < 0 && errno != EINTR)
            return;
        if (p[1].revents)
            return;
        if (!(p[0].revents & POLLIN))
            continue;
        for (;;) {
            sockaddr_storage from{};
            socklen_t fromLen = sizeof from;
            const ssize_t n =
                ::recvfrom(m_fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&from), &fromLen);
            if (n < 0)
                break;
            ++m_datagrams;
            {
                std::lock_guard lock(m_mutex);
                const quint16 source = from.ss_family == AF_INET6
                                           ? ntohs(reinterpret_cast<sockaddr_in6 *>(&from)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in *>(&from)->sin_port);
                m_sources.insert(source);
                if (m_sourceOf.size() < 100000)
                    m_sourceOf.insert(QByteArray(buf, n), source);
            }
            ::sendto(m_fd, buf, size_t(n), 0, reinterpret_cast<sockaddr *>(&from), fromLen);
        }
    }
}

} // namespace portico::test

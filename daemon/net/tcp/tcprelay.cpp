#include "tcprelay.h"

#include "net/listenermanager.h"
#include "net/proxyprotocol.h"

#include <QFile>
#include <QHostInfo>
#include <QSocketNotifier>
#include <QTimer>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portico {

// One direction of the relay. The buffer holds [head, tail) not yet written to the sink.
struct TcpRelay::Pipe {
    int from = -1;
    int to = -1;
    std::unique_ptr<char[]> buf;
    qsizetype cap = 0;
    qsizetype head = 0;
    qsizetype tail = 0;
    bool eof = false;                  // the source sent FIN
    bool shut = false;                 // ... and it was passed on (shutdown(SHUT_WR) on the sink)
    bool inbound = true;               // visitor -> backend (counts as bytes in)
    QSocketNotifier *reader = nullptr; // on from
    QSocketNotifier *writer = nullptr; // on to
    qsizetype pending() const { return tail - head; }
};

namespace {

void setNoDelay(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool endpoint(int fd, bool peer, QHostAddress *address, quint16 *port) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    if (r != 0)
        return false;
    address->setAddress(reinterpret_cast<const sockaddr *>(&ss));
    if (ss.ss_family == AF_INET)
        *port = ntohs(reinterpret_cast<const sockaddr_in *>(&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&ss)->sin6_port);
    else
        *port = 0;
    return true;
}

void setNonBlocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

} // namespace

TcpRelay::TcpRelay(int clientFd, std::shared_ptr<const TcpRelayContext> context, QObject *parent)
    : QObject(parent), m_ctx(std::move(context)), m_clientFd(clientFd) {
    setNonBlocking(m_clientFd);
    if (m_ctx->stats)
        m_stats.append(m_ctx->stats);
    m_label = m_ctx->project;
    m_idleMs = m_ctx->config->tcpIdleTimeoutMs;
    m_bufferBytes = m_ctx->config->relayBufferBytes;
}

TcpRelay::TcpRelay(TcpRelayAdoption adoption, QObject *parent)
    : QObject(parent), m_clientFd(adoption.visitorFd), m_backendFd(adoption.backendFd) {
    if (m_clientFd >= 0)
        setNonBlocking(m_clientFd);
    if (m_backendFd >= 0)
        setNonBlocking(m_backendFd);
    m_stats = adoption.stats;
    m_label = adoption.label;
    m_idleMs = adoption.idleTimeoutMs;
    m_bufferBytes = adoption.bufferBytes;
    // The adopter counted the connection as open: from here on it is the relay's.
    m_opened = true;
    m_adoption = std::make_unique<TcpRelayAdoption>(std::move(adoption));
}

TcpRelay::~TcpRelay() {
    // Destroyed without finishing (the listener was closed): release everything now.
    m_destroying = true;
    if (!m_finished)
        finish("listener closed", false);
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
}

void TcpRelay::start() {
    m_clock.start();
    touch();
    if (m_adoption) {
        const std::unique_ptr<TcpRelayAdoption> adoption = std::move(m_adoption);
        if (m_clientFd < 0 || m_backendFd < 0) {
            finish("adopted an invalid descriptor", true);
            return;
        }
        startPipes(adoption->toBackend, adoption->toVisitor);
        return;
    }
    m_opened = true;
    for (const auto &stats : std::as_const(m_stats))
        stats->connectionOpened();

    const auto table = m_ctx->routes ? m_ctx->routes->current() : nullptr;
    const ProjectRoute *route = table ? table->project(m_ctx->project) : nullptr;
    if (!route ||
        (route->target.kind != BackendTarget::Kind::Tcp && route->target.kind != BackendTarget::Kind::Unix)) {
        finish("no backend", true);
        return;
    }

    m_connectTimer = new QTimer(this);
    m_connectTimer->setSingleShot(true);
    connect(m_connectTimer, &QTimer::timeout, this, [this] { finish("backend connect timeout", true); });
    m_connectTimer->start(qMax(1, m_ctx->config->tcpConnectTimeoutMs));
    connectBackend(route->target);
}

void TcpRelay::connectBackend(const BackendTarget &target) {
    if (target.kind == BackendTarget::Kind::Unix) {
        connectUnix(target.unixPath);
        return;
    }
    QHostAddress address;
    if (address.setAddress(target.host)) {
        connectTcp(address, target.port);
        return;
    }
    // A name: resolve asynchronously (never block the worker on DNS).
    const quint16 port = target.port;
    m_lookupId = QHostInfo::lookupHost(target.host, this, [this, port](const QHostInfo &info) {
        m_lookupId = -1;
        if (m_finished)
            return;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            finish("backend name did not resolve", true);
            return;
        }
        // Tried in the resolver's order ("localhost" may give ::1 before 127.0.0.1 while
        // the backend listens on one of them only).
        m_candidates = info.addresses();
        m_candidatePort = port;
        connectTcp(m_candidates.takeFirst(), port);
    });
}

void TcpRelay::connectTcp(const QHostAddress &address, quint16 port) {
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
        std::memcpy(&sin6->sin6_addr, a.c, 16);
        len = sizeof(sockaddr_in6);
    }
    m_backendFd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_backendFd < 0) {
        finish("socket() failed", true);
        return;
    }
    setNoDelay(m_backendFd);
    if (::connect(m_backendFd, reinterpret_cast<sockaddr *>(&ss), len) == 0) {
        onConnected();
        return;
    }
    if (errno != EINPROGRESS) {
        backendRefused();
        return;
    }
    m_connectNotifier = new QSocketNotifier(m_backendFd, QSocketNotifier::Write, this);
    connect(m_connectNotifier, &QSocketNotifier::activated, this, &TcpRelay::onConnectProgress);
}

void TcpRelay::backendRefused() {
    if (m_candidates.isEmpty()) {
        finish("backend refused", true);
        return;
    }
    ::close(m_backendFd);
    m_backendFd = -1;
    connectTcp(m_candidates.takeFirst(), m_candidatePort);
}

void TcpRelay::connectUnix(const QString &path) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(path);
    if (p.isEmpty() || p.size() >= qsizetype(sizeof sun.sun_path)) {
        finish("backend socket path too long", true);
        return;
    }
    std::memcpy(sun.sun_path, p.constData(), size_t(p.size()));
    m_backendFd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_backendFd < 0) {
        finish("socket() failed", true);
        return;
    }
    if (::connect(m_backendFd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) == 0) {
        onConnected();
        return;
    }
    // EAGAIN: the backend's accept queue is full; treated as a refusal, like the kernel
    // would for TCP once the SYN backlog overflows.
    if (errno != EINPROGRESS) {
        finish("backend refused", true);
        return;
    }
    m_connectNotifier = new QSocketNotifier(m_backendFd, QSocketNotifier::Write, this);
    connect(m_connectNotifier, &QSocketNotifier::activated, this, &TcpRelay::onConnectProgress);
}

void TcpRelay::onConnectProgress() {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(m_backendFd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == EINPROGRESS || err == EALREADY)
        return;
    m_connectNotifier->setEnabled(false);
    m_connectNotifier->deleteLater();
    m_connectNotifier = nullptr;
    if (err != 0) {
        backendRefused();
        return;
    }
    onConnected();
}

void TcpRelay::onConnected() {
    if (m_connectTimer)
        m_connectTimer->stop();
    setNoDelay(m_clientFd);
    QByteArray header;
    if (m_ctx->proxyProtocol != ProxyProtocol::None) {
        QHostAddress src, dst;
        quint16 srcPort = 0, dstPort = 0;
        endpoint(m_clientFd, true, &src, &srcPort);
        endpoint(m_clientFd, false, &dst, &dstPort);
        header = buildProxyHeader(m_ctx->proxyProtocol, src, srcPort, dst, dstPort);
    }
    startPipes(header, {});
}

void TcpRelay::startPipes(const QByteArray &toBackend, const QByteArray &toVisitor) {
    const qsizetype bound = qMax<qint64>(4096, m_bufferBytes);
    // A pipe's buffer holds at least what was handed over with it (bounded by the
    // adopter's own buffers), so nothing is dropped and nothing is reordered.
    const auto makePipe = [](int from, int to, qsizetype cap, const QByteArray &initial, bool inbound) {
        auto pipe = std::make_unique<Pipe>();
        pipe->from = from;
        pipe->to = to;
        pipe->cap = qMax(cap, initial.size());
        pipe->buf.reset(new char[size_t(pipe->cap)]);
        if (!initial.isEmpty())
            std::memcpy(pipe->buf.get(), initial.constData(), size_t(initial.size()));
        pipe->tail = initial.size();
        pipe->inbound = inbound;
        return pipe;
    };
    m_up = makePipe(m_clientFd, m_backendFd, bound, toBackend, true);
    m_down = makePipe(m_backendFd, m_clientFd, bound, toVisitor, false);

    m_up->reader = new QSocketNotifier(m_clientFd, QSocketNotifier::Read, this);
    m_up->writer = new QSocketNotifier(m_backendFd, QSocketNotifier::Write, this);
    m_down->reader = new QSocketNotifier(m_backendFd, QSocketNotifier::Read, this);
    m_down->writer = new QSocketNotifier(m_clientFd, QSocketNotifier::Write, this);
    m_up->writer->setEnabled(false);
    m_down->writer->setEnabled(false);
    connect(m_up->reader, &QSocketNotifier::activated, this, [this] { onReadable(*m_up); });
    connect(m_down->reader, &QSocketNotifier::activated, this, [this] { onReadable(*m_down); });
    connect(m_up->writer, &QSocketNotifier::activated, this, [this] { flush(*m_up); });
    connect(m_down->writer, &QSocketNotifier::activated, this, [this] { flush(*m_down); });

    m_idleTimer = new QTimer(this);
    m_idleTimer->setSingleShot(true);
    connect(m_idleTimer, &QTimer::timeout, this, &TcpRelay::onIdleCheck);
    m_idleTimer->start(qMax(1, m_idleMs));
    touch();
    if (m_up->pending() > 0)
        flush(*m_up);
    if (!m_finished && m_down->pending() > 0)
        flush(*m_down);
}

void TcpRelay::onReadable(Pipe &p) {
    if (m_finished)
        return;
    if (p.tail == p.cap && p.head > 0) {
        std::memmove(p.buf.get(), p.buf.get() + p.head, size_t(p.pending()));
        p.tail -= p.head;
        p.head = 0;
    }
    if (p.tail < p.cap) {
        const ssize_t n = ::recv(p.from, p.buf.get() + p.tail, size_t(p.cap - p.tail), 0);
        if (n > 0) {
            p.tail += n;
            touch();
            for (const auto &stats : std::as_const(m_stats)) {
                if (p.inbound)
                    stats->addIn(quint64(n));
                else
                    stats->addOut(quint64(n));
            }
        } else if (n == 0) {
            p.eof = true;
            p.reader->setEnabled(false);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            finish(p.inbound ? "visitor read error" : "backend read error", false);
            return;
        }
    }
    flush(p);
}

void TcpRelay::flush(Pipe &p) {
    if (m_finished)
        return;
    while (p.pending() > 0) {
        const ssize_t n = ::send(p.to, p.buf.get() + p.head, size_t(p.pending()), MSG_NOSIGNAL);
        if (n > 0) {
            p.head += n;
            touch();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        finish(p.inbound ? "backend write error" : "visitor write error", false);
        return;
    }
    if (p.pending() == 0) {
        p.head = p.tail = 0;
        p.writer->setEnabled(false);
        if (p.eof && !p.shut) {
            p.shut = true;
            ::shutdown(p.to, SHUT_WR);
            if (m_up->shut && m_down->shut) {
                finish("done", false);
                return;
            }
        }
    } else {
        p.writer->setEnabled(true);
    }
    // Backpressure: the source is read only while its buffer has room.
    p.reader->setEnabled(!p.eof && p.pending() < p.cap);
}

void TcpRelay::onIdleCheck() {
    const qint64 idle = qMax(1, m_idleMs);
    const qint64 remaining = idle - (m_clock.elapsed() - m_lastActivity);
    if (remaining > 0) {
        m_idleTimer->start(int(remaining));
        return;
    }
    finish("idle timeout", false);
}

void TcpRelay::finish(const char *why, bool error) {
    if (m_finished)
        return;
    m_finished = true;
    qCDebug(lcNet) << "tcp relay for" << m_label << "ends:" << why;
    // Notifiers are unregistered before their descriptors are closed.
    for (QSocketNotifier *n :
         {m_connectNotifier, m_up ? m_up->reader : nullptr, m_up ? m_up->writer : nullptr,
          m_down ? m_down->reader : nullptr, m_down ? m_down->writer : nullptr}) {
        if (n)
            n->setEnabled(false);
    }
    if (m_connectTimer)
        m_connectTimer->stop();
    if (m_idleTimer)
        m_idleTimer->stop();
    for (const auto &stats : std::as_const(m_stats)) {
        if (error)
            stats->addError();
        if (m_opened)
            stats->connectionClosed();
    }
    if (m_clientFd >= 0)
        ::close(m_clientFd);
    if (m_backendFd >= 0)
        ::close(m_backendFd);
    m_clientFd = m_backendFd = -1;
    if (!m_destroying)
        deleteLater();
}

} // namespace portico

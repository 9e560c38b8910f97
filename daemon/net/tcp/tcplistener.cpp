#include "tcplistener.h"

#include "net/conn/connection.h"
#include "net/http/httpconnection.h"
#include "net/listenermanager.h"
#include "net/loop/fdbudget.h"
#include "tcprelay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace portico {

namespace {
// Accepted per wake-up before the loop turns to the other descriptors (level-triggered:
// the rest are taken on the next turn).
constexpr int kAcceptBatch = 64;
// How long a listener rests when descriptors ran out (sooner when a connection ends).
constexpr int kPauseMs = 100;
} // namespace

void Connection::finished() {
    if (m_finished)
        return;
    m_finished = true;
    m_listener->connectionFinished(this);
}

TcpListener::TcpListener(std::shared_ptr<const HttpListenerContext> http,
                         std::shared_ptr<const TcpRelayContext> relay, std::shared_ptr<PortShared> shared,
                         QObject *parent)
    : Listener(parent), m_http(std::move(http)), m_relay(std::move(relay)), m_shared(std::move(shared)) {}

TcpListener::~TcpListener() {
    m_closing = true;
    m_resume.cancel();
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    // Connections go newest first; each ends in connectionFinished(), which unlinks it.
    while (Connection *c = m_first) {
        c->abort();
        if (m_first == c) // abort() must end in finished(); never loop on one that did not
            c->finished();
    }
}

bool TcpListener::start(int listeningFd, QString *error) {
    m_loop = EventLoop::current();
    if (!m_loop) {
        if (error)
            *error = QStringLiteral("this thread has no portico event loop");
        return false;
    }
    m_fd = listeningFd;
    // accept4() must never wait (a descriptor made elsewhere may come blocking).
    ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    // Level-triggered: what one wake-up does not accept is reported again on the next.
    if (!m_loop->add(m_fd, EPOLLIN, this)) {
        if (error)
            *error = QStringLiteral("cannot watch the listening socket");
        m_fd = -1; // the caller still owns it
        return false;
    }
    m_accepting = true;
    return true;
}

void TcpListener::stopAccepting() {
    if (m_accepting || m_paused) {
        m_accepting = false;
        m_paused = false;
        m_resume.cancel();
        if (m_fd >= 0) {
            m_loop->remove(m_fd);
            ::close(m_fd);
            m_fd = -1;
        }
    }
    // Idle keep-alive connections close now and busy ones after their current answer, so
    // a drain ends when the work does rather than at the timeout.
    if (m_http)
        drainHttp();
}

int TcpListener::drainHttp() {
    int remaining = 0;
    for (Connection *c = m_first; c;) {
        Connection *next = c->m_next; // drain() may finish c
        c->drain();
        c = next;
    }
    for (Connection *c = m_first; c; c = c->m_next)
        remaining += c->isHttp() ? 1 : 0;
    return remaining;
}

int TcpListener::httpConnectionCount() const {
    int n = 0;
    for (Connection *c = m_first; c; c = c->m_next)
        n += c->isHttp() ? 1 : 0;
    return n;
}

void TcpListener::onIo(quint32) {
    if (m_accepting)
        acceptSome();
}

void TcpListener::addLimitError() {
    const auto &stats = m_http ? m_http->stats : m_relay->stats;
    if (stats)
        stats->addError(ErrorKind::Limit);
}

void TcpListener::refuse(int fd, const char *why) {
    addLimitError();
    ::close(fd);
    qCDebug(lcNet) << "connection refused:" << why;
}

void TcpListener::acceptSome() {
    FdBudget *budget = m_loop->budget();
    for (int i = 0; i < kAcceptBatch && m_accepting; ++i) {
        // A proxied connection needs a second descriptor for its backend: without room for
        // both, rest rather than accept what cannot be served.
        if (budget && budget->tight(2)) {
            pause();
            return;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(m_fd, reinterpret_cast<sockaddr *>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
                return;
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case EPERM:
                continue;
            case EINVAL: // the port was shut down (drained): its worker closes it next
                m_loop->remove(m_fd);
                m_accepting = false;
                return;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                // Out of descriptors or memory: the pending connections wait in the
                // kernel's backlog while this listener rests (no spinning).
                pause();
                return;
            default:
                qCWarning(lcNet) << "accept failed:" << strerror(errno);
                pause();
                return;
            }
        }
        if (budget && !budget->take(1)) {
            ::close(fd);
            pause();
            return;
        }
        const PeerAddress peer = PeerAddress::from(reinterpret_cast<const sockaddr *>(&ss));
        if (m_shared->live.load(std::memory_order_relaxed) >= m_shared->max) {
            if (budget)
                budget->give(1);
            refuse(fd, "the port is at its connection limit");
            continue;
        }
        if (!m_shared->sources.acquire(peer)) {
            if (budget)
                budget->give(1);
            refuse(fd, "the client address is at its connection limit");
            continue;
        }
        Connection *c = m_http ? static_cast<Connection *>(new http::HttpConnection(m_http))
                               : static_cast<Connection *>(new TcpRelayConnection(m_relay));
        c->m_listener = this;
        c->m_peer = peer;
        c->m_next = m_first;
        if (m_first)
            m_first->m_prev = c;
        m_first = c;
        ++m_count;
        m_shared->live.fetch_add(1, std::memory_order_relaxed);
        c->start(fd); // may finish at once
    }
}

void TcpListener::connectionFinished(Connection *c) {
    (c->m_prev ? c->m_prev->m_next : m_first) = c->m_next;
    if (c->m_next)
        c->m_next->m_prev = c->m_prev;
    c->m_prev = c->m_next = nullptr;
    --m_count;
    m_shared->live.fetch_sub(1, std::memory_order_relaxed);
    m_shared->sources.release(c->m_peer);
    m_loop->retire(std::unique_ptr<Retirable>(c));
    if (m_paused && !m_closing)
        resume(); // a descriptor came free
    if (m_count == 0 && !m_closing)
        Q_EMIT allClosed();
}

void TcpListener::pause() {
    if (m_paused || m_fd < 0)
        return;
    m_paused = true;
    m_accepting = false;
    ++m_pauses;
    m_loop->remove(m_fd);
    m_loop->arm(m_resume, kPauseMs);
    // Loud, but not a line per pause while a flood lasts.
    const qint64 now = m_loop->now();
    if (m_lastPauseLog == 0 || now - m_lastPauseLog >= 10'000) {
        m_lastPauseLog = now;
        const FdBudget *b = m_loop->budget();
        qCWarning(lcNet).nospace() << "out of descriptors (" << (b ? b->used() : -1) << " of "
                                   << (b ? b->limit() : -1) << " in use, " << m_count
                                   << " connections here): not accepting new connections for a moment";
    }
}

void TcpListener::resume() {
    if (!m_paused || m_fd < 0)
        return;
    m_resume.cancel();
    m_paused = false;
    m_accepting = true;
    if (!m_loop->add(m_fd, EPOLLIN, this)) {
        m_accepting = false;
        return;
    }
}

} // namespace portico

#include "adminconnection.h"

#include "adminserver.h" // lcAdmin
#include "dispatcher.h"
#include "protocol.h"

#include <QPointer>
#include <QSocketNotifier>

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace portico {

namespace {
// A client told to go away gets this long to read its last answer.
constexpr int kLingerMs = 2000;
constexpr qsizetype kReadChunk = 64 * 1024;
} // namespace

AdminConnection::AdminConnection(int fd, const PeerInfo &peer, Dispatcher *dispatcher, const Limits &limits,
                                 QObject *parent)
    : QObject(parent), m_fd(fd), m_peer(peer), m_dispatcher(dispatcher), m_limits(limits),
      m_reader(limits.maxLineBytes) {
    m_readNotifier = new QSocketNotifier(qintptr(fd), QSocketNotifier::Read, this);
    m_writeNotifier = new QSocketNotifier(qintptr(fd), QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &AdminConnection::onReadable);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &AdminConnection::onWritable);
    m_lingerTimer.setSingleShot(true);
    m_lingerTimer.setInterval(kLingerMs);
    connect(&m_lingerTimer, &QTimer::timeout, this, &AdminConnection::abort);
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (!isIdle())
            return;
        qCDebug(lcAdmin) << "admin client uid" << m_peer.uid << "pid" << m_peer.pid << "idle for"
                         << m_limits.idleTimeoutMs << "ms; closing";
        abort();
    });
    m_lastActivity.start();
    touch();
    // Data may be waiting already.
    QMetaObject::invokeMethod(this, &AdminConnection::onReadable, Qt::QueuedConnection);
}

AdminConnection::~AdminConnection() {
    // The notifiers go before the descriptor they watch.
    delete m_readNotifier;
    delete m_writeNotifier;
    closeFd();
}

void AdminConnection::closeFd() {
    if (m_fd < 0)
        return;
    if (m_closer)
        m_closer(m_fd);
    else
        ::close(m_fd);
    m_fd = -1;
}

// On a UNIX stream socket, POLLHUP means both directions are shut: the peer closed its
// socket (or shut down both sides), where a half-close (shutdown(SHUT_WR)) only ends
// our input. A zero timeout: this never waits.
bool AdminConnection::peerGone() const {
    pollfd p{m_fd, 0, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

bool AdminConnection::wants(const QString &kind) const {
    return m_subscribed && !m_closing && m_fd >= 0 && (m_kinds.isEmpty() || m_kinds.contains(kind));
}

void AdminConnection::sendEvent(const QString &kind, const QByteArray &line) {
    if (wants(kind))
        send(line);
}

bool AdminConnection::isIdle() const {
    return !m_subscribed && m_inFlight == 0 && pendingOutputBytes() == 0;
}

void AdminConnection::touch() {
    m_lastActivity.restart();
    if (m_limits.idleTimeoutMs > 0 && m_fd >= 0 && isIdle())
        m_idleTimer.start(m_limits.idleTimeoutMs);
    else
        m_idleTimer.stop();
}

void AdminConnection::abort() {
    m_closing = true;
    m_lingerTimer.stop();
    m_idleTimer.stop();
    delete m_readNotifier;
    m_readNotifier = nullptr;
    delete m_writeNotifier;
    m_writeNotifier = nullptr;
    closeFd();
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        Q_EMIT closed();
    }
}

void AdminConnection::onReadable() {
    if (m_fd < 0 || m_closing || m_inputEnded)
        return;
    // Read what is there, a chunk at a time: never more than a line over the limit
    // is buffered, since processLines() consumes or refuses it before the next chunk.
    for (;;) {
        const qsizetype old = m_in.size();
        m_in.resize(old + kReadChunk);
        const ssize_t n = ::read(m_fd, m_in.data() + old, size_t(kReadChunk));
        m_in.resize(old + qMax<ssize_t>(n, 0));
        if (n > 0) {
            processLines();
            if (m_fd < 0 || m_closing)
                return;
            continue;
        }
        if (n == 0) {
            if (peerGone()) {
                // Closed, not half-closed: nobody is left to read an answer.
                abort();
                return;
            }
            // The peer will send nothing more; what it sent is answered before we close.
            m_inputEnded = true;
            if (m_readNotifier)
                m_readNotifier->setEnabled(false);
            if (m_inPos < m_in.size()) {
                // A last request without its newline is still a request.
                const QByteArray rest = m_in.mid(m_inPos);
                m_in.clear();
                m_inPos = 0;
                if (!rest.trimmed().isEmpty() && rest.size() <= m_limits.maxLineBytes)
                    handleLine(rest);
            }
            maybeFinish();
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            abort(); // reset by the peer
        return;
    }
}

void AdminConnection::processLines() {
    while (m_fd >= 0 && !m_closing) {
        QByteArray line;
        const auto status = m_reader.next(m_in, &m_inPos, &line);
        if (status == jsonrpc::LineReader::Status::Incomplete)
            break;
        if (status == jsonrpc::LineReader::Status::TooLong) {
            qCInfo(lcAdmin) << "admin client uid" << m_peer.uid << "sent a line over" << m_limits.maxLineBytes
                            << "bytes; closing";
            send(jsonrpc::Message::error(QJsonValue(QJsonValue::Null), protocol::error::LineTooLong,
                                         QStringLiteral("request line over %1 bytes; closing the connection")
                                             .arg(m_limits.maxLineBytes),
                                         {{QStringLiteral("max_line_bytes"), double(m_limits.maxLineBytes)}})
                     .serialize());
            closeAfterFlush();
            return;
        }
        handleLine(line);
    }
    // Keep what is not a whole line yet at the front.
    if (m_inPos > 0) {
        m_in.remove(0, m_inPos);
        m_inPos = 0;
    }
}

void AdminConnection::handleLine(const QByteArray &line) {
    if (line.trimmed().isEmpty())
        return; // blank lines (e.g. from a hand-typed socat session) are not requests
    touch();
    int code = 0;
    QString error;
    QJsonValue id;
    const auto msg = jsonrpc::Message::parse(line, &code, &error, &id);
    if (!msg) {
        send(jsonrpc::Message::error(id, code, error).serialize());
        return;
    }
    // Only slow operations can pile up; queries answer before the next line is read.
    const bool counted = Dispatcher::isSlow(msg->method());
    if (counted && m_inFlight >= m_limits.maxInFlight) {
        if (msg->isRequest())
            send(jsonrpc::Message::error(
                     msg->id(), protocol::error::Busy,
                     QStringLiteral("too many requests in progress on this connection (max %1)")
                         .arg(m_limits.maxInFlight))
                     .serialize());
        return;
    }
    if (counted)
        ++m_inFlight;
    QPointer<AdminConnection> self(this);
    Dispatcher::Context ctx;
    ctx.peer = m_peer;
    ctx.subscribe = [self](const QStringList &kinds) {
        if (!self)
            return;
        self->m_subscribed = true;
        self->m_kinds = QSet<QString>(kinds.begin(), kinds.end());
        self->touch();
        Q_EMIT self->subscriptionChanged();
    };
    if (counted)
        ctx.finished = [self] {
            if (!self)
                return;
            --self->m_inFlight;
            self->touch();
            self->maybeFinish();
        };
    // The answer may come later, after this client has gone: then it is dropped.
    m_dispatcher->handle(*msg, ctx, [self](const jsonrpc::Message &m) {
        if (self)
            self->send(m.serialize());
    });
}

void AdminConnection::send(const QByteArray &line) {
    if (m_fd < 0)
        return;
    m_out.append(line);
    if (!writeSome())
        return;
    if (pendingOutputBytes() > m_limits.maxQueueBytes) {
        // It stopped reading: cut it rather than buffer for it or slow anyone else down.
        qCWarning(lcAdmin) << "admin client uid" << m_peer.uid << "pid" << m_peer.pid << "stopped reading;"
                           << pendingOutputBytes() << "bytes pending, disconnecting";
        m_closing = true;
        QMetaObject::invokeMethod(this, &AdminConnection::abort, Qt::QueuedConnection);
        return;
    }
    touch();
    maybeFinish();
}

// Writes what the kernel takes now; false when the connection is gone.
bool AdminConnection::writeSome() {
    while (m_outPos < m_out.size()) {
        const ssize_t n =
            ::send(m_fd, m_out.constData() + m_outPos, size_t(m_out.size() - m_outPos), MSG_NOSIGNAL);
        if (n > 0) {
            m_outPos += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        abort(); // the peer is gone (EPIPE, ECONNRESET)
        return false;
    }
    if (m_outPos == m_out.size()) {
        m_out.clear();
        m_outPos = 0;
    } else if (m_outPos > 64 * 1024 && m_outPos > m_out.size() / 2) {
        m_out.remove(0, m_outPos);
        m_outPos = 0;
    }
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(pendingOutputBytes() > 0);
    return true;
}

void AdminConnection::onWritable() {
    if (m_fd < 0 || !writeSome())
        return;
    touch();
    maybeFinish();
}

void AdminConnection::closeAfterFlush() {
    m_closing = true;
    if (m_readNotifier)
        m_readNotifier->setEnabled(false);
    m_lingerTimer.start();
    maybeFinish();
}

void AdminConnection::maybeFinish() {
    if (m_fd < 0 || pendingOutputBytes() > 0)
        return;
    // Told to go: once flushed. Input ended: once every request it sent is answered.
    if (m_closing || (m_inputEnded && m_inFlight == 0))
        abort();
}

} // namespace portico

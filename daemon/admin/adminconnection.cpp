#include "adminconnection.h"

#include "adminserver.h" // lcAdmin
#include "dispatcher.h"
#include "protocol.h"

#include <QLocalSocket>
#include <QPointer>

namespace portico {

namespace {
// A client told to go away gets this long to read its last answer.
constexpr int kLingerMs = 2000;
} // namespace

AdminConnection::AdminConnection(QLocalSocket *socket, const PeerInfo &peer, Dispatcher *dispatcher,
                                 const Limits &limits, QObject *parent)
    : QObject(parent), m_socket(socket), m_peer(peer), m_dispatcher(dispatcher), m_limits(limits),
      m_reader(limits.maxLineBytes) {
    m_socket->setParent(this);
    // Bounds what one client can make the daemon buffer: a line over the limit is seen
    // as soon as the buffer fills, without reading the rest of it.
    m_socket->setReadBufferSize(limits.maxLineBytes + 64 * 1024);
    m_lingerTimer.setSingleShot(true);
    m_lingerTimer.setInterval(kLingerMs);
    connect(&m_lingerTimer, &QTimer::timeout, this, &AdminConnection::abort);
    connect(m_socket, &QLocalSocket::readyRead, this, &AdminConnection::onReadyRead);
    connect(m_socket, &QLocalSocket::disconnected, this, [this] {
        if (!m_closedEmitted) {
            m_closedEmitted = true;
            m_closing = true;
            Q_EMIT closed();
        }
    });
    // Data may have arrived before the signals were connected.
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &AdminConnection::onReadyRead, Qt::QueuedConnection);
}

AdminConnection::~AdminConnection() = default;

bool AdminConnection::wants(const QString &kind) const {
    return m_subscribed && !m_closing && (m_kinds.isEmpty() || m_kinds.contains(kind));
}

void AdminConnection::sendEvent(const QString &kind, const QByteArray &line) {
    if (wants(kind))
        send(line);
}

qint64 AdminConnection::pendingOutputBytes() const {
    return m_socket->bytesToWrite();
}

void AdminConnection::abort() {
    m_closing = true;
    m_socket->abort();
    // abort() emits disconnected only when the socket was connected.
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        Q_EMIT closed();
    }
}

void AdminConnection::send(const QByteArray &line) {
    if (m_socket->state() != QLocalSocket::ConnectedState)
        return;
    m_socket->write(line);
    // Hand it to the kernel now (non-blocking): a client that sends its request and
    // shuts down its side at once (`echo ... | socat`) still gets the answer, since Qt
    // drops unsent bytes when it sees the peer's EOF. What stays queued is what the
    // peer has not read.
    m_socket->flush();
    if (m_socket->bytesToWrite() > m_limits.maxQueueBytes) {
        // It stopped reading: cut it rather than buffer for it or slow anyone else down.
        qCWarning(lcAdmin) << "admin client uid" << m_peer.uid << "pid" << m_peer.pid << "stopped reading;"
                           << m_socket->bytesToWrite() << "bytes pending, disconnecting";
        QMetaObject::invokeMethod(this, &AdminConnection::abort, Qt::QueuedConnection);
        m_closing = true;
    }
}

void AdminConnection::closeAfterFlush() {
    m_closing = true;
    m_lingerTimer.start();
    m_socket->disconnectFromServer();
}

void AdminConnection::onReadyRead() {
    while (!m_closing) {
        QByteArray line;
        const auto status = m_reader.next(m_socket, &line);
        if (status == jsonrpc::LineReader::Status::Incomplete)
            return;
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
        if (line.trimmed().isEmpty())
            continue; // blank lines (e.g. from a hand-typed socat session) are not requests
        int code = 0;
        QString error;
        QJsonValue id;
        const auto msg = jsonrpc::Message::parse(line, &code, &error, &id);
        if (!msg) {
            send(jsonrpc::Message::error(id, code, error).serialize());
            continue;
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
            continue;
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
            Q_EMIT self->subscriptionChanged();
        };
        if (counted)
            ctx.finished = [self] {
                if (self)
                    --self->m_inFlight;
            };
        // The answer may come later, after this client has gone: then it is dropped.
        m_dispatcher->handle(*msg, ctx, [self](const jsonrpc::Message &m) {
            if (!self)
                return;
            self->send(m.serialize());
        });
    }
}

} // namespace portico

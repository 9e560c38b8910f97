// The backend side of a proxied request: a pooled or new backend connection, the request
// head and body (re-framed), the response head (rewritten) and body (re-framed for the
// client), retries on stale pooled connections, and the 101 tunnel.
#include "httpconnection.h"

#include "httprewrite.h"
#include "httpscratch.h"
#include "net/accesslog.h"
#include "net/listenermanager.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <utility>

namespace portico::http {

namespace {

// The Host a request without one gets (HTTP/1.0): the listener's own address and port.
void fallbackHost(char *out, int size, const HttpListenerContext &ctx, int clientFd) {
    if (ctx.port) {
        std::snprintf(out, size_t(size), "127.0.0.1:%u", unsigned(ctx.port));
        return;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(clientFd, reinterpret_cast<sockaddr *>(&ss), &len);
    const PeerAddress local = PeerAddress::from(reinterpret_cast<const sockaddr *>(&ss));
    char text[INET6_ADDRSTRLEN + 1];
    local.format(text);
    std::snprintf(out, size_t(size), local.v4 ? "%s:%u" : "[%s]:%u", text, unsigned(local.port));
}

} // namespace

void HttpConnection::startProxy(const Decision &d) {
    HttpScratch &s = scratch();
    m_target = *d.target;
    m_attempts = 0;
    std::memcpy(m_prefix.data(), d.prefix.data(), size_t(qMin<qsizetype>(d.prefix.size(), 64)));
    m_prefixLength = quint8(qMin<qsizetype>(d.prefix.size(), 64));

    char client[INET6_ADDRSTRLEN + 1];
    const int clientLength = peer().format(client);
    char host[INET6_ADDRSTRLEN + 16] = "";
    if (s.request.host.isNull())
        fallbackHost(host, sizeof host, *m_ctx, m_client.fd());
    buildBackendHead(s.head, {s.request, d.backendTarget, d.prefix, QByteArrayView(client, clientLength),
                              QByteArrayView(host), m_ctx->via});
    const int headLength = int(m_exIn);
    m_in.consume(headLength);
    m_toBackend.clear();
    if (!m_toBackend.append(s.head.data(), s.head.size())) {
        fail(503, QStringLiteral("out of buffer memory"));
        return;
    }
    // A request without a body may be sent again on a fresh connection when a pooled one
    // turns out to have been closed by the backend meanwhile.
    if (m_req.idempotent && m_req.framing == BodyFraming::None && !m_req.upgrade)
        m_retryHead.append(s.head.data(), s.head.size());
    connectBackend(true);
}

void HttpConnection::connectBackend(bool allowPooled) {
    ++m_attempts;
    BackendPool &pool = BackendPool::of(m_loop);
    BackendConn *conn = allowPooled && !m_req.upgrade ? pool.take(m_target) : nullptr;
    m_backendReused = conn != nullptr;
    if (!conn)
        conn = new BackendConn(m_target); // ours until given to the pool or discarded
    conn->user = this;
    m_backend = conn;
    m_phase = Phase::Connecting;
    if (m_backendReused) {
        backendConnected();
        return;
    }
    armTimer(m_cfg.backendConnectTimeoutMs);
    switch (m_connector.start(m_target, &conn->socket, m_loop, conn, this)) {
    case Connector::Status::Connected:
        backendConnected();
        return;
    case Connector::Status::Failed:
        backendRefused();
        return;
    case Connector::Status::InProgress:
        return;
    }
}

void HttpConnection::backendRefused() {
    fail(502, QStringLiteral("backend refused the connection"),
         {{QStringLiteral("project"), m_project},
          {QStringLiteral("reason"), QString::fromLatin1(m_connector.error())}});
}

void HttpConnection::onConnectDecided(bool connected) {
    if (m_done || m_phase != Phase::Connecting)
        return;
    if (connected) {
        backendConnected();
        drive();
    } else {
        backendRefused();
        drive();
    }
}

void HttpConnection::onBackendEvent() {
    if (m_done)
        return;
    if (m_phase == Phase::Connecting) {
        if (!m_backend || !m_connector.connecting())
            return;
        switch (m_connector.progress()) {
        case Connector::Status::Connected:
            backendConnected();
            break;
        case Connector::Status::Failed:
            backendRefused();
            break;
        case Connector::Status::InProgress:
            return;
        }
    }
    drive();
}

void HttpConnection::backendConnected() {
    m_phase = Phase::Exchange;
    m_responseStarted = false;
    m_responseHeadSent = false;
    m_headPending = false;
    m_responseComplete = false;
    m_chunkedToClient = false;
    m_backendKeepAlive = false;
    m_resScanFrom = 0;
    m_resFraming = BodyFraming::None;
    m_resRemaining = 0;
    m_resIn.release();
    armTimer(m_cfg.backendResponseTimeoutMs);
}

bool HttpConnection::sendBackend(const iovec *iov, int count) {
    return m_toBackend.sendOrQueue(m_backend->socket, iov, count);
}

void HttpConnection::exchange() {
    if (!m_backend)
        return;
    Socket &b = m_backend->socket;
    if (!m_toBackend.isEmpty() && b.writable()) {
        if (m_toBackend.writeTo(b) == Socket::kError) {
            backendEof(); // a stale pooled connection, or the backend went away
            return;
        }
        if (!m_responseStarted)
            armTimer(m_cfg.backendResponseTimeoutMs); // the backend is taking the request
    }
    if (!m_req.complete && !pumpRequestBody())
        return;
    const qint64 waiting = m_out.size();
    if (!flushClient())
        return;
    if (m_out.size() < waiting)
        armTimer(m_cfg.backendResponseTimeoutMs); // a client that reads is making progress
    if (!pumpResponse())
        return;
    if (m_phase != Phase::Exchange || !m_responseComplete)
        return;
    if (!m_req.complete) {
        // The backend answered before the whole request body arrived. The rest of the
        // body cannot be skipped reliably, so both connections end here.
        releaseBackend(false);
        endExchange(true);
        return;
    }
    finishExchange();
}

bool HttpConnection::pumpRequestBody() {
    static const char kCrlf[] = "\r\n";
    while (!m_req.complete) {
        if (m_toBackend.size() >= bound())
            return true; // resumed when the backend takes bytes
        if (m_in.isEmpty()) {
            if (m_clientEof) {
                // The client closed in the middle of its body: nothing can be answered.
                teardown();
                return false;
            }
            if (!m_client.readable())
                return true;
            const ssize_t n = m_in.readFrom(m_client, BufferPool::kBlockSize);
            if (n > 0) {
                if (m_connStats)
                    m_connStats->addIn(quint64(n));
                if (!m_responseStarted)
                    armTimer(m_cfg.backendResponseTimeoutMs); // the upload is moving
                continue;
            }
            if (n == 0) {
                m_clientEof = true;
                continue;
            }
            if (n == Socket::kError) {
                teardown();
                return false;
            }
            return true;
        }
        qint64 used = 0;
        bool ok = true;
        if (m_req.framing == BodyFraming::Length) {
            used = qMin<qint64>(m_req.remaining, m_in.size());
            iovec v{const_cast<char *>(m_in.data()), size_t(used)};
            ok = sendBackend(&v, 1);
            m_req.remaining -= used;
            m_req.bodyBytes += quint64(used);
            m_req.complete = m_req.remaining == 0;
        } else {
            qint64 offset = 0;
            qint64 length = 0;
            const ChunkedDecoder::Status st =
                m_reqChunks.next(m_in.data(), m_in.size(), &used, &offset, &length);
            if (st == ChunkedDecoder::Status::Bad) {
                m_in.release();
                fail(400,
                     QStringLiteral("malformed chunked body: %1").arg(QLatin1String(m_reqChunks.error())));
                return false;
            }
            if (st == ChunkedDecoder::Status::Data) {
                std::string size;
                appendHex(size, quint64(length));
                size += "\r\n";
                iovec v[3] = {{size.data(), size.size()},
                              {const_cast<char *>(m_in.data() + offset), size_t(length)},
                              {const_cast<char *>(kCrlf), 2}};
                ok = sendBackend(v, 3);
                m_req.bodyBytes += quint64(length);
            } else if (st == ChunkedDecoder::Status::Done) {
                iovec v{const_cast<char *>("0\r\n\r\n"), 5}; // trailers are dropped
                ok = sendBackend(&v, 1);
                m_req.complete = true;
            }
        }
        m_exIn += quint64(used);
        if (m_projStats)
            m_projStats->addIn(quint64(used));
        m_in.consume(int(used));
        if (!ok) {
            fail(502, QStringLiteral("backend closed the connection during the request"));
            return false;
        }
        if (m_cfg.maxBodyBytes > 0 && m_req.bodyBytes > quint64(m_cfg.maxBodyBytes)) {
            fail(413, QStringLiteral("request body larger than %1 bytes").arg(m_cfg.maxBodyBytes));
            return false;
        }
    }
    return true;
}

bool HttpConnection::pumpResponse() {
    Socket &b = m_backend->socket;
    const int headLimit = m_cfg.maxHeaderBytes;
    while (!m_responseComplete && m_phase == Phase::Exchange) {
        if (m_out.size() >= bound())
            return true; // resumed when the client reads
        if (m_responseHeadSent && !m_resIn.isEmpty()) {
            if (!forwardResponseBody())
                return false;
            continue;
        }
        if (!m_responseHeadSent && !m_resIn.isEmpty()) {
            const HeadScan scan = scanHead(m_resIn.view(), headLimit, m_resScanFrom);
            if (scan.result == HeadScan::Result::Complete) {
                m_resScanFrom = 0;
                if (!handleResponseHead(scan.length))
                    return false;
                continue;
            }
            if (scan.result != HeadScan::Result::Incomplete) {
                fail(502, QStringLiteral("invalid answer from backend"));
                return false;
            }
            m_resScanFrom = scan.resumeAt;
        }
        if (!b.readable())
            return true;
        const ssize_t n = m_resIn.readFrom(b, m_responseHeadSent ? BufferPool::kBlockSize : headLimit + 1);
        if (n > 0) {
            if (!m_responseStarted) {
                m_responseStarted = true;
                m_retryHead.clear(); // the backend answered: no retry from here on
            }
            armTimer(m_cfg.backendResponseTimeoutMs);
            continue;
        }
        if (n == 0 || n == Socket::kError) {
            backendEof();
            return false;
        }
        return true; // kAgain
    }
    return true;
}

bool HttpConnection::handleResponseHead(int headLength) {
    HttpScratch &s = scratch();
    ParsedHead &res = s.response;
    const HeadError error =
        parseResponseHead(QByteArrayView(m_resIn.data(), headLength), m_cfg.maxHeaderCount, &res);
    if (error) {
        fail(502, QStringLiteral("invalid answer from backend"));
        return false;
    }
    const bool client11 = m_req.major == 1 && m_req.minor >= 1;
    if (res.status >= 100 && res.status < 200 && res.status != 101) {
        // 100 Continue, 103 Early Hints: passed to HTTP/1.1 clients; the final answer follows.
        if (client11) {
            buildInterimHead(s.head, res);
            m_resIn.consume(headLength);
            return sendClient(QByteArrayView(s.head.data(), qsizetype(s.head.size())));
        }
        m_resIn.consume(headLength);
        return true;
    }
    if (res.status == 101) {
        if (!m_req.upgrade) {
            fail(502, QStringLiteral("backend switched protocols unasked"));
            return false;
        }
        buildSwitchingHead(s.head, res);
        m_resIn.consume(headLength);
        m_status = 101;
        m_responseHeadSent = true;
        if (!sendClient(QByteArrayView(s.head.data(), qsizetype(s.head.size()))))
            return false;
        startTunnel();
        return false; // the exchange is over: the connection is a tunnel now
    }
    m_resStatus = res.status;
    m_status = res.status;
    // A refused upgrade: the client may have sent more already, so the connection ends.
    const bool close = !m_req.keepAlive || m_draining || m_req.upgrade;
    const ClientHeadResult framing = buildClientHead(s.head, {res, client11, m_req.head, prefix(), close});
    m_closeAfter = framing.close;
    m_resFraming = framing.backendBody == Framing::Chunked      ? BodyFraming::Chunked
                   : framing.backendBody == Framing::Length     ? BodyFraming::Length
                   : framing.backendBody == Framing::UntilClose ? BodyFraming::UntilClose
                                                                : BodyFraming::None;
    m_resRemaining = framing.length;
    m_chunkedToClient = framing.clientBody == Framing::Chunked;
    m_backendKeepAlive = res.keepAlive && m_resFraming != BodyFraming::UntilClose;
    m_resChunks.reset();
    m_resIn.consume(headLength);
    m_responseHeadSent = true;
    if (m_resFraming == BodyFraming::None || (m_resFraming == BodyFraming::Length && m_resRemaining == 0))
        m_responseComplete = true;
    // When body bytes came with the head, the head goes out with them in one write
    // (forwardResponseBody, next in this same call); otherwise at once, so that a client
    // sees the head of a slow or streamed body without waiting for it.
    if (!m_responseComplete && !m_resIn.isEmpty() && m_out.size() < bound()) {
        m_headPending = true;
        return true;
    }
    return sendClient(QByteArrayView(s.head.data(), qsizetype(s.head.size())));
}

bool HttpConnection::forwardResponseBody() {
    static const char kCrlf[] = "\r\n";
    static const char kLastChunk[] = "0\r\n\r\n";
    while (!m_resIn.isEmpty() && !m_responseComplete) {
        if (m_out.size() >= bound() && !m_headPending)
            return true;
        qint64 used = 0;
        qint64 offset = 0;
        qint64 length = 0;
        switch (m_resFraming) {
        case BodyFraming::Length:
            used = length = qMin<qint64>(m_resRemaining, m_resIn.size());
            m_resRemaining -= length;
            m_responseComplete = m_resRemaining == 0;
            break;
        case BodyFraming::UntilClose:
            used = length = m_resIn.size();
            break;
        case BodyFraming::Chunked: {
            const ChunkedDecoder::Status st =
                m_resChunks.next(m_resIn.data(), m_resIn.size(), &used, &offset, &length);
            if (st == ChunkedDecoder::Status::Bad) {
                m_headPending = false;
                fail(502, QStringLiteral("invalid chunked body from backend"));
                return false;
            }
            if (st == ChunkedDecoder::Status::Done)
                m_responseComplete = true;
            break;
        }
        case BodyFraming::None:
            m_responseComplete = true;
            break;
        }
        // One write for what this turn has: the pending head, the data (framed again when
        // the client gets chunks) and the last chunk when the answer ends here.
        iovec v[5];
        int count = 0;
        if (std::exchange(m_headPending, false)) {
            const std::string &head = scratch().head;
            v[count++] = {const_cast<char *>(head.data()), head.size()};
        }
        std::string size;
        if (length > 0) {
            char *data = const_cast<char *>(m_resIn.data() + offset);
            if (m_chunkedToClient) {
                appendHex(size, quint64(length));
                size += "\r\n";
                v[count++] = {size.data(), size.size()};
                v[count++] = {data, size_t(length)};
                v[count++] = {const_cast<char *>(kCrlf), 2};
            } else {
                v[count++] = {data, size_t(length)};
            }
        }
        if (m_responseComplete && m_chunkedToClient)
            v[count++] = {const_cast<char *>(kLastChunk), 5};
        if (count > 0 && !sendClient(v, count))
            return false;
        m_resIn.consume(int(used));
    }
    // Bytes after the end of the answer: the backend speaks out of turn; not reusable.
    if (m_responseComplete && !m_resIn.isEmpty())
        m_backendKeepAlive = false;
    return true;
}

void HttpConnection::backendEof() {
    if (retryable()) {
        qCDebug(lcNet) << "pooled backend connection was stale; retrying once";
        releaseBackend(false);
        m_toBackend.clear();
        m_toBackend.swap(m_retryHead); // m_retryHead ends empty: one retry only
        connectBackend(false);
        return;
    }
    if (m_responseHeadSent && m_resFraming == BodyFraming::UntilClose) {
        // A close-delimited body ends here.
        m_responseComplete = true;
        m_backendKeepAlive = false;
        if (m_chunkedToClient && !sendClient("0\r\n\r\n"))
            return;
        if (!m_req.complete) {
            releaseBackend(false);
            endExchange(true);
            return;
        }
        finishExchange();
        return;
    }
    if (!m_responseHeadSent) {
        fail(502, QStringLiteral("backend closed the connection without an answer"));
        return;
    }
    // A truncated answer: the client can only learn it from the close.
    m_localError = true;
    releaseBackend(false);
    endExchange(true);
}

bool HttpConnection::retryable() const {
    return m_backendReused && m_attempts < 2 && !m_responseStarted && !m_retryHead.isEmpty();
}

void HttpConnection::finishExchange() {
    // A refused upgrade's connection is not reused: the backend saw "Connection: Upgrade".
    const bool reuse = m_backendKeepAlive && !m_req.upgrade && m_resIn.isEmpty() && m_backend &&
                       m_backend->socket.isOpen() && !m_backend->socket.peerShutdown() &&
                       m_toBackend.isEmpty();
    releaseBackend(reuse);
    endExchange(m_closeAfter);
}

void HttpConnection::releaseBackend(bool reuse) {
    m_connector.cancel();
    m_toBackend.clear();
    if (!m_backend)
        return;
    BackendConn *b = std::exchange(m_backend, nullptr);
    b->user = nullptr;
    BackendPool &pool = BackendPool::of(m_loop);
    if (reuse)
        pool.give(b, m_cfg.backendPoolSize, m_cfg.keepAliveIdleMs);
    else
        pool.discard(b);
}

// ---------------------------------------------------------------- the tunnel

void HttpConnection::startTunnel() {
    m_phase = Phase::Tunnel;
    // The 101 exchange is logged now; the tunnel's bytes are counted on the route.
    logExchange(101);
    m_tunnel = std::make_unique<Relay>(m_loop, m_client, m_backend->socket, bound());
    // What is already here goes first, in order: the rest of the request side (bytes the
    // client sent behind its head), and whatever the backend sent behind its 101.
    m_tunnel->up.queue.takeAll(m_toBackend);
    if (!m_in.isEmpty()) {
        m_tunnel->up.queue.append(m_in.data(), size_t(m_in.size()));
        m_in.release();
    }
    m_tunnel->down.queue.takeAll(m_out);
    if (!m_resIn.isEmpty()) {
        countOut(quint64(m_resIn.size()));
        m_tunnel->down.queue.append(m_resIn.data(), size_t(m_resIn.size()));
        m_resIn.release();
    }
    if (m_clientEof)
        m_tunnel->up.eof = true; // the client sent its FIN already: pass it on after its bytes
    m_retryHead.clear();
    armTimer(m_cfg.tunnelIdleTimeoutMs);
    m_client.setReadable(); // bytes may wait in the kernel since before the 101
    pumpTunnel();
}

void HttpConnection::pumpTunnel() {
    if (!m_tunnel)
        return;
    const Relay::Result r = m_tunnel->pump();
    if (m_tunnel->up.moved)
        countIn(std::exchange(m_tunnel->up.moved, 0));
    if (m_tunnel->down.moved)
        countOut(std::exchange(m_tunnel->down.moved, 0));
    if (r != Relay::Result::Running) {
        qCDebug(lcNet) << "tunnel ends:" << (r == Relay::Result::Done ? "done" : m_tunnel->failure());
        teardown();
        return;
    }
    if (m_tunnel->progressed())
        armTimer(m_cfg.tunnelIdleTimeoutMs);
}

} // namespace portico::http

// The client side of an HTTP connection: reading heads, keep-alive and pipelining, local
// answers, timeouts and closing. The backend side is in httpexchange.cpp.
#include "httpconnection.h"

#include "httprewrite.h"
#include "httpscratch.h"
#include "net/accesslog.h"
#include "net/listenermanager.h"
#include "net/loop/fdbudget.h"

#include <QJsonDocument>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <http_parser.h>

namespace portico::http {

namespace {

constexpr int kLingerMs = 2000;

const Config &fallbackConfig() {
    static const Config config;
    return config;
}

// The kind of error an answer (or a cut answer, status of what was sent) counts as.
ErrorKind errorKindOf(int status) {
    switch (status) {
    case 408:
    case 504:
        return ErrorKind::Timeout;
    case 503:
        return ErrorKind::Unavailable;
    case 508:
        return ErrorKind::Loop;
    default:
        return status >= 400 && status < 500 ? ErrorKind::Client : ErrorKind::Backend;
    }
}

qint64 microsNow() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

} // namespace

HttpScratch &scratch() {
    static thread_local HttpScratch s;
    return s;
}

void HttpConnection::ClientSide::onIo(quint32 events) {
    c->m_client.note(events);
    c->drive();
}

HttpConnection::HttpConnection(std::shared_ptr<const HttpListenerContext> context)
    : m_ctx(std::move(context)), m_cfg(m_ctx->config ? *m_ctx->config : fallbackConfig()) {
    m_clientSide.c = this;
}

HttpConnection::~HttpConnection() {
    // Ended through teardown(), which released everything; this is only memory.
    closeFile();
}

qint64 HttpConnection::bound() const {
    return qMax<qint64>(4096, m_cfg.relayBufferBytes);
}

void HttpConnection::start(int fd) {
    m_loop = EventLoop::current();
    m_client.adopt(fd, m_loop->budget());
    BufferPool *pool = &m_loop->buffers();
    m_in.setPool(pool);
    m_out.setPool(pool);
    m_toBackend.setPool(pool);
    m_retryHead.setPool(pool);
    m_resIn.setPool(pool);
    m_connStats = m_ctx->stats;
    if (!m_connStats && m_ctx->project.isEmpty() && m_ctx->routes)
        m_connStats = m_ctx->routes->current()->ingressStats;
    if (m_connStats)
        m_connStats->connectionOpened();
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!m_client.watch(m_loop, &m_clientSide)) {
        teardown();
        return;
    }
    armTimer(m_cfg.keepAliveIdleMs);
}

void HttpConnection::drain() {
    if (m_done)
        return;
    m_draining = true;
    if (m_phase == Phase::Idle && m_in.isEmpty())
        closeClient();
}

void HttpConnection::armTimer(int ms) {
    m_loop->arm(m_timer, qMax(1, ms));
}

// ---------------------------------------------------------------- the driver

void HttpConnection::drive() {
    // Each step does all it can in its phase; when it moves to another phase (an answer
    // ended and a pipelined request waits, say) the next phase gets its turn at once.
    while (!m_done) {
        const Phase before = m_phase;
        switch (m_phase) {
        case Phase::Idle:
        case Phase::Head:
            readHead();
            break;
        case Phase::Connecting:
            onBackendEvent();
            break;
        case Phase::Exchange:
            exchange();
            break;
        case Phase::LocalBody:
            pumpFile();
            break;
        case Phase::Tunnel:
            pumpTunnel();
            break;
        case Phase::Closing:
            linger();
            break;
        }
        if (m_phase == before)
            break;
    }
}

// ---------------------------------------------------------------- requests

void HttpConnection::readHead() {
    if (!flushClient())
        return;
    const int limit = m_cfg.maxHeaderBytes;
    for (;;) {
        // Pipelined requests wait while the client is not reading our answers.
        if (m_out.size() >= bound())
            return;
        // Empty lines before a request are allowed (RFC 9112 2.2).
        if (!m_in.isEmpty() && m_scanFrom == 0) {
            if (const int skip = leadingEmptyLines(m_in.view()))
                m_in.consume(skip);
        }
        if (!m_in.isEmpty()) {
            if (m_phase == Phase::Idle) {
                // The header timeout runs from the first byte of a head (slowloris).
                m_phase = Phase::Head;
                armTimer(m_cfg.headerTimeoutMs);
            }
            const HeadScan scan = scanHead(m_in.view(), limit, m_scanFrom);
            switch (scan.result) {
            case HeadScan::Result::Complete:
                m_scanFrom = 0;
                beginRequest(scan.length);
                // Answered here (a local answer): the next pipelined request, if any.
                if (m_done || m_phase != Phase::Idle)
                    return;
                continue;
            case HeadScan::Result::Bad:
                fail(400, QString::fromLatin1(scan.reason));
                return;
            case HeadScan::Result::TooLarge:
                if (scan.requestLineDone)
                    fail(431, QStringLiteral("request head larger than %1 bytes").arg(limit));
                else
                    fail(414, QStringLiteral("request line longer than %1 bytes").arg(limit));
                return;
            case HeadScan::Result::Incomplete:
                m_scanFrom = scan.resumeAt;
                break;
            }
        }
        if (m_clientEof || !m_client.readable()) {
            if (m_clientEof) {
                // The client finished sending: what it sent was answered (or is cut off
                // in the middle of a head, which cannot be answered).
                closeClient();
            }
            return;
        }
        const ssize_t n = m_in.readFrom(m_client, limit + 1);
        if (n > 0) {
            // The project is not known yet: the head's bytes go to it once routed.
            if (m_connStats)
                m_connStats->addIn(quint64(n));
            continue;
        }
        if (n == 0) {
            m_clientEof = true;
            continue;
        }
        if (n == Socket::kError) {
            teardown();
            return;
        }
        return; // kAgain
    }
}

void HttpConnection::beginRequest(int headLength) {
    HttpScratch &s = scratch();
    ParsedHead &req = s.request;
    m_status = 0;
    m_localError = false;
    m_closeAfter = false;
    m_exIn = quint64(headLength);
    m_exOut = 0;
    m_prefixLength = 0;
    m_route = nullptr;
    m_req = Request{};
    if (m_ctx->accessLog && m_ctx->accessLog->enabled())
        m_exStartUs = microsNow();

    const HeadError error =
        parseRequestHead(QByteArrayView(m_in.data(), headLength), m_cfg.maxHeaderCount, &req);
    if (error) {
        m_in.consume(headLength);
        fail(error.status, QString::fromLatin1(error.reason));
        return;
    }
    m_req.method = req.method;
    m_req.major = quint8(req.major);
    m_req.minor = quint8(req.minor);
    m_req.keepAlive = req.keepAlive;
    m_req.head = req.method == HTTP_HEAD;
    m_req.upgrade = req.upgrade;
    m_req.idempotent = req.method == HTTP_GET || req.method == HTTP_HEAD || req.method == HTTP_OPTIONS ||
                       req.method == HTTP_TRACE || req.method == HTTP_DELETE;
    if (req.chunked) {
        m_req.framing = BodyFraming::Chunked;
        m_reqChunks.reset();
    } else if (req.contentLength > 0) {
        m_req.framing = BodyFraming::Length;
        m_req.remaining = req.contentLength;
    }
    m_req.complete = m_req.framing == BodyFraming::None;
    if (m_ctx->accessLog && m_ctx->accessLog->enabled()) {
        m_logMethod = QByteArray(req.methodName.data(), req.methodName.size());
        m_logPath = QByteArray(req.url.data(), req.url.size());
    }

    m_table = m_ctx->routes ? m_ctx->routes->current() : std::make_shared<const RouteTable>();
    if (m_connStats)
        m_connStats->addRequest();
    if (m_cfg.maxBodyBytes > 0 && req.contentLength > m_cfg.maxBodyBytes) {
        m_in.consume(headLength);
        fail(413, QStringLiteral("request body larger than %1 bytes").arg(m_cfg.maxBodyBytes));
        return;
    }
    const Decision d = route({req, *m_table, *m_ctx, peer().isLoopback()});
    m_project = d.project;
    if (d.route) {
        m_route = d.route;
        if (d.kind != Decision::Kind::Local && d.route->inflight) {
            m_inflight = d.route->inflight.get();
            m_inflight->fetch_add(1, std::memory_order_relaxed);
        }
        attachProjectStats(m_ctx->project.isEmpty() ? d.route->ingressStats : nullptr);
        if (m_projStats) {
            m_projStats->addRequest();
            m_projStats->addIn(m_exIn); // the head was read before the project was known
        }
    }
    switch (d.kind) {
    case Decision::Kind::Local:
        m_in.consume(headLength);
        answerLocal(d);
        return;
    case Decision::Kind::Static:
        serveStatic(d); // reads what it needs from the head first
        m_in.consume(headLength);
        if (m_phase == Phase::LocalBody)
            pumpFile();
        return;
    case Decision::Kind::Proxy:
        startProxy(d); // builds the backend head from the views, then consumes the head
        return;
    }
}

// ---------------------------------------------------------------- local answers

void HttpConnection::answerLocal(const Decision &d) {
    if (d.status >= 400)
        m_localError = true;
    if (!d.allow.isEmpty())
        reply(d.status, "application/json", d.body, d.close, "Allow", d.allow);
    else if (!d.location.isEmpty())
        reply(d.status, "application/json", d.body, d.close, "Location", d.location);
    else
        reply(d.status, "application/json", d.body, d.close);
}

void HttpConnection::reply(int status, QByteArrayView contentType, QByteArrayView body, bool forceClose,
                           QByteArrayView extraName, QByteArrayView extraValue) {
    m_status = status;
    // A request body that was not read cannot be skipped safely: close after answering.
    const bool close = forceClose || m_draining || !m_req.keepAlive || !m_req.complete || m_clientEof;
    std::string &head = scratch().head;
    buildLocalHead(head, status, contentType, body.size(), close, m_req.minor == 0 && m_req.major == 1,
                   extraName, extraValue);
    iovec iov[2] = {{head.data(), head.size()}, {const_cast<char *>(body.data()), size_t(body.size())}};
    if (!sendClient(iov, m_req.head ? 1 : 2))
        return;
    endExchange(close);
}

void HttpConnection::fail(int status, const QString &message, const QJsonObject &extra) {
    if (m_done || m_phase == Phase::Closing)
        return;
    qCDebug(lcNet) << "answering" << status << message;
    m_localError = true;
    releaseBackend(false);
    if (m_responseHeadSent || m_phase == Phase::Tunnel || m_phase == Phase::LocalBody) {
        // Part of another answer is already on the wire: the only honest signal left is to
        // cut the connection.
        if (!m_status)
            m_status = status;
        endExchange(true);
        return;
    }
    // Malformed or over-limit requests leave the stream in an unknown place: close.
    const bool close =
        status == 400 || status == 408 || status == 413 || status == 414 || status == 431 || status == 508;
    QJsonObject o = extra;
    if (!m_project.isEmpty() && status >= 500 && !o.contains(QStringLiteral("project")))
        o.insert(QStringLiteral("project"), m_project);
    const QByteArray body = errorBody(status, message, o);
    reply(status, "application/json", body, close);
}

// ---------------------------------------------------------------- writing to the client

bool HttpConnection::sendClient(const iovec *iov, int count) {
    quint64 total = 0;
    for (int i = 0; i < count; ++i)
        total += iov[i].iov_len;
    if (total == 0)
        return true;
    m_exOut += total;
    countOut(total);
    // Straight to the kernel when nothing waits before these bytes; what it does not
    // take (and everything behind bytes already waiting) is queued in pool blocks.
    if (!m_out.sendOrQueue(m_client, iov, count)) {
        teardown();
        return false;
    }
    return flushClient();
}

bool HttpConnection::sendClient(QByteArrayView data) {
    iovec v{const_cast<char *>(data.data()), size_t(data.size())};
    return sendClient(&v, 1);
}

bool HttpConnection::flushClient() {
    if (m_out.isEmpty() || !m_client.writable())
        return !m_done;
    if (m_out.writeTo(m_client) == Socket::kError) {
        teardown();
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- the end of an exchange

void HttpConnection::logExchange(int status) {
    AccessLog *log = m_ctx->accessLog;
    if (!log || !log->enabled())
        return;
    AccessRecord r;
    r.client = peer().toString();
    r.project = m_project;
    r.method = std::exchange(m_logMethod, {});
    r.path = std::exchange(m_logPath, {});
    r.status = status;
    r.bytesIn = m_exIn + m_req.bodyBytes;
    r.bytesOut = m_exOut;
    r.durationUs = m_exStartUs ? microsNow() - m_exStartUs : 0;
    log->write(r);
}

void HttpConnection::endExchange(bool close) {
    if (m_done)
        return;
    if (m_localError || m_status >= 500)
        addError(errorKindOf(m_status));
    logExchange(m_status);
    closeFile();
    releaseInFlight();
    m_table.reset();
    m_route = nullptr;
    m_responseHeadSent = false;
    m_headPending = false;
    m_responseComplete = false;
    m_responseStarted = false;
    m_chunkedToClient = false;
    m_resIn.release();
    m_retryHead.clear();
    if (close || m_draining) {
        closeClient();
        return;
    }
    m_phase = Phase::Idle;
    m_status = 0;
    armTimer(m_cfg.keepAliveIdleMs);
    // The next pipelined request, when it is here, is read by drive() right away.
}

void HttpConnection::onTimeout() {
    switch (m_phase) {
    case Phase::Idle:
        closeClient();
        return;
    case Phase::Head:
        fail(408, QStringLiteral("request head not received in time"));
        return;
    case Phase::Connecting:
        fail(504, QStringLiteral("backend did not accept the connection in time"));
        return;
    case Phase::Exchange:
        if (!m_req.complete && !m_responseStarted && m_toBackend.isEmpty()) {
            // The backend took everything we had; it is the client's body that stalls.
            fail(408, QStringLiteral("request body not received in time"));
            return;
        }
        fail(504, QStringLiteral("backend did not answer in time"));
        return;
    case Phase::LocalBody:
        teardown(); // the client stopped reading a file
        return;
    case Phase::Tunnel:
        qCDebug(lcNet) << "tunnel idle timeout";
        teardown();
        return;
    case Phase::Closing:
        teardown();
        return;
    }
}

void HttpConnection::closeClient() {
    if (m_done || m_phase == Phase::Closing)
        return;
    m_phase = Phase::Closing;
    releaseBackend(false);
    closeFile();
    m_tunnel.reset();
    armTimer(kLingerMs);
    linger();
}

void HttpConnection::linger() {
    // Closing with unread request bytes in the kernel would send an RST that can destroy
    // the answer before the client reads it: flush, send FIN, discard what still arrives,
    // and close when the client does (or the linger time is over).
    if (!flushClient() || !m_out.isEmpty())
        return;
    m_client.shutdownWrite();
    m_in.release();
    char sink[4096];
    while (m_client.readable()) {
        const ssize_t n = m_client.read(sink, sizeof sink);
        if (n == 0 || n == Socket::kError) {
            teardown();
            return;
        }
        if (n == Socket::kAgain)
            return;
    }
    if (m_clientEof)
        teardown();
}

void HttpConnection::teardown() {
    if (m_done)
        return;
    m_done = true;
    m_timer.cancel();
    m_connector.cancel();
    m_tunnel.reset();
    releaseBackend(false);
    closeFile();
    m_out.clear();
    m_toBackend.clear();
    m_retryHead.clear();
    m_in.release();
    m_resIn.release();
    attachProjectStats(nullptr);
    if (m_connStats)
        m_connStats->connectionClosed();
    releaseInFlight();
    m_table.reset();
    m_client.close();
    finished();
}

// ---------------------------------------------------------------- counters

void HttpConnection::countIn(quint64 n) {
    if (m_connStats)
        m_connStats->addIn(n);
    if (m_projStats)
        m_projStats->addIn(n);
}

void HttpConnection::countOut(quint64 n) {
    if (m_connStats)
        m_connStats->addOut(n);
    if (m_projStats)
        m_projStats->addOut(n);
}

void HttpConnection::addError(ErrorKind kind) {
    if (m_connStats)
        m_connStats->addError(kind);
    if (m_projStats)
        m_projStats->addError(kind);
}

void HttpConnection::releaseInFlight() {
    if (m_inflight)
        m_inflight->fetch_sub(1, std::memory_order_relaxed);
    m_inflight = nullptr;
}

void HttpConnection::attachProjectStats(const std::shared_ptr<RouteStats> &stats) {
    if (stats == m_projStats)
        return;
    if (m_projStats)
        m_projStats->connectionClosed();
    m_projStats = stats;
    if (m_projStats)
        m_projStats->connectionOpened();
}

} // namespace portico::http

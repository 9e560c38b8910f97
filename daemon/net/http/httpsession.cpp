#include "httpsession.h"

#include <QAbstractSocket>

#include "backendlink.h"
#include "net/accesslog.h"
#include "net/tcp/tcprelay.h"
#include "runtime/staticfiles.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QTcpSocket>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace portico::http {

namespace {

constexpr qint64 kReadChunk = 64 * 1024;
constexpr int kLingerMs = 2000;

const Config &fallbackConfig() {
    static const Config config;
    return config;
}

QByteArray reasonPhrase(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

QByteArray chunkHeader(size_t length) {
    return QByteArray::number(qulonglong(length), 16) + "\r\n";
}

// A second descriptor of the same connection (close-on-exec), or -1.
int dupSocket(qintptr fd) {
    return fd < 0 ? -1 : ::fcntl(int(fd), F_DUPFD_CLOEXEC, 0);
}

qintptr backendDescriptor(QIODevice *io) {
    if (auto *tcp = qobject_cast<QAbstractSocket *>(io))
        return tcp->socketDescriptor();
    if (auto *local = qobject_cast<QLocalSocket *>(io))
        return local->socketDescriptor();
    return -1;
}

bool isIdempotent(unsigned method) {
    return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_OPTIONS || method == HTTP_TRACE ||
           method == HTTP_DELETE;
}

} // namespace

// libhttp-parser calls C functions; these forward to the session in parser->data.
struct ParserCallbacks {
    static HttpSession *s(http_parser *p) { return static_cast<HttpSession *>(p->data); }

    static void clearField(HttpSession *x) {
        x->m_field.clear();
        x->m_value.clear();
        x->m_inValue = false;
    }
    // Records why the head is refused; the parser stops on the non-zero return.
    static int refuseHead(HttpSession *x, int status, const QByteArray &why) {
        x->m_headErrorStatus = status;
        x->m_headError = why;
        return -1;
    }
    static int headerField(HttpSession *x, Headers &headers, int &count, int maxCount, const char *at,
                           size_t len) {
        if (x->m_inValue) {
            headers.append({x->m_field, x->m_value});
            clearField(x);
        }
        if (x->m_field.isEmpty() && ++count > maxCount)
            return 1;
        x->m_field.append(at, qsizetype(len));
        return 0;
    }
    static void flushHeader(HttpSession *x, Headers &headers) {
        if (!x->m_field.isEmpty())
            headers.append({x->m_field, x->m_value});
        clearField(x);
    }

    // Requests
    static int reqBegin(http_parser *p) {
        HttpSession *x = s(p);
        x->m_req = {};
        clearField(x);
        x->m_headerCount = 0;
        return 0;
    }
    static int reqUrl(http_parser *p, const char *at, size_t len) {
        s(p)->m_req.url.append(at, qsizetype(len));
        return 0;
    }
    static int reqField(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        if (headerField(x, x->m_req.headers, x->m_headerCount, x->m_cfg.maxHeaderCount, at, len))
            return refuseHead(x, 431, "too many header fields");
        return 0;
    }
    static int value(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        x->m_value.append(at, qsizetype(len));
        x->m_inValue = true;
        return 0;
    }
    static int reqHeadersComplete(http_parser *p) {
        HttpSession *x = s(p);
        flushHeader(x, x->m_req.headers);
        HttpSession::Request &r = x->m_req;
        r.method = p->method;
        r.methodName = http_method_str(http_method(p->method));
        r.major = p->http_major;
        r.minor = p->http_minor;
        r.keepAlive = http_should_keep_alive(p) != 0;
        r.chunked = (p->flags & F_CHUNKED) != 0;
        r.contentLength = (p->flags & F_CONTENTLENGTH) ? qint64(p->content_length) : -1;
        QByteArray why;
        if (!checkFraming(r.headers, &why))
            return refuseHead(x, 400, why);
        int hosts = 0;
        for (const auto &h : std::as_const(r.headers))
            hosts += h.first.compare("host", Qt::CaseInsensitive) == 0 ? 1 : 0;
        if (hosts > 1 || (hosts == 0 && r.major == 1 && r.minor >= 1))
            return refuseHead(x, 400, hosts ? "repeated Host header" : "missing Host header");
        for (const auto &h : std::as_const(r.headers)) {
            // "Content-Length : 5" and friends: a backend may read them differently.
            if (!isToken(h.first))
                return refuseHead(x, 400, "invalid header field name");
        }
        const QList<QByteArray> tokens = connectionTokens(r.headers);
        r.upgrade = tokens.contains("upgrade") && !headerValue(r.headers, "upgrade").isEmpty();
        x->m_headDone = true;
        return 0;
    }
    static int reqBody(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        x->m_req.bodyBytes += len;
        if (x->m_cfg.maxBodyBytes > 0 && x->m_req.bodyBytes > quint64(x->m_cfg.maxBodyBytes)) {
            x->m_bodyTooLarge = true;
            http_parser_pause(p, 1);
            return 0;
        }
        if (x->m_backend) {
            QIODevice *io = x->m_backend->io();
            if (x->m_req.chunked)
                io->write(chunkHeader(len));
            io->write(at, qint64(len));
            if (x->m_req.chunked)
                io->write("\r\n", 2);
        }
        return 0;
    }
    static int reqComplete(http_parser *p) {
        HttpSession *x = s(p);
        x->m_requestComplete = true;
        if (x->m_req.chunked && x->m_backend)
            x->m_backend->io()->write("0\r\n\r\n", 5); // trailers are dropped
        http_parser_pause(p, 1);                       // the next pipelined request waits for this answer
        return 0;
    }

    // Responses
    static int resBegin(http_parser *p) {
        HttpSession *x = s(p);
        x->m_resHeaders.clear();
        x->m_resReason.clear();
        x->m_resHeaderCount = 0;
        clearField(x);
        return 0;
    }
    static int resStatus(http_parser *p, const char *at, size_t len) {
        s(p)->m_resReason.append(at, qsizetype(len));
        return 0;
    }
    static int resField(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        if (x->m_responseHeadSent && !x->m_resInterim)
            return 0; // trailers of a chunked response: dropped
        return headerField(x, x->m_resHeaders, x->m_resHeaderCount, x->m_cfg.maxHeaderCount, at, len);
    }
    static int resValue(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        if (x->m_responseHeadSent && !x->m_resInterim)
            return 0;
        return value(p, at, len);
    }
    static int resHeadersComplete(http_parser *p) {
        HttpSession *x = s(p);
        flushHeader(x, x->m_resHeaders);
        return x->onResponseHeadersComplete();
    }
    static int resBody(http_parser *p, const char *at, size_t len) {
        HttpSession *x = s(p);
        if (x->m_resInterim)
            return 0;
        if (x->m_chunkedToClient)
            x->writeClient(chunkHeader(len) + QByteArray::fromRawData(at, qsizetype(len)) + "\r\n");
        else
            x->writeClient(at, qint64(len));
        return 0;
    }
    static int resComplete(http_parser *p) {
        HttpSession *x = s(p);
        if (x->m_resInterim) {
            x->m_resInterim = false;
            return 0; // a 1xx answer; the final one follows
        }
        if (x->m_chunkedToClient)
            x->writeClient("0\r\n\r\n");
        x->m_responseComplete = true;
        x->m_backendKeepAlive = http_should_keep_alive(p) != 0;
        http_parser_pause(p, 1);
        return 0;
    }

    // In the order of http_parser_settings; a request has a URL, a response a status line.
    static http_parser_settings settings(http_cb begin, http_data_cb url, http_data_cb status,
                                         http_data_cb field, http_data_cb fieldValue, http_cb headersComplete,
                                         http_data_cb body, http_cb complete) {
        http_parser_settings st;
        http_parser_settings_init(&st);
        st.on_message_begin = begin;
        st.on_url = url;
        st.on_status = status;
        st.on_header_field = field;
        st.on_header_value = fieldValue;
        st.on_headers_complete = headersComplete;
        st.on_body = body;
        st.on_message_complete = complete;
        return st;
    }
    static const http_parser_settings &request() {
        static const http_parser_settings st =
            settings(reqBegin, reqUrl, nullptr, reqField, value, reqHeadersComplete, reqBody, reqComplete);
        return st;
    }
    static const http_parser_settings &response() {
        static const http_parser_settings st = settings(resBegin, nullptr, resStatus, resField, resValue,
                                                        resHeadersComplete, resBody, resComplete);
        return st;
    }
};

HttpSession::HttpSession(QTcpSocket *client, std::shared_ptr<const HttpListenerContext> context,
                         QObject *parent)
    : QObject(parent), m_client(client), m_ctx(std::move(context)),
      m_cfg(m_ctx->config ? *m_ctx->config : fallbackConfig()) {
    m_client->setParent(this);
    for (QTimer *t : {&m_headerTimer, &m_idleTimer, &m_backendTimer, &m_tunnelTimer, &m_lingerTimer})
        t->setSingleShot(true);
}

HttpSession::~HttpSession() {
    releaseBackend(false);
    closeTunnelDescriptors();
    if (!m_dead) {
        attachProjectStats(nullptr);
        if (m_connStats)
            m_connStats->connectionClosed();
    }
}

void HttpSession::start() {
    m_connStats = m_ctx->stats;
    if (!m_connStats && m_ctx->project.isEmpty() && m_ctx->routes)
        m_connStats = m_ctx->routes->current()->ingressStats;
    if (m_connStats)
        m_connStats->connectionOpened();

    QHostAddress peer = m_client->peerAddress();
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    if (isV4)
        peer = QHostAddress(v4);
    m_clientAddress = peer.toString();

    m_client->setReadBufferSize(std::max<qint64>(m_cfg.relayBufferBytes, kReadChunk));
    m_client->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_client, &QTcpSocket::readyRead, this, &HttpSession::onClientReadyRead);
    connect(m_client, &QTcpSocket::bytesWritten, this, &HttpSession::onClientBytesWritten);
    connect(m_client, &QTcpSocket::disconnected, this, &HttpSession::onClientClosed);
    connect(&m_headerTimer, &QTimer::timeout, this, [this] {
        if (m_phase == Phase::Head)
            fail(408, QStringLiteral("request head not received in time"));
    });
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (m_phase == Phase::Head && m_inBuf.isEmpty())
            closeClient();
    });
    connect(&m_backendTimer, &QTimer::timeout, this, &HttpSession::onBackendTimeout);
    connect(&m_tunnelTimer, &QTimer::timeout, this, [this] {
        qCDebug(lcHttp) << "tunnel idle timeout" << m_clientAddress;
        teardown();
    });
    connect(&m_lingerTimer, &QTimer::timeout, this, &HttpSession::teardown);

    m_idleTimer.start(m_cfg.keepAliveIdleMs);
    if (m_client->state() != QAbstractSocket::ConnectedState) {
        teardown();
        return;
    }
    onClientReadyRead();
}

bool HttpSession::drain() {
    if (m_dead)
        return false;
    m_draining = true;
    if (m_phase == Phase::Head && m_inBuf.isEmpty() && !m_headerTimer.isActive())
        closeClient();
    return !m_dead;
}

// ---------------------------------------------------------------- client side

QByteArray HttpSession::readClient(qint64 max) {
    QByteArray data = m_client->read(max);
    if (!data.isEmpty()) {
        const quint64 n = quint64(data.size());
        if (m_connStats)
            m_connStats->addIn(n);
        if (m_projStats)
            m_projStats->addIn(n);
    }
    return data;
}

void HttpSession::writeClient(const QByteArray &data) {
    writeClient(data.constData(), data.size());
}

void HttpSession::writeClient(const char *data, qint64 length) {
    if (length <= 0)
        return;
    m_client->write(data, length); // copied once, into the socket's buffer
    const quint64 n = quint64(length);
    m_exBytesOut += n;
    if (m_connStats)
        m_connStats->addOut(n);
    if (m_projStats)
        m_projStats->addOut(n);
}

void HttpSession::onClientReadyRead() {
    switch (m_phase) {
    case Phase::Head:
        readHead();
        break;
    case Phase::Exchange:
        if (!m_requestComplete && !m_responseStarted && m_backendTimer.isActive())
            m_backendTimer.start(m_cfg.backendResponseTimeoutMs); // the upload is moving
        pumpRequestBody();
        break;
    case Phase::Closing:
        m_client->read(m_client->bytesAvailable()); // lingering close: discard
        break;
    default:
        break; // the rest of the request waits in the (bounded) socket buffer
    }
}

void HttpSession::onClientBytesWritten() {
    switch (m_phase) {
    case Phase::Head:
        readHead();
        break;
    case Phase::Exchange:
        // A client that reads, however slowly, is making progress; one that stopped
        // reading is cut when the timer runs out.
        if (m_backendTimer.isActive())
            m_backendTimer.start(m_cfg.backendResponseTimeoutMs);
        pumpResponse();
        break;
    case Phase::LocalBody:
        pumpFile();
        break;
    case Phase::Tunnel:
        handOverTunnel();
        break;
    case Phase::Closing:
        lingerAfterFlush();
        break;
    default:
        break;
    }
}

void HttpSession::onClientClosed() {
    m_clientClosed = true;
    if (m_phase == Phase::Tunnel && m_backend) {
        // Qt closed its descriptor at the client's FIN; the tunnel holds its own, and the
        // relay sees the EOF (half-close) itself.
        handOverTunnel();
        return;
    }
    if ((m_phase == Phase::Connecting || m_phase == Phase::Exchange) && m_req.upgrade &&
        m_tunnelClientFd >= 0 && !m_responseHeadSent) {
        // EOF right after an Upgrade request: the answer decides. A 101 becomes a tunnel
        // (on the session's own descriptor) that delivers it; any other answer cannot be
        // delivered any more and ends the connection (pumpResponse).
        return;
    }
    teardown();
}

size_t HttpSession::feedRequest(const char *data, size_t length) {
    http_parser_pause(&m_reqParser, 0);
    return http_parser_execute(&m_reqParser, &ParserCallbacks::request(), data, length);
}

void HttpSession::readHead() {
    if (m_phase != Phase::Head || m_dead)
        return;
    // Pipelined requests wait while the client is not reading our answers.
    if (m_client->bytesToWrite() > m_cfg.relayBufferBytes)
        return;
    const int limit = m_cfg.maxHeaderBytes;
    if (m_inBuf.size() <= limit) {
        const QByteArray more = readClient(limit + 1 - m_inBuf.size());
        m_inBuf += more;
    }
    if (m_inBuf.isEmpty())
        return;
    // The header timeout runs from the first byte of a request head (slowloris).
    if (!m_headerTimer.isActive())
        m_headerTimer.start(m_cfg.headerTimeoutMs);
    m_idleTimer.stop();
    if (const int skip = leadingEmptyLines(m_inBuf))
        m_inBuf.remove(0, skip);
    if (m_inBuf.isEmpty())
        return;
    const HeadScan scan = scanHead(m_inBuf, limit);
    switch (scan.result) {
    case HeadScan::Result::Incomplete:
        return;
    case HeadScan::Result::TooLarge:
        fail(431, QStringLiteral("request head larger than %1 bytes").arg(limit));
        return;
    case HeadScan::Result::Bad:
        fail(400, QString::fromLatin1(scan.reason));
        return;
    case HeadScan::Result::Complete:
        break;
    }
    m_headerTimer.stop();
    beginRequest(scan.length);
}

void HttpSession::beginRequest(int headLength) {
    http_parser_init(&m_reqParser, HTTP_REQUEST);
    m_reqParser.data = this;
    m_headErrorStatus = 0;
    m_headError.clear();
    m_headDone = false;
    m_requestComplete = false;
    m_bodyTooLarge = false;
    m_clock.start();
    m_exBytesIn = quint64(headLength);
    m_exBytesOut = 0;
    m_lastStatus = 0;
    m_localError = false;
    m_closeAfter = false;

    // Only the head is fed: the body is parsed later, as fast as the backend takes it.
    const size_t used = feedRequest(m_inBuf.constData(), size_t(headLength));
    m_inBuf.remove(0, qsizetype(used));
    const http_errno err = HTTP_PARSER_ERRNO(&m_reqParser);
    if (m_headErrorStatus) {
        fail(m_headErrorStatus, QString::fromLatin1(m_headError));
        return;
    }
    if (err == HPE_HEADER_OVERFLOW) {
        fail(431, QStringLiteral("request head too large"));
        return;
    }
    if ((err != HPE_OK && err != HPE_PAUSED) || !m_headDone) {
        fail(400, QStringLiteral("malformed request: %1").arg(QLatin1String(http_errno_description(err))));
        return;
    }
    dispatchRequest();
}

void HttpSession::dispatchRequest() {
    m_table = m_ctx->routes ? m_ctx->routes->current() : std::make_shared<const RouteTable>();
    if (m_connStats)
        m_connStats->addRequest();
    if (m_req.method == HTTP_CONNECT) {
        replyJson(405, R"({"error":"CONNECT is not supported","status":405})",
                  {{"Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"}}, true);
        return;
    }
    if (m_cfg.maxBodyBytes > 0 && m_req.contentLength > m_cfg.maxBodyBytes) {
        fail(413, QStringLiteral("request body larger than %1 bytes").arg(m_cfg.maxBodyBytes));
        return;
    }

    // origin-form, or absolute-form reduced to it
    QByteArray target = m_req.url;
    if (!target.startsWith('/')) {
        if (target == "*" && m_req.method == HTTP_OPTIONS) {
            // server-wide OPTIONS
        } else {
            http_parser_url u;
            http_parser_url_init(&u);
            if (http_parser_parse_url(target.constData(), size_t(target.size()), 0, &u) != 0) {
                fail(400, QStringLiteral("malformed request target"));
                return;
            }
            QByteArray rebuilt = (u.field_set & (1 << UF_PATH))
                                     ? target.mid(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len)
                                     : QByteArray("/");
            if (u.field_set & (1 << UF_QUERY))
                rebuilt += '?' + target.mid(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
            target = rebuilt;
        }
    }
    const qsizetype q = target.indexOf('?');
    const QByteArray path = q < 0 ? target : target.left(q);
    const QByteArray query = q < 0 ? QByteArray() : target.mid(q);

    const ProjectRoute *route = nullptr;
    const bool readOnly = m_req.method == HTTP_GET || m_req.method == HTTP_HEAD;
    if (m_ctx->project.isEmpty()) {
        if (path == "/_api/routes" || path == "/") {
            if (!readOnly) {
                replyJson(405, R"({"error":"method not allowed","status":405})", {{"Allow", "GET, HEAD"}});
                return;
            }
            QJsonArray out;
            if (path == "/") {
                QStringList names;
                for (auto it = m_table->projects.cbegin(); it != m_table->projects.cend(); ++it) {
                    if (it.value() && it.value()->pathRouted)
                        names.append(it.key());
                }
                names.sort();
                for (const QString &name : std::as_const(names)) {
                    const ProjectRoute *p = m_table->project(name);
                    out.append(
                        QJsonObject{{QStringLiteral("project"), name},
                                    {QStringLiteral("path"), QLatin1Char('/') + name + QLatin1Char('/')},
                                    {QStringLiteral("state"), p->state},
                                    {QStringLiteral("backend"), p->target.describe()}});
                }
            } else {
                out = m_table->toJson();
            }
            replyJson(200, QJsonDocument(out).toJson(QJsonDocument::Compact));
            return;
        }
        const qsizetype slash = path.indexOf('/', 1);
        const QByteArray segment = path.mid(1, slash < 0 ? -1 : slash - 1);
        m_projectName = QString::fromUtf8(segment);
        route = m_table->project(m_projectName);
        if (segment.isEmpty() || !route || !route->pathRouted) {
            fail(404, QStringLiteral("unknown project"), {{QStringLiteral("project"), m_projectName}});
            return;
        }
        attachProjectStats(route->ingressStats);
        if (m_projStats) {
            m_projStats->addRequest();
            m_projStats->addIn(m_exBytesIn); // the head was read before the project was known
        }
        if (slash < 0) {
            const QByteArray location = '/' + segment + '/' + query;
            replyJson(308,
                      QJsonDocument(QJsonObject{{QStringLiteral("location"), QString::fromUtf8(location)}})
                          .toJson(QJsonDocument::Compact),
                      {{"Location", location}});
            return;
        }
        m_prefix = '/' + segment;
        m_backendTarget = path.mid(slash) + query;
    } else {
        m_projectName = m_ctx->project;
        route = m_table->project(m_projectName);
        m_prefix.clear();
        m_backendTarget = target;
        if (!route) {
            fail(503, QStringLiteral("project is not deployed"),
                 {{QStringLiteral("project"), m_projectName}});
            return;
        }
    }

    switch (route->target.kind) {
    case BackendTarget::Kind::None:
        fail(503, QStringLiteral("backend not available"),
             {{QStringLiteral("project"), route->name},
              {QStringLiteral("state"), route->state},
              {QStringLiteral("reason"), route->reason}});
        return;
    case BackendTarget::Kind::Static: {
        const qsizetype sq = m_backendTarget.indexOf('?');
        serveStatic(route->target.staticRoot, sq < 0 ? m_backendTarget : m_backendTarget.left(sq));
        return;
    }
    case BackendTarget::Kind::Tcp:
    case BackendTarget::Kind::Unix:
        proxyTo(route->target);
        return;
    }
}

// ---------------------------------------------------------------- local answers

void HttpSession::fail(int status, const QString &message, QJsonObject extra) {
    if (m_dead || m_phase == Phase::Closing)
        return;
    qCDebug(lcHttp) << "answering" << status << message << m_clientAddress;
    m_localError = true;
    releaseBackend(false);
    if (m_responseHeadSent || m_phase == Phase::Tunnel || m_phase == Phase::LocalBody) {
        // Part of another answer is already on the wire: the only honest signal left is
        // to cut the connection.
        m_lastStatus = m_lastStatus ? m_lastStatus : status;
        endExchange(true);
        return;
    }
    extra.insert(QStringLiteral("error"), message);
    extra.insert(QStringLiteral("status"), status);
    // Malformed or over-limit requests leave the stream in an unknown place: close.
    const bool close = status == 400 || status == 408 || status == 413 || status == 431;
    replyJson(status, QJsonDocument(extra).toJson(QJsonDocument::Compact), {}, close);
}

void HttpSession::replyJson(int status, const QByteArray &json, const Headers &extraHeaders,
                            bool forceClose) {
    Headers headers{{"Content-Type", "application/json"}};
    headers += extraHeaders;
    localReply(status, headers, json, forceClose);
}

void HttpSession::localReply(int status, const Headers &headers, const QByteArray &body, bool forceClose) {
    m_lastStatus = status;
    // A request body we did not read cannot be skipped safely: close after answering.
    const bool close = forceClose || m_draining || !m_headDone || !m_req.keepAlive || !m_requestComplete;
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    if (close)
        out += "Connection: close\r\n";
    else if (m_req.minor == 0)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (m_req.method != HTTP_HEAD || !m_headDone)
        out += body;
    writeClient(out);
    endExchange(close);
}

void HttpSession::serveStatic(const QString &root, const QByteArray &path) {
    StaticRequest request;
    request.method = m_req.methodName;
    request.path = path;
    request.ifNoneMatch = headerValue(m_req.headers, "if-none-match");
    request.ifModifiedSince = headerValue(m_req.headers, "if-modified-since");
    request.range = headerValue(m_req.headers, "range");
    request.ifRange = headerValue(m_req.headers, "if-range");
    const StaticReply reply = resolveStatic(root, request);
    m_lastStatus = reply.status;
    const bool noBody = m_req.method == HTTP_HEAD || reply.status == 304 || reply.status == 204;
    if (reply.filePath.isEmpty() || noBody) {
        QByteArray head =
            "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + reasonPhrase(reply.status) + "\r\n";
        bool haveLength = false;
        for (const auto &[name, value] : reply.headers) {
            haveLength |= name.compare("content-length", Qt::CaseInsensitive) == 0;
            head += name + ": " + value + "\r\n";
        }
        if (!haveLength && reply.status != 304 && reply.status != 204)
            head += "Content-Length: " + QByteArray::number(reply.body.size()) + "\r\n";
        const bool close = !m_req.keepAlive || !m_requestComplete || m_draining;
        head += close ? "Connection: close\r\n\r\n" : "\r\n";
        writeClient(noBody ? head : head + reply.body);
        endExchange(close);
        return;
    }
    m_file = std::make_unique<QFile>(reply.filePath);
    if (!m_file->open(QIODevice::ReadOnly) || !m_file->seek(reply.offset)) {
        m_file.reset();
        fail(500, QStringLiteral("static file could not be read"));
        return;
    }
    m_closeAfter = !m_req.keepAlive || !m_requestComplete || m_draining;
    QByteArray head =
        "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + reasonPhrase(reply.status) + "\r\n";
    for (const auto &[name, value] : reply.headers)
        head += name + ": " + value + "\r\n";
    head += m_closeAfter ? "Connection: close\r\n\r\n" : "\r\n";
    writeClient(head);
    m_responseHeadSent = true;
    m_fileRemaining = reply.length;
    m_phase = Phase::LocalBody;
    pumpFile();
}

void HttpSession::pumpFile() {
    if (m_phase != Phase::LocalBody || !m_file)
        return;
    while (m_fileRemaining > 0 && m_client->bytesToWrite() < m_cfg.relayBufferBytes) {
        // Bounded reads from a local file (page cache); never the whole file.
        const QByteArray data = m_file->read(std::min(kReadChunk, m_fileRemaining));
        if (data.isEmpty()) {
            m_file.reset();
            endExchange(true); // file shrank under us: the length we announced is a lie now
            return;
        }
        m_fileRemaining -= data.size();
        writeClient(data);
    }
    if (m_fileRemaining == 0) {
        m_file.reset();
        endExchange(m_closeAfter);
    }
}

void HttpSession::endExchange(bool close) {
    if (m_dead)
        return;
    const bool error = m_localError || m_lastStatus >= 500;
    if (error)
        addError();
    // Requests refused before their head was parsed (400, 408, 431) are logged too,
    // without method and path.
    if (m_ctx->accessLog && (m_headDone || m_localError)) {
        AccessRecord r;
        r.client = m_clientAddress;
        r.project = m_projectName;
        r.method = m_headDone ? m_req.methodName : QByteArray();
        r.path = m_headDone ? m_req.url : QByteArray();
        r.status = m_lastStatus;
        r.bytesIn = m_exBytesIn + m_req.bodyBytes;
        r.bytesOut = m_exBytesOut;
        r.durationUs = m_clock.isValid() ? m_clock.nsecsElapsed() / 1000 : 0;
        m_ctx->accessLog->write(r);
    }
    m_headDone = false;
    m_req = {};
    m_responseHeadSent = false;
    m_responseComplete = false;
    m_responseStarted = false;
    m_upgraded = false;
    m_chunkedToClient = false;
    m_backendLeftover.clear();
    m_file.reset();
    closeTunnelDescriptors(); // an Upgrade that was refused
    if (close || m_clientClosed || m_draining) {
        closeClient();
        return;
    }
    m_phase = Phase::Head;
    m_idleTimer.start(m_cfg.keepAliveIdleMs);
    // The next pipelined request, when one is already here, is handled from the event loop
    // (not recursively); otherwise readyRead brings it. Measured: a queued call per request
    // cost a wake-up and two eventfd syscalls (tests/bench/README.md).
    if (!m_inBuf.isEmpty() || m_client->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpSession::readHead, Qt::QueuedConnection);
}

void HttpSession::closeClient() {
    if (m_dead || m_phase == Phase::Closing)
        return;
    m_phase = Phase::Closing;
    releaseBackend(false);
    closeTunnelDescriptors();
    m_headerTimer.stop();
    m_idleTimer.stop();
    m_tunnelTimer.stop();
    if (m_client->state() != QAbstractSocket::ConnectedState) {
        teardown();
        return;
    }
    m_lingerTimer.start(kLingerMs);
    lingerAfterFlush();
}

void HttpSession::lingerAfterFlush() {
    if (m_client->bytesToWrite() > 0)
        return;
    // Closing with unread request bytes in the kernel would send an RST that can destroy
    // the answer before the client reads it: send FIN, discard what still arrives, and
    // close when the client does (or the linger timer fires).
    if (m_client->socketDescriptor() >= 0)
        ::shutdown(int(m_client->socketDescriptor()), SHUT_WR);
    m_client->read(m_client->bytesAvailable());
}

void HttpSession::teardown() {
    if (m_dead)
        return;
    m_dead = true;
    releaseBackend(false);
    closeTunnelDescriptors();
    for (QTimer *t : {&m_headerTimer, &m_idleTimer, &m_backendTimer, &m_tunnelTimer, &m_lingerTimer})
        t->stop();
    attachProjectStats(nullptr);
    if (m_connStats)
        m_connStats->connectionClosed();
    disconnect(m_client, nullptr, this, nullptr);
    m_client->abort();
    deleteLater();
}

void HttpSession::attachProjectStats(std::shared_ptr<RouteStats> stats) {
    if (stats == m_projStats)
        return;
    if (m_projStats)
        m_projStats->connectionClosed();
    m_projStats = std::move(stats);
    if (m_projStats)
        m_projStats->connectionOpened();
}

void HttpSession::addError() {
    if (m_connStats)
        m_connStats->addError();
    if (m_projStats)
        m_projStats->addError();
}

// ---------------------------------------------------------------- backend side

void HttpSession::proxyTo(const BackendTarget &target) {
    m_target = target;
    m_attempts = 0;
    m_backendHead = buildBackendHead();
    // An Upgrade may become a tunnel: the session keeps its own descriptor of the client
    // from now on, so a client that half-closes right after its request (Qt then closes
    // its socket) still gets the 101 and the backend's answer through the tunnel.
    if (m_req.upgrade && m_tunnelClientFd < 0)
        m_tunnelClientFd = dupSocket(m_client->socketDescriptor());
    connectBackend(true);
}

QByteArray HttpSession::buildBackendHead() const {
    const QList<QByteArray> tokens = connectionTokens(m_req.headers);
    QByteArray out = m_req.methodName + ' ' + m_backendTarget + " HTTP/1.1\r\n";
    bool haveHost = false;
    QByteArray host;
    for (const auto &[name, value] : m_req.headers) {
        if (isHopByHop(name, tokens))
            continue;
        const QByteArray lower = name.toLower();
        if (lower == "x-forwarded-for" || lower == "x-forwarded-proto" || lower == "x-forwarded-host" ||
            lower == "x-forwarded-prefix")
            continue; // replaced below (For is appended to)
        if (lower == "host") {
            haveHost = true;
            host = value.trimmed();
        }
        out += name + ": " + value + "\r\n";
    }
    if (!haveHost) {
        host = m_ctx->port ? "127.0.0.1:" + QByteArray::number(m_ctx->port)
                           : m_client->localAddress().toString().toLatin1() + ':' +
                                 QByteArray::number(m_client->localPort());
        out += "Host: " + host + "\r\n";
    }
    out += "X-Forwarded-For: " + forwardedFor(m_req.headers, m_clientAddress.toLatin1()) + "\r\n";
    out += "X-Forwarded-Proto: http\r\n";
    out += "X-Forwarded-Host: " + host + "\r\n";
    if (!m_prefix.isEmpty())
        out += "X-Forwarded-Prefix: " + m_prefix + "\r\n";
    if (m_req.chunked)
        out += "Transfer-Encoding: chunked\r\n";
    else if (m_req.contentLength >= 0)
        out += "Content-Length: " + QByteArray::number(m_req.contentLength) + "\r\n";
    if (m_req.upgrade)
        out += "Connection: Upgrade\r\nUpgrade: " + headerValue(m_req.headers, "upgrade") + "\r\n";
    out += "\r\n";
    return out;
}

void HttpSession::connectBackend(bool allowPooled) {
    ++m_attempts;
    BackendLink *link = nullptr;
    if (allowPooled && !m_req.upgrade)
        link = BackendPool::forCurrentThread()->take(BackendLink::keyOf(m_target), this);
    m_backendReused = link != nullptr;
    if (!link)
        link = new BackendLink(m_target, std::max<qint64>(m_cfg.relayBufferBytes, kReadChunk), this);
    m_backend = link;
    connect(link, &BackendLink::connected, this, &HttpSession::onBackendConnected);
    connect(link, &BackendLink::readyRead, this, [this] {
        if (m_phase == Phase::Tunnel) // a tunnel's bytes wait in the socket for the handover
            return;
        pumpResponse();
        // Write now rather than on the next loop turn (one ppoll less per response).
        if (m_phase != Phase::Tunnel && m_client->state() == QAbstractSocket::ConnectedState)
            m_client->flush();
    });
    connect(link, &BackendLink::bytesWritten, this, &HttpSession::onBackendBytesWritten);
    connect(link, &BackendLink::closed, this, &HttpSession::onBackendClosed);
    if (link->isConnected()) {
        sendRequestHead();
        return;
    }
    m_phase = Phase::Connecting;
    m_backendTimer.start(m_cfg.backendConnectTimeoutMs);
    link->open(); // may report a refusal synchronously: nothing may follow this call
}

void HttpSession::onBackendConnected() {
    if (m_phase == Phase::Connecting)
        sendRequestHead();
}

void HttpSession::sendRequestHead() {
    m_phase = Phase::Exchange;
    http_parser_init(&m_resParser, HTTP_RESPONSE);
    m_resParser.data = this;
    m_resError = false;
    m_resInterim = false;
    m_responseStarted = false;
    m_responseHeadSent = false;
    m_responseComplete = false;
    m_backendKeepAlive = false;
    m_backendLeftover.clear();
    m_backend->io()->write(m_backendHead);
    m_backendTimer.start(m_cfg.backendResponseTimeoutMs);
    pumpRequestBody();
    // The request leaves now rather than on the next loop turn.
    if (m_backend)
        if (auto *socket = qobject_cast<QAbstractSocket *>(m_backend->io()))
            socket->flush();
    if (m_phase == Phase::Exchange)
        pumpResponse();
}

void HttpSession::onBackendBytesWritten() {
    if (m_phase == Phase::Exchange) {
        if (!m_responseStarted)
            m_backendTimer.start(m_cfg.backendResponseTimeoutMs); // the backend is taking the upload
        pumpRequestBody();
    } else if (m_phase == Phase::Tunnel) {
        handOverTunnel();
    }
}

void HttpSession::onBackendTimeout() {
    if (m_phase == Phase::Connecting) {
        fail(504, QStringLiteral("backend did not accept the connection in time"),
             {{QStringLiteral("project"), m_projectName}});
    } else if (m_phase == Phase::Exchange) {
        if (!m_requestComplete && !m_responseStarted && m_backend && m_backend->bytesToWrite() == 0) {
            // The backend took everything we had; it is the client's body that stalls.
            fail(408, QStringLiteral("request body not received in time"));
            return;
        }
        fail(504, QStringLiteral("backend did not answer in time"),
             {{QStringLiteral("project"), m_projectName}});
    }
}

bool HttpSession::retryable() const {
    return m_backendReused && m_attempts < 2 && !m_responseStarted && isIdempotent(m_req.method) &&
           !m_req.hasBody() && !m_req.upgrade;
}

void HttpSession::onBackendClosed() {
    if (m_phase == Phase::Connecting) {
        const QString why = m_backend ? m_backend->lastError() : QString();
        fail(502, QStringLiteral("backend refused the connection"),
             {{QStringLiteral("project"), m_projectName}, {QStringLiteral("reason"), why}});
    } else if (m_phase == Phase::Exchange) {
        pumpResponse(); // drains what is still buffered, then handles the end
    } else if (m_phase == Phase::Tunnel) {
        handOverTunnel();
    }
}

void HttpSession::handleBackendEof() {
    if (m_responseComplete)
        return;
    if (retryable()) {
        qCDebug(lcHttp) << "pooled backend connection was stale; retrying once";
        releaseBackend(false);
        connectBackend(false);
        return;
    }
    if (m_responseHeadSent || m_responseStarted) {
        // A close-delimited body ends here; anything else is a truncated answer.
        feedResponse(nullptr, 0);
        if (m_responseComplete) {
            m_backendKeepAlive = false;
            maybeFinishExchange();
            return;
        }
    }
    if (!m_responseHeadSent) {
        fail(502, QStringLiteral("backend closed the connection without an answer"),
             {{QStringLiteral("project"), m_projectName}});
        return;
    }
    m_lastStatus = m_resStatus;
    m_localError = true;
    endExchange(true);
}

size_t HttpSession::feedResponse(const char *data, size_t length) {
    http_parser_pause(&m_resParser, 0);
    const size_t used = http_parser_execute(&m_resParser, &ParserCallbacks::response(), data, length);
    const http_errno err = HTTP_PARSER_ERRNO(&m_resParser);
    if (err != HPE_OK && err != HPE_PAUSED)
        m_resError = true;
    return used;
}

void HttpSession::pumpResponse() {
    if (m_phase != Phase::Exchange || !m_backend)
        return;
    while (!m_responseComplete) {
        if (m_client->bytesToWrite() >= m_cfg.relayBufferBytes)
            return; // resumed by the client's bytesWritten (which also restarts the timer)
        const QByteArray data = m_backend->io()->read(kReadChunk);
        if (data.isEmpty()) {
            if (m_backend->isClosed())
                handleBackendEof();
            return;
        }
        m_responseStarted = true;
        m_backendTimer.start(m_cfg.backendResponseTimeoutMs);
        const size_t used = feedResponse(data.constData(), size_t(data.size()));
        if (m_resError) {
            if (m_clientClosed) {
                teardown(); // an answer other than 101 to a client that left after its Upgrade
                return;
            }
            if (!m_responseHeadSent)
                fail(502, QStringLiteral("invalid answer from backend"),
                     {{QStringLiteral("project"), m_projectName}});
            else
                fail(502, QStringLiteral("invalid answer from backend"));
            return;
        }
        if (m_responseComplete)
            m_backendLeftover = data.mid(qsizetype(used));
    }
    m_backendTimer.stop();
    if (m_upgraded)
        startTunnel();
    else
        maybeFinishExchange();
}

int HttpSession::onResponseHeadersComplete() {
    const int status = int(m_resParser.status_code);
    const QList<QByteArray> tokens = connectionTokens(m_resHeaders);
    if (status >= 100 && status < 200 && status != 101) {
        m_resInterim = true;
        if (m_req.minor >= 1 && m_req.major == 1) {
            QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + m_resReason + "\r\n";
            for (const auto &[name, value] : std::as_const(m_resHeaders)) {
                if (!isHopByHop(name, tokens))
                    out += name + ": " + value + "\r\n";
            }
            writeClient(out + "\r\n");
        }
        return 1;
    }
    if (m_clientClosed && status != 101)
        return -1; // the client is gone (pumpResponse ends the session)
    m_resStatus = status;
    m_lastStatus = status;
    if (status == 101) {
        if (!m_req.upgrade)
            return -1; // a 101 nobody asked for
        m_upgraded = true;
    }
    writeResponseHead();
    const bool noBody = m_req.method == HTTP_HEAD || status == 204 || status == 304 || status == 101;
    return noBody ? 1 : 0;
}

void HttpSession::writeResponseHead() {
    const int status = m_resStatus;
    const QList<QByteArray> tokens = connectionTokens(m_resHeaders);
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + m_resReason + "\r\n";
    QByteArray contentLength;
    for (const auto &[name, value] : std::as_const(m_resHeaders)) {
        if (name.compare("content-length", Qt::CaseInsensitive) == 0)
            contentLength = value.trimmed();
        if (isHopByHop(name, tokens))
            continue;
        if (!m_prefix.isEmpty() && name.compare("location", Qt::CaseInsensitive) == 0)
            out += name + ": " + rewriteLocation(value.trimmed(), m_prefix) + "\r\n";
        else
            out += name + ": " + value + "\r\n";
    }
    const bool client11 = m_req.major == 1 && m_req.minor >= 1;
    if (status == 101) {
        out += "Connection: Upgrade\r\nUpgrade: " + headerValue(m_resHeaders, "upgrade") + "\r\n\r\n";
        if (m_clientClosed) {
            // Qt's client socket is closed (the client half-closed): the head goes first
            // through the tunnel.
            m_tunnelHead = out;
            m_exBytesOut += quint64(out.size());
            countOut(quint64(out.size()));
        } else {
            writeClient(out);
        }
        m_responseHeadSent = true;
        return;
    }
    const bool noBody = m_req.method == HTTP_HEAD || status == 204 || status == 304;
    if (m_req.upgrade)
        m_closeAfter = true; // the upgrade was refused; the client may have sent more already
    if (noBody) {
        if (status != 204 && !contentLength.isEmpty())
            out += "Content-Length: " + contentLength + "\r\n";
    } else if ((m_resParser.flags & F_CONTENTLENGTH) && !(m_resParser.flags & F_CHUNKED)) {
        out += "Content-Length: " + QByteArray::number(qulonglong(m_resParser.content_length)) + "\r\n";
    } else if (client11) {
        out += "Transfer-Encoding: chunked\r\n";
        m_chunkedToClient = true;
    } else {
        m_closeAfter = true; // an HTTP/1.0 client learns the end of the body from the close
    }
    if (!m_req.keepAlive || m_draining)
        m_closeAfter = true;
    if (m_closeAfter)
        out += "Connection: close\r\n";
    else if (!client11)
        out += "Connection: keep-alive\r\n";
    writeClient(out + "\r\n");
    m_responseHeadSent = true;
}

void HttpSession::pumpRequestBody() {
    if (m_phase != Phase::Exchange || !m_backend)
        return;
    while (!m_requestComplete) {
        if (m_backend->bytesToWrite() >= m_cfg.relayBufferBytes)
            return; // resumed by the backend's bytesWritten
        if (m_inBuf.isEmpty()) {
            m_inBuf = readClient(kReadChunk);
            if (m_inBuf.isEmpty())
                return; // resumed by the client's readyRead
        }
        const size_t used = feedRequest(m_inBuf.constData(), size_t(m_inBuf.size()));
        m_inBuf.remove(0, qsizetype(used));
        if (m_bodyTooLarge) {
            fail(413, QStringLiteral("request body larger than %1 bytes").arg(m_cfg.maxBodyBytes));
            return;
        }
        const http_errno err = HTTP_PARSER_ERRNO(&m_reqParser);
        if (err != HPE_OK && err != HPE_PAUSED) {
            fail(
                400,
                QStringLiteral("malformed request body: %1").arg(QLatin1String(http_errno_description(err))));
            return;
        }
    }
    maybeFinishExchange();
}

void HttpSession::maybeFinishExchange() {
    if (m_phase != Phase::Exchange || !m_responseComplete)
        return;
    if (!m_requestComplete) {
        // The backend answered before the whole request body arrived. The rest of the
        // body cannot be skipped reliably, so both connections end here.
        releaseBackend(false);
        endExchange(true);
        return;
    }
    const bool reuse = m_backendKeepAlive && m_backendLeftover.isEmpty() && m_backend &&
                       !m_backend->isClosed() && m_backend->bytesAvailable() == 0;
    releaseBackend(reuse);
    endExchange(m_closeAfter);
}

void HttpSession::releaseBackend(bool reuse) {
    m_backendTimer.stop();
    if (!m_backend)
        return;
    BackendLink *link = std::exchange(m_backend, nullptr);
    disconnect(link, nullptr, this, nullptr);
    if (reuse) {
        BackendPool::forCurrentThread()->give(link, m_cfg.backendPoolSize, m_cfg.keepAliveIdleMs);
        return;
    }
    link->abort();
    link->deleteLater();
}

// ---------------------------------------------------------------- tunnel

void HttpSession::startTunnel() {
    m_phase = Phase::Tunnel;
    m_backendTimer.stop();
    // The 101 exchange is logged now; the tunnel's bytes are counted on the route.
    if (m_ctx->accessLog) {
        AccessRecord r;
        r.client = m_clientAddress;
        r.project = m_projectName;
        r.method = m_req.methodName;
        r.path = m_req.url;
        r.status = 101;
        r.bytesIn = m_exBytesIn;
        r.bytesOut = m_exBytesOut;
        r.durationUs = m_clock.nsecsElapsed() / 1000;
        m_ctx->accessLog->write(r);
    }
    // Bytes already read past the heads on either side are handed to the relay.
    countOut(quint64(m_backendLeftover.size()));
    m_tunnelToVisitor = std::exchange(m_tunnelHead, {}) + std::exchange(m_backendLeftover, {});
    m_tunnelToBackend = std::exchange(m_inBuf, {});
    // Own descriptors of both connections (the client's was taken when the Upgrade was
    // forwarded): if Qt reads an EOF while the 101 head is still flushing it closes its
    // descriptor, and the connection must survive.
    if (m_tunnelClientFd < 0)
        m_tunnelClientFd = dupSocket(m_client->socketDescriptor());
    m_tunnelBackendFd = dupSocket(backendDescriptor(m_backend->io()));
    if (m_tunnelClientFd < 0) {
        qCDebug(lcHttp) << "tunnel: no descriptor for the client connection (gone, or out of descriptors)"
                        << m_clientAddress;
        teardown();
        return;
    }
    if (m_tunnelBackendFd < 0) {
        // The backend answered and closed at once: there is nothing to tunnel to. What it
        // said goes to the client, then the close.
        QByteArray rest = std::exchange(m_tunnelToVisitor, {});
        const QByteArray more = m_backend->io()->readAll();
        countOut(quint64(more.size()));
        rest += more;
        closeTunnelDescriptors();
        if (!rest.isEmpty())
            m_client->write(rest);
        m_lastStatus = 101;
        closeClient();
        return;
    }
    m_tunnelTimer.start(m_cfg.tunnelIdleTimeoutMs);
    handOverTunnel();
}

void HttpSession::handOverTunnel() {
    if (m_phase != Phase::Tunnel || !m_backend || m_dead)
        return;
    // What the Qt sockets still hold to write (the 101 head, the request head) cannot be
    // taken out of them: it reaches the wire before the descriptors change hands, so no
    // byte is lost or reordered. Nothing is read meanwhile; flush() does not block, but
    // it may emit bytesWritten, which lands here again: the inner call does the work.
    const auto unsent = [](QIODevice *io, bool flush) -> qint64 {
        if (auto *tcp = qobject_cast<QAbstractSocket *>(io)) {
            if (tcp->state() == QAbstractSocket::UnconnectedState)
                return 0;
            if (flush)
                tcp->flush();
            return tcp->bytesToWrite();
        }
        if (auto *local = qobject_cast<QLocalSocket *>(io)) {
            if (local->state() == QLocalSocket::UnconnectedState)
                return 0;
            if (flush)
                local->flush();
            return local->bytesToWrite();
        }
        return 0;
    };
    if (m_flushingTunnel)
        return;
    m_flushingTunnel = true;
    unsent(m_client, true);
    if (m_backend)
        unsent(m_backend->io(), true);
    m_flushingTunnel = false;
    if (m_phase != Phase::Tunnel || !m_backend || m_dead)
        return;
    if (const qint64 waiting = unsent(m_client, false) + unsent(m_backend->io(), false); waiting > 0) {
        qCDebug(lcHttp) << "tunnel handover waits for" << waiting << "unsent bytes" << m_clientAddress;
        return; // resumed by bytesWritten or a close on either side
    }

    TcpRelayAdoption adoption;
    adoption.visitorFd = std::exchange(m_tunnelClientFd, -1);
    adoption.backendFd = std::exchange(m_tunnelBackendFd, -1);
    adoption.toBackend = std::exchange(m_tunnelToBackend, {});
    if (const qint64 n = m_client->bytesAvailable(); n > 0)
        adoption.toBackend += readClient(n);
    adoption.toVisitor = std::exchange(m_tunnelToVisitor, {});
    const QByteArray fromBackend = m_backend->io()->readAll();
    countOut(quint64(fromBackend.size()));
    adoption.toVisitor += fromBackend;
    adoption.idleTimeoutMs = m_cfg.tunnelIdleTimeoutMs;
    adoption.bufferBytes = m_cfg.relayBufferBytes;
    adoption.label = m_projectName + QStringLiteral(" (upgrade tunnel)");
    // The connection is counted open on these; the relay closes them when it ends.
    for (const auto &stats : {m_connStats, m_projStats}) {
        if (stats)
            adoption.stats.append(stats);
    }
    m_connStats.reset();
    m_projStats.reset();

    m_dead = true;
    for (QTimer *t : {&m_headerTimer, &m_idleTimer, &m_backendTimer, &m_tunnelTimer, &m_lingerTimer})
        t->stop();
    // Closing Qt's descriptors does not end the connections: the relay holds the others.
    releaseBackend(false);
    disconnect(m_client, nullptr, this, nullptr);
    m_client->abort();
    auto *relay = new TcpRelay(std::move(adoption), parent());
    // The listener counts the client socket's destroyed(): the relay keeps the (closed)
    // socket object as its child, so the connection counts until the relay ends.
    m_client->setParent(relay);
    qCDebug(lcHttp) << "tunnel handed to a relay" << m_clientAddress << m_projectName;
    relay->start();
    deleteLater();
}

void HttpSession::closeTunnelDescriptors() {
    for (int *fd : {&m_tunnelClientFd, &m_tunnelBackendFd}) {
        if (*fd >= 0)
            ::close(*fd);
        *fd = -1;
    }
}

void HttpSession::countOut(quint64 n) {
    if (n == 0)
        return;
    if (m_connStats)
        m_connStats->addOut(n);
    if (m_projStats)
        m_projStats->addOut(n);
}

} // namespace portico::http

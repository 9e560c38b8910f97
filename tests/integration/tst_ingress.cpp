// The HTTP engine on an ingress listener: path routing, header rules, bodies, keep-alive,
// pipelining, errors and timeouts, against a real origin server on loopback.
#include "httpbackend.h"
#include "httpclient.h"
#include "httpharness.h"
#include "logcapture.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace portico;
using namespace portico::test;

namespace {

Config testConfig() {
    Config c;
    c.headerTimeoutMs = 1000;
    c.keepAliveIdleMs = 3000;
    c.backendConnectTimeoutMs = 1000;
    c.backendResponseTimeoutMs = 800;
    c.maxHeaderBytes = 8 * 1024;
    c.maxHeaderCount = 30;
    c.maxBodyBytes = 8 * 1024 * 1024;
    return c;
}

QByteArray get(const QByteArray &target, const QByteArray &extra = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: example.test\r\n" + extra + "\r\n";
}

QJsonObject echoOf(const HttpTestResponse &r) {
    return QJsonDocument::fromJson(r.body).object();
}

QList<QPair<QByteArray, QByteArray>> echoHeaders(const HttpTestResponse &r) {
    QList<QPair<QByteArray, QByteArray>> out;
    const QJsonArray a = echoOf(r).value(QStringLiteral("headers")).toArray();
    for (const QJsonValue &v : a)
        out.append({v.toArray().at(0).toString().toLatin1(), v.toArray().at(1).toString().toLatin1()});
    return out;
}

QByteArray headerIn(const QList<QPair<QByteArray, QByteArray>> &headers, const QByteArray &name) {
    for (const auto &[n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

} // namespace

class TestIngress final : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<HttpTestBackend> m_backend;
    std::unique_ptr<HttpProxyHarness> m_proxy;
    std::unique_ptr<RefusingPort> m_closedPort; // the "down" project's backend
    QTemporaryDir m_site; // public/: the "site" project's static root; secret.txt beside it

    HttpTestResponse roundTrip(const QByteArray &request, bool head = false) {
        HttpTestClient c;
        if (!c.connectTo(m_proxy->port()) || !c.send(request))
            return {};
        return c.read(head);
    }

private Q_SLOTS:
    void initTestCase() {
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=false"));
        m_backend = std::make_unique<HttpTestBackend>();
        m_proxy = std::make_unique<HttpProxyHarness>(testConfig(), QString(), true);
        m_closedPort = std::make_unique<RefusingPort>();
        QVERIFY(m_site.isValid());
        const QString root = m_site.filePath(QStringLiteral("public"));
        QVERIFY(QDir().mkpath(root + QStringLiteral("/docs")));
        writeFile(root, QStringLiteral("index.html"), "<h1>static site</h1>\n");
        writeFile(root + QStringLiteral("/docs"), QStringLiteral("guide.txt"), "read me\n");
        // A file that exists right outside the root, so that a traversal that got out
        // would be answered with it, not with a 404 that passes by accident.
        writeFile(m_site.path(), QStringLiteral("secret.txt"), "top secret\n");
        BackendTarget none;
        BackendTarget unix;
        unix.kind = BackendTarget::Kind::Unix;
        unix.unixPath = m_backend->unixPath();
        BackendTarget site;
        site.kind = BackendTarget::Kind::Static;
        site.staticRoot = m_site.filePath(QStringLiteral("public"));
        m_proxy->publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())},
                          {QStringLiteral("sock"), unix},
                          {QStringLiteral("site"), site},
                          {QStringLiteral("hidden"), HttpProxyHarness::tcp(m_backend->port()), false},
                          {QStringLiteral("down"), HttpProxyHarness::tcp(m_closedPort->port())},
                          {QStringLiteral("starting"), none, true, QStringLiteral("starting"),
                           QStringLiteral("waiting for the backend to listen")}});
    }
    void cleanupTestCase() {
        m_proxy.reset();
        m_backend.reset();
        m_closedPort.reset();
    }

    void routing_data() {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("backendTarget");
        QTest::addColumn<QByteArray>("location");
        QTest::newRow("prefix stripped")
            << QByteArray("/app/echo?x=1&y=2") << 200 << QByteArray("/echo?x=1&y=2") << QByteArray();
        QTest::newRow("root of project") << QByteArray("/app/") << 404 << QByteArray() << QByteArray();
        QTest::newRow("absolute-form")
            << QByteArray("http://example.test/app/echo?q") << 200 << QByteArray("/echo?q") << QByteArray();
        QTest::newRow("bare project redirects")
            << QByteArray("/app") << 308 << QByteArray() << QByteArray("/app/");
        QTest::newRow("redirect keeps query")
            << QByteArray("/app?a=b") << 308 << QByteArray() << QByteArray("/app/?a=b");
        QTest::newRow("unknown project") << QByteArray("/nope/echo") << 404 << QByteArray() << QByteArray();
        QTest::newRow("not path-routed") << QByteArray("/hidden/echo") << 404 << QByteArray() << QByteArray();
    }
    void routing() {
        QFETCH(QByteArray, target);
        QFETCH(int, status);
        QFETCH(QByteArray, backendTarget);
        QFETCH(QByteArray, location);
        const HttpTestResponse r = roundTrip(get(target));
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, status);
        if (!backendTarget.isEmpty())
            QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString().toLatin1(), backendTarget);
        if (!location.isEmpty())
            QCOMPARE(r.header("location"), location);
        if (status == 404 && backendTarget.isEmpty() && target.startsWith("/nope"))
            QCOMPARE(QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toString(),
                     QStringLiteral("unknown project"));
    }

    void rootListsProjects() {
        const HttpTestResponse r = roundTrip(get("/"));
        QCOMPARE(r.status, 200);
        const QJsonArray a = QJsonDocument::fromJson(r.body).array();
        QStringList names;
        for (const QJsonValue &v : a)
            names.append(v.toObject().value(QStringLiteral("project")).toString());
        QCOMPARE(names, (QStringList{"app", "down", "site", "sock", "starting"}));
        QCOMPARE(a.at(0).toObject().value(QStringLiteral("path")).toString(), QStringLiteral("/app/"));
    }

    void apiRoutes() {
        const HttpTestResponse r = roundTrip(get("/_api/routes"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        const QJsonArray rows = QJsonDocument::fromJson(r.body).array();
        QCOMPARE(rows.size(), 6); // ingress + app, sock, site, down, starting (hidden is not path-routed)
        const QJsonObject ingress = rows.at(0).toObject();
        QCOMPARE(ingress.value(QStringLiteral("host_port")).toInt(), int(m_proxy->port()));
        QCOMPARE(ingress.value(QStringLiteral("protocol")).toString(), QStringLiteral("http"));
        QVERIFY(ingress.value(QStringLiteral("project")).isNull());
        for (int i = 1; i < rows.size(); ++i) {
            const QJsonObject row = rows.at(i).toObject();
            for (const char *key : {"host_port", "protocol", "project", "backend", "path", "state"})
                QVERIFY2(row.contains(QLatin1String(key)), key);
            QCOMPARE(row.value(QStringLiteral("path")).toString(),
                     QLatin1Char('/') + row.value(QStringLiteral("project")).toString() + QLatin1Char('/'));
        }
        QCOMPARE(rows.at(1).toObject().value(QStringLiteral("backend")).toString(),
                 QStringLiteral("127.0.0.1:%1").arg(m_backend->port()));
    }

    void apiRoutesOtherMethods_data() {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("POST") << QByteArray("POST");
        QTest::newRow("DELETE") << QByteArray("DELETE");
        QTest::newRow("PUT") << QByteArray("PUT");
    }
    void apiRoutesOtherMethods() {
        QFETCH(QByteArray, method);
        const HttpTestResponse r =
            roundTrip(method + " /_api/routes HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        QCOMPARE(r.status, 405);
        QCOMPARE(r.header("allow"), QByteArray("GET, HEAD"));
        QVERIFY(QJsonDocument::fromJson(r.body).object().contains(QStringLiteral("error")));
    }

    void forwardedAndHopByHopHeaders() {
        const HttpTestResponse r = roundTrip(get("/app/echo", "X-A: 1\r\n"
                                                              "X-Forwarded-For: 10.0.0.1\r\n"
                                                              "Connection: keep-alive, X-Drop-Me\r\n"
                                                              "X-Drop-Me: secret\r\n"
                                                              "Keep-Alive: timeout=5\r\n"
                                                              "TE: trailers\r\n"
                                                              "Proxy-Authorization: Basic eA==\r\n"
                                                              "X-Forwarded-Prefix: /forged\r\n"
                                                              "X-B: 2\r\n"
                                                              "X-A: 3\r\n"));
        QCOMPARE(r.status, 200);
        const auto h = echoHeaders(r);
        QCOMPARE(headerIn(h, "x-forwarded-for"), QByteArray("10.0.0.1, 127.0.0.1"));
        QCOMPARE(headerIn(h, "x-forwarded-proto"), QByteArray("http"));
        QCOMPARE(headerIn(h, "x-forwarded-host"), QByteArray("example.test"));
        QCOMPARE(headerIn(h, "x-forwarded-prefix"), QByteArray("/app"));
        QCOMPARE(headerIn(h, "host"), QByteArray("example.test"));
        for (const char *gone : {"connection", "x-drop-me", "keep-alive", "te", "proxy-authorization"})
            QVERIFY2(headerIn(h, gone).isEmpty(), gone);
        // End-to-end headers keep their order, repeated ones included.
        QList<QByteArray> order;
        for (const auto &[n, v] : h) {
            if (n.startsWith("X-A") || n.startsWith("X-B"))
                order.append(n + '=' + v);
        }
        QCOMPARE(order, (QList<QByteArray>{"X-A=1", "X-B=2", "X-A=3"}));
    }

    void setCookieRepeatedInOrder() {
        const HttpTestResponse r = roundTrip(get("/app/cookies"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headerValues("set-cookie"),
                 (QList<QByteArray>{"a=1; Path=/", "b=2; HttpOnly", "c=3; Max-Age=60"}));
        QList<QByteArray> names;
        for (const QByteArray &n : r.headerNames()) {
            if (n == "set-cookie" || n == "x-order")
                names.append(n);
        }
        QCOMPARE(names, (QList<QByteArray>{"set-cookie", "x-order", "set-cookie", "set-cookie", "x-order"}));
        QCOMPARE(r.body, QByteArray("cookies"));
    }

    void locationRewrite_data() {
        QTest::addColumn<QByteArray>("to");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("root-relative") << QByteArray("/login") << QByteArray("/app/login");
        QTest::newRow("root") << QByteArray("/") << QByteArray("/app/");
        QTest::newRow("already prefixed") << QByteArray("/app/x") << QByteArray("/app/x");
        QTest::newRow("absolute") << QByteArray("http://other.test/x") << QByteArray("http://other.test/x");
        QTest::newRow("scheme-relative") << QByteArray("//other.test/x") << QByteArray("//other.test/x");
        QTest::newRow("relative") << QByteArray("next") << QByteArray("next");
    }
    void locationRewrite() {
        QFETCH(QByteArray, to);
        QFETCH(QByteArray, expected);
        const HttpTestResponse r =
            roundTrip(get("/app/redirect?to=" + QUrl::toPercentEncoding(QString::fromLatin1(to))));
        QCOMPARE(r.status, 302);
        QCOMPARE(r.header("location"), expected);
    }

    void bodies_data() {
        QTest::addColumn<QByteArray>("direction");
        QTest::addColumn<QByteArray>("mode");
        QTest::addColumn<qint64>("size");
        QTest::newRow("upload sized")
            << QByteArray("up") << QByteArray("sized") << qint64(3 * 1024 * 1024 + 17);
        QTest::newRow("upload chunked")
            << QByteArray("up") << QByteArray("chunked") << qint64(3 * 1024 * 1024 + 5);
        QTest::newRow("upload empty") << QByteArray("up") << QByteArray("sized") << qint64(0);
        QTest::newRow("download sized")
            << QByteArray("down") << QByteArray("sized") << qint64(5 * 1024 * 1024 + 3);
        QTest::newRow("download chunked")
            << QByteArray("down") << QByteArray("chunked") << qint64(5 * 1024 * 1024);
        QTest::newRow("download close-delimited")
            << QByteArray("down") << QByteArray("close") << qint64(777777);
    }
    void bodies() {
        QFETCH(QByteArray, direction);
        QFETCH(QByteArray, mode);
        QFETCH(qint64, size);
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        HttpTestResponse r;
        if (direction == "up") {
            const QByteArray framing = mode == "chunked"
                                           ? QByteArray("Transfer-Encoding: chunked\r\n")
                                           : "Content-Length: " + QByteArray::number(size) + "\r\n";
            QVERIFY(c.send("POST /app/echo HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n"));
            QVERIFY(c.sendPattern(size, mode == "chunked"));
            r = c.read();
            QCOMPARE(r.status, 200);
            const QJsonObject o = echoOf(r);
            QCOMPARE(qint64(o.value(QStringLiteral("body_length")).toDouble()), size);
            QCOMPARE(o.value(QStringLiteral("body_sha256")).toString().toLatin1(), httpPatternSha256(size));
            const auto h = echoHeaders(r);
            if (mode == "chunked")
                QCOMPARE(headerIn(h, "transfer-encoding"), QByteArray("chunked"));
            else
                QCOMPARE(headerIn(h, "content-length"), QByteArray::number(size));
        } else {
            QVERIFY(c.send(get("/app/download?size=" + QByteArray::number(size) + "&mode=" + mode)));
            r = c.read(false, 20000, false);
            QVERIFY2(r.ok, qPrintable(r.error));
            QCOMPARE(r.status, 200);
            QCOMPARE(r.bodyLength, size);
            QCOMPARE(r.bodySha256, httpPatternSha256(size));
            if (mode == "sized")
                QCOMPARE(r.header("content-length"), QByteArray::number(size));
            else
                QCOMPARE(r.header("transfer-encoding"), QByteArray("chunked")); // re-framed for HTTP/1.1
        }
    }

    void keepAliveReusesBackendConnections() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        const int before = m_backend->connectionsAccepted();
        for (int i = 0; i < 5; ++i) {
            QVERIFY(c.send(get("/app/echo?i=" + QByteArray::number(i))));
            const HttpTestResponse r = c.read();
            QCOMPARE(r.status, 200);
            QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString(),
                     QStringLiteral("/echo?i=%1").arg(i));
            QVERIFY(r.header("connection").isEmpty());
        }
        // One client connection, answered from at most one pooled backend connection.
        QVERIFY(m_backend->connectionsAccepted() - before <= 1);
    }

    void pipelinedAnsweredInOrder() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(get("/app/delay?ms=300&id=first") + get("/app/delay?ms=1&id=second") +
                       get("/_api/routes") + get("/app/echo?third") +
                       "HEAD /app/head HTTP/1.1\r\nHost: x\r\n\r\n" + get("/app/delay?ms=1&id=last")));
        HttpTestResponse r = c.read();
        QCOMPARE(r.body, QByteArray("id=first"));
        r = c.read();
        QCOMPARE(r.body, QByteArray("id=second"));
        r = c.read();
        QCOMPARE(r.status, 200);
        QVERIFY(QJsonDocument::fromJson(r.body).isArray());
        r = c.read();
        QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString(), QStringLiteral("/echo?third"));
        r = c.read(true);
        QCOMPARE(r.header("x-head"), QByteArray("yes"));
        r = c.read();
        QCOMPARE(r.body, QByteArray("id=last"));
    }

    void noBodyAnswers_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("contentLength");
        QTest::newRow("HEAD") << QByteArray("HEAD /app/head HTTP/1.1\r\nHost: x\r\n\r\n") << 200
                              << QByteArray("1234");
        QTest::newRow("204") << get("/app/status?code=204") << 204 << QByteArray();
        QTest::newRow("304") << get("/app/status?code=304") << 304 << QByteArray();
    }
    void noBodyAnswers() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QByteArray, contentLength);
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(request));
        HttpTestResponse r = c.read(true);
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("content-length"), contentLength);
        QVERIFY(r.header("transfer-encoding").isEmpty());
        // Had the proxy sent a body, it would be read as the next answer's head.
        QVERIFY(c.send(get("/app/echo?after")));
        r = c.read();
        QCOMPARE(r.status, 200);
        QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString(), QStringLiteral("/echo?after"));
    }

    void expectContinue() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(
            "POST /app/continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"));
        // The body is sent only after the interim answer arrives.
        QByteArray interim;
        QDeadlineTimer deadline(5000);
        while (!interim.contains("\r\n\r\n") && !deadline.hasExpired()) {
            if (c.socket().bytesAvailable() == 0)
                c.socket().waitForReadyRead(100);
            interim += c.socket().read(1);
        }
        QVERIFY2(interim.startsWith("HTTP/1.1 100 "), interim.constData());
        QVERIFY(c.send("hello world"));
        const HttpTestResponse r = c.read();
        QCOMPARE(r.status, 200);
        QCOMPARE(qint64(echoOf(r).value(QStringLiteral("body_length")).toDouble()), 11);
        QCOMPARE(echoOf(r).value(QStringLiteral("body_sha256")).toString().toLatin1(),
                 sha256Hex("hello world"));
        QCOMPARE(headerIn(echoHeaders(r), "expect"), QByteArray("100-continue"));
    }

    void errors_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("closes");
        QTest::newRow("404 unknown project") << get("/ghost/") << 404 << false;
        QTest::newRow("502 backend refused") << get("/down/x") << 502 << false;
        QTest::newRow("503 backend not serving") << get("/starting/x") << 503 << false;
        QTest::newRow("504 backend too slow") << get("/app/slow") << 504 << false;
        QTest::newRow("405 routes POST")
            << QByteArray("POST /_api/routes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}") << 405
            << true;
        QByteArray many;
        for (int i = 0; i < 31; ++i)
            many += "X-H" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("431 too many headers") << get("/app/echo", many) << 431 << true;
        QTest::newRow("431 head too large")
            << get("/app/echo", "X-Big: " + QByteArray(9000, 'b') + "\r\n") << 431 << true;
        QTest::newRow("413 declared body too large")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 8388609\r\n\r\n") << 413
            << true;
        QTest::newRow("400 malformed request line")
            << QByteArray("GET /app/ HTTP/1.1 extra\r\nHost: x\r\n\r\n") << 400 << true;
        QTest::newRow("405 CONNECT") << QByteArray("CONNECT example.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")
                                     << 405 << true;
    }
    void errors() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(bool, closes);
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(request));
        const HttpTestResponse r = c.read(false, 5000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        const QJsonObject o = QJsonDocument::fromJson(r.body).object();
        QVERIFY2(!o.value(QStringLiteral("error")).toString().isEmpty(), r.body.constData());
        if (status == 503) {
            QCOMPARE(o.value(QStringLiteral("project")).toString(), QStringLiteral("starting"));
            QCOMPARE(o.value(QStringLiteral("state")).toString(), QStringLiteral("starting"));
            QCOMPARE(o.value(QStringLiteral("reason")).toString(),
                     QStringLiteral("waiting for the backend to listen"));
        }
        if (closes) {
            QCOMPARE(r.header("connection"), QByteArray("close"));
            QVERIFY(c.waitClosed(3000));
        } else {
            // The connection stays usable after an error that did not desync it.
            QVERIFY(c.send(get("/app/echo?next")));
            QCOMPARE(c.read().status, 200);
        }
    }

    void backendConnectTimeout() {
        // A listener that never accepts, with its (tiny) backlog filled: further SYNs are
        // dropped, so the proxy's connect hangs until backendConnectTimeoutMs.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        QCOMPARE(::listen(fd, 0), 0);
        socklen_t len = sizeof addr;
        QCOMPARE(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len), 0);
        const quint16 port = ntohs(addr.sin_port);
        std::vector<std::unique_ptr<QTcpSocket>> fillers;
        for (int i = 0; i < 4; ++i) {
            fillers.push_back(std::make_unique<QTcpSocket>());
            fillers.back()->connectToHost(QHostAddress::LocalHost, port);
        }
        // The queue is full once one filler's handshake is done.
        QTRY_VERIFY(std::any_of(fillers.cbegin(), fillers.cend(),
                                [](const auto &f) { return f->state() == QAbstractSocket::ConnectedState; }));
        HttpProxyHarness proxy(testConfig());
        proxy.publish({{QStringLiteral("hang"), HttpProxyHarness::tcp(port)}});
        HttpTestClient c;
        QVERIFY(c.connectTo(proxy.port()));
        QVERIFY(c.send(get("/hang/")));
        // A window that must see nothing: the proxy waits for the connect (timeout 1 s)
        // rather than answering at once; then it gives up with a 504.
        QVERIFY(!c.socket().waitForReadyRead(400));
        QCOMPARE(c.socket().state(), QAbstractSocket::ConnectedState);
        const HttpTestResponse r = c.read(false, 10000);
        ::close(fd);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 504);
        QVERIFY(QJsonDocument::fromJson(r.body)
                    .object()
                    .value(QStringLiteral("error"))
                    .toString()
                    .contains(QStringLiteral("connection")));
    }

    void bodyOverLimitWhileStreaming() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send("POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        c.sendPattern(9 * 1024 * 1024, true, 10000); // may fail half-way: the proxy closes
        const HttpTestResponse r = c.read(false, 5000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 413);
        QVERIFY(c.waitClosed(5000));
    }

    void smuggling_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("CL and TE") << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        QTest::newRow("TE and CL") << QByteArray(
            "POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "Content-Length: 5\r\n\r\n0\r\n\r\n");
        QTest::newRow("differing CL")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Content-Length: 6\r\n\r\nhello!");
        QTest::newRow("CL list") << QByteArray(
            "POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!");
        QTest::newRow("CL sign") << QByteArray(
            "POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello");
        QTest::newRow("bad chunk size")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                          "\r\nzz\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("chunk size overflow")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "fffffffffffffffffff\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("chunk data longer than size")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nhello\r\n0\r\n\r\n");
        QTest::newRow("TE not chunked")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                          "0\r\n\r\n");
        QTest::newRow("TE twice") << QByteArray(
            "POST /app/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        QTest::newRow("obs-fold") << QByteArray(
            "GET /app/echo HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
        QTest::newRow("obs-fold tab")
            << QByteArray("GET /app/echo HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n");
        QTest::newRow("space before colon")
            << QByteArray("GET /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello");
        QTest::newRow("bare CR") << QByteArray("GET /app/echo HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n");
        QTest::newRow("missing Host") << QByteArray("GET /app/echo HTTP/1.1\r\nX-A: b\r\n\r\n");
        QTest::newRow("two Hosts") << QByteArray("GET /app/echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    }
    void smuggling() {
        QFETCH(QByteArray, request);
        const int before = m_backend->requestsServed();
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(request));
        const HttpTestResponse r = c.read(false, 5000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 400);
        QVERIFY(
            !QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toString().isEmpty());
        QCOMPARE(r.header("connection"), QByteArray("close"));
        QVERIFY(c.waitClosed(3000));
        if (!QByteArray(QTest::currentDataTag()).startsWith("chunk"))
            QCOMPARE(m_backend->requestsServed(), before); // never reached the backend
    }

    void slowlorisCutWhileOthersServed() {
        HttpTestClient slow;
        QVERIFY(slow.connectTo(m_proxy->port()));
        QVERIFY(slow.send("GET /app/echo HTTP/1.1\r\nHost: x\r\nX-Dri"));
        // A window that must see nothing: the pending head is not cut before the header
        // timeout (1 s).
        QVERIFY(!slow.socket().waitForReadyRead(300));
        // Others are served while the slow head is pending, and the slow client trickles a
        // byte after each: trickling does not extend the timeout, so its 408 comes while it
        // is still trickling (the loop is bounded far beyond the timeout, not timed).
        int served = 0;
        for (QDeadlineTimer bound(15000); !bound.hasExpired();) {
            const HttpTestResponse r = roundTrip(get("/app/echo"));
            QCOMPARE(r.status, 200);
            ++served;
            if (slow.socket().bytesAvailable() > 0 || slow.socket().waitForReadyRead(20) ||
                slow.socket().state() != QAbstractSocket::ConnectedState)
                break;
            slow.send("p");
        }
        QVERIFY(served > 0);
        const HttpTestResponse r = slow.read(false, 1000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 408);
        QVERIFY(slow.waitClosed(3000));
    }

    void stalledRequestBody() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send("POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten.."));
        const HttpTestResponse r = c.read(false, 5000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 408);
        QVERIFY(c.waitClosed(3000));
    }

    void keepAliveIdleTimeout() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send(get("/app/echo")));
        QCOMPARE(c.read().status, 200);
        // A window that must see nothing: an idle keep-alive connection stays open for less
        // than keepAliveIdleMs (3 s); then it is closed.
        QVERIFY(!c.waitClosed(1500));
        QVERIFY(c.waitClosed(10000));
    }

    void http10Client() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send("GET /app/download?size=100000&mode=chunked HTTP/1.0\r\n\r\n"));
        const HttpTestResponse r = c.read(false, 5000, false);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.bodyLength, qint64(100000));
        QCOMPARE(r.bodySha256, httpPatternSha256(100000));
        QVERIFY(r.header("transfer-encoding").isEmpty()); // no chunked framing for HTTP/1.0
        QVERIFY(c.waitClosed(3000));
    }

    void countersAndAccessLog() {
        const auto table = m_proxy->routes().current();
        const RouteCounters before = table->project(QStringLiteral("app"))->ingressStats->sum();
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=true"));
        LogCapture log("portico.access");
        QCOMPARE(roundTrip(get("/app/echo?log")).status, 200);
        QCOMPARE(roundTrip(get("/down/x")).status, 502);
        // The worker logs an exchange once its answer is on the wire: wait for the lines.
        QTRY_VERIFY2(
            log.has(QRegularExpression(QStringLiteral(
                R"re(^\{"bytes_in":\d+,"bytes_out":\d+,"client":"127.0.0.1","duration_ms":[0-9.e-]+,"method":"GET","path":"/app/echo\?log","project":"app","status":200,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}$)re"))),
            qPrintable(log.lines().join(u'\n')));
        QTRY_VERIFY2(log.has(QRegularExpression(
                         QStringLiteral(R"re("path":"/down/x","project":"down","status":502)re"))),
                     qPrintable(log.lines().join(u'\n')));
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=false"));
        QTRY_VERIFY(table->ingressStats->sum().connectionsOpen == 0);
        const RouteCounters after = table->project(QStringLiteral("app"))->ingressStats->sum();
        QCOMPARE(after.requests, before.requests + 1);
        QVERIFY(after.bytesIn > before.bytesIn);
        QVERIFY(after.bytesOut > before.bytesOut);
        QCOMPARE(after.connectionsTotal, before.connectionsTotal + 1);
        QVERIFY(table->project(QStringLiteral("down"))->ingressStats->sum().errors >= 1);
        QVERIFY(table->ingressStats->sum().requests >= 2);
    }

    void dedicatedPort() {
        HttpProxyHarness dedicated(testConfig(), QStringLiteral("app"));
        dedicated.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port()), false}});
        HttpTestClient c;
        QVERIFY(c.connectTo(dedicated.port()));
        QVERIFY(c.send(get("/echo?x") + get("/_api/routes") + get("/app")));
        HttpTestResponse r = c.read();
        QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString(), QStringLiteral("/echo?x"));
        QVERIFY(headerIn(echoHeaders(r), "x-forwarded-prefix").isEmpty());
        r = c.read();
        QCOMPARE(r.status, 404); // the backend's answer: no special paths on a dedicated port
        r = c.read();
        QCOMPARE(r.status, 404);
        QCOMPARE(dedicated.dedicatedStats()->sum().requests, quint64(3));
    }

    void unixSocketBackend() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send("POST /sock/echo?u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        QVERIFY(c.sendPattern(2 * 1024 * 1024 + 1, true));
        HttpTestResponse r = c.read();
        QCOMPARE(r.status, 200);
        QCOMPARE(echoOf(r).value(QStringLiteral("target")).toString(), QStringLiteral("/echo?u"));
        QCOMPARE(echoOf(r).value(QStringLiteral("body_sha256")).toString().toLatin1(),
                 httpPatternSha256(2 * 1024 * 1024 + 1));
        QVERIFY(c.send(get("/sock/download?size=3000000&mode=chunked")));
        r = c.read(false, 10000, false);
        QCOMPARE(r.bodySha256, httpPatternSha256(3000000));
    }

    void staticRouteAnsweredByResolver_data() {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::newRow("index of the root")
            << QByteArray("/site/") << 200 << QByteArray("<h1>static site</h1>\n") << QByteArray("text/html");
        QTest::newRow("a file by name") << QByteArray("/site/index.html") << 200
                                        << QByteArray("<h1>static site</h1>\n") << QByteArray("text/html");
        QTest::newRow("a file in a folder") << QByteArray("/site/docs/guide.txt") << 200
                                            << QByteArray("read me\n") << QByteArray("text/plain");
        QTest::newRow("missing file") << QByteArray("/site/nope.html") << 404 << QByteArray() << QByteArray();
        QTest::newRow("traversal") << QByteArray("/site/../secret.txt") << 403 << QByteArray()
                                   << QByteArray();
        QTest::newRow("traversal from a folder")
            << QByteArray("/site/docs/../../secret.txt") << 403 << QByteArray() << QByteArray();
        QTest::newRow("encoded traversal")
            << QByteArray("/site/%2e%2e/secret.txt") << 403 << QByteArray() << QByteArray();
        QTest::newRow("encoded slash")
            << QByteArray("/site/docs/..%2f..%2fsecret.txt") << 403 << QByteArray() << QByteArray();
    }
    void staticRouteAnsweredByResolver() {
        // The engine passes static routes to resolveStatic() and writes what it returns.
        QFETCH(QByteArray, target);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        const HttpTestResponse r = roundTrip(get(target));
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("content-length").toLongLong(), r.bodyLength);
        if (status == 200) {
            QCOMPARE(r.body, body);
            QVERIFY2(r.header("content-type").startsWith(contentType), r.header("content-type").constData());
        } else {
            QVERIFY(!r.body.contains("top secret")); // nothing from outside the root
        }
    }

    void deadPooledConnection_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("idempotent GET is retried") << get("/app/echo?retried") << 200;
        QTest::newRow("HEAD is retried") << QByteArray("HEAD /app/head HTTP/1.1\r\nHost: x\r\n\r\n") << 200;
        QTest::newRow("POST is not replayed")
            << QByteArray("POST /app/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc") << 502;
    }
    void deadPooledConnection() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        // The backend connection that served this goes back to the pool, open, and will
        // close on its next request without answering.
        QVERIFY(c.send(get("/app/arm-die")));
        QCOMPARE(c.read().body, QByteArray("armed"));
        const int accepted = m_backend->connectionsAccepted();
        QVERIFY(c.send(request));
        const HttpTestResponse r = c.read(request.startsWith("HEAD"));
        QCOMPARE(r.status, status);
        if (status == 200) {
            QCOMPARE(m_backend->connectionsAccepted(), accepted + 1); // exactly one fresh connection
            // The same client goes on: the retried exchange must leave its connection as
            // able to retry as a fresh one (its retry buffer once lost its memory pool).
            for (int i = 0; i < 3; ++i) {
                QVERIFY(c.send(get("/app/echo?after-retry")));
                QCOMPARE(c.read().status, 200);
            }
            QVERIFY(c.send(get("/app/arm-die")));
            QCOMPARE(c.read().body, QByteArray("armed"));
            QVERIFY(c.send(get("/app/echo?second-retry")));
            QCOMPARE(c.read().status, 200);
        }
    }

    void slowReaderBackpressure() {
        // A client that stops reading must stop the backend too: the proxy reads from the
        // backend only while the client's buffer is under relayBufferBytes.
        Config config = testConfig();
        config.backendResponseTimeoutMs = 10000; // the stall below must not count as a dead client
        HttpProxyHarness proxy(config);
        proxy.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())}});
        HttpTestClient c;
        QVERIFY(c.connectTo(proxy.port()));
        c.socket().setReadBufferSize(64 * 1024);
        const qint64 size = 256LL * 1024 * 1024;
        const qint64 before = m_backend->downloadBytes();
        QVERIFY(c.send(get("/app/download?size=" + QByteArray::number(size) + "&mode=sized")));
        // A window in which nothing is read, to show what does NOT happen in it: the
        // backend does not get to send the whole body.
        QTest::qWait(1000);
        const qint64 sentWhileStalled = m_backend->downloadBytes() - before;
        qInfo("backend could send %lld KiB while the client read nothing", sentWhileStalled / 1024);
        // Kernel socket buffers on loopback hold a few MiB per hop; without backpressure
        // the whole 256 MiB would have gone by now.
        QVERIFY2(sentWhileStalled < 48 * 1024 * 1024, qPrintable(QString::number(sentWhileStalled)));
        c.socket().setReadBufferSize(0);
        const HttpTestResponse r = c.read(false, 30000, false);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.bodySha256, httpPatternSha256(size));
    }

    void slowBackendBackpressure() {
        // A backend that stops reading must stop the client: the proxy reads the upload
        // only while the backend's buffer is under relayBufferBytes.
        Config config = testConfig();
        config.backendResponseTimeoutMs = 10000;
        config.maxBodyBytes = 0;
        HttpProxyHarness proxy(config);
        proxy.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())}});
        HttpTestClient c;
        QVERIFY(c.connectTo(proxy.port()));
        const qint64 size = 256LL * 1024 * 1024;
        QVERIFY(c.send("POST /app/echo?stall=1500 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       QByteArray::number(size) + "\r\n\r\n"));
        // Offer the body for a window of one second and count what the kernel accepted: it
        // shows what does NOT happen in it (the whole body going through).
        const QByteArray &block = httpPatternBlock();
        qint64 offered = 0;
        for (const QDeadlineTimer window(1000); !window.hasExpired();) {
            if (c.socket().bytesToWrite() < 1024 * 1024) {
                const qint64 n = std::min<qint64>(256 * 1024, block.size() - offered % block.size());
                c.socket().write(block.constData() + offered % block.size(), n);
                offered += n;
            }
            c.socket().waitForBytesWritten(50);
        }
        const qint64 accepted = offered - c.socket().bytesToWrite();
        qInfo("the client could hand over %lld KiB while the backend read nothing", accepted / 1024);
        QVERIFY2(accepted < 48 * 1024 * 1024, qPrintable(QString::number(accepted)));
        // Then the rest flows.
        QVERIFY(c.sendPattern(size - offered, false));
        const HttpTestResponse r = c.read(false, 30000);
        QCOMPARE(r.status, 200);
        QCOMPARE(qint64(echoOf(r).value(QStringLiteral("body_length")).toDouble()), size);
    }

    void backendPoolIsBounded() {
        Config config = testConfig();
        config.backendPoolSize = 2;
        HttpProxyHarness proxy(config);
        proxy.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())}});
        auto round = [&] {
            std::vector<std::unique_ptr<HttpTestClient>> clients;
            for (int i = 0; i < 5; ++i) {
                clients.push_back(std::make_unique<HttpTestClient>());
                if (!clients.back()->connectTo(proxy.port()) ||
                    !clients.back()->send(get("/app/delay?ms=300&id=p")))
                    return false;
            }
            for (auto &c : clients) {
                if (c->read().body != "id=p")
                    return false;
            }
            return true;
        };
        const int before = m_backend->connectionsAccepted();
        QVERIFY(round());
        QCOMPARE(m_backend->connectionsAccepted() - before, 5); // five at once: five connections
        QVERIFY(round());
        QCOMPARE(m_backend->connectionsAccepted() - before, 8); // two came from the pool
    }

    void clientThatStopsReadingIsCut() {
        // With backendResponseTimeoutMs = 800 ms, a client that reads nothing for longer is
        // cut, and the backend connection with it.
        HttpProxyHarness proxy(testConfig());
        const auto table = proxy.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())}});
        HttpTestClient c;
        QVERIFY(c.connectTo(proxy.port()));
        c.socket().setReadBufferSize(64 * 1024);
        QVERIFY(c.send(get("/app/download?size=268435456&mode=sized")));
        QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsTotal, quint64(1), 5000);
        // A window that must see nothing: the reader is not cut before the timeout (800 ms).
        QTest::qWait(300);
        QCOMPARE(table->ingressStats->sum().connectionsOpen, quint64(1));
        QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
    }

    void drain() {
        HttpProxyHarness proxy(testConfig());
        proxy.publish({{QStringLiteral("app"), HttpProxyHarness::tcp(m_backend->port())}});
        HttpTestClient idle;
        QVERIFY(idle.connectTo(proxy.port()));
        QVERIFY(idle.send(get("/app/echo")));
        QCOMPARE(idle.read().status, 200);
        HttpTestClient busy;
        QVERIFY(busy.connectTo(proxy.port()));
        QVERIFY(busy.send(get("/app/delay?ms=500&id=busy")));
        QTRY_COMPARE(proxy.sessionCount(), 2);
        QVERIFY(proxy.drain() >= 1);    // the busy one at least is still there
        QVERIFY(idle.waitClosed(2000)); // an idle keep-alive connection closes at once
        const HttpTestResponse r = busy.read(false, 3000);
        QCOMPARE(r.body, QByteArray("id=busy")); // the busy one finishes its answer
        QCOMPARE(r.header("connection"), QByteArray("close"));
        QVERIFY(busy.waitClosed(3000));
        QTRY_COMPARE(proxy.sessionCount(), 0);
    }

    void stalePooledConnectionRetried() {
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        // The backend closes after this answer although the proxy asked to keep it; the
        // next idempotent request must still succeed.
        QVERIFY(c.send(get("/app/close")));
        QCOMPARE(c.read().status, 200);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(c.send(get("/app/echo")));
            QCOMPARE(c.read().status, 200);
        }
    }
};

QTEST_GUILESS_MAIN(TestIngress)
#include "tst_ingress.moc"

// Request and response heads as the proxy reads them (libhttp-parser plus the checks a
// proxy needs), and the heads it writes for backends and clients.
#include "net/http/httphead.h"
#include "net/http/httprewrite.h"

#include <QTest>

using namespace portico::http;

namespace {

QByteArray built(const std::string &s) {
    return QByteArray(s.data(), qsizetype(s.size()));
}

} // namespace

class TestHttpHead final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void requestRefusals_data() {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        QTest::newRow("fine") << QByteArray("GET /x HTTP/1.1\r\nHost: a\r\n\r\n") << 0;
        QTest::newRow("HTTP/1.0 without Host") << QByteArray("GET /x HTTP/1.0\r\n\r\n") << 0;
        QTest::newRow("missing Host") << QByteArray("GET /x HTTP/1.1\r\n\r\n") << 400;
        // Found by fuzz/httphead: libhttp-parser takes these as HTTP/0.9 and 2.0.
        QTest::newRow("no version (HTTP/0.9)") << QByteArray("GET /x\r\nHost: a\r\n\r\n") << 400;
        QTest::newRow("HTTP/0.9") << QByteArray("GET /x HTTP/0.9\r\nHost: a\r\n\r\n") << 400;
        QTest::newRow("HTTP/2.0 in 1.1 syntax") << QByteArray("GET /x HTTP/2.0\r\nHost: a\r\n\r\n") << 505;
        QTest::newRow("HTTP/1.9 is 1.x") << QByteArray("GET /x HTTP/1.9\r\nHost: a\r\n\r\n") << 0;
        QTest::newRow("repeated Host") << QByteArray("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
        QTest::newRow("Host with space") << QByteArray("GET /x HTTP/1.1\r\nHost: a b\r\n\r\n") << 400;
        QTest::newRow("Host with path") << QByteArray("GET /x HTTP/1.1\r\nHost: a/../b@c\r\n\r\n") << 400;
        QTest::newRow("space before colon")
            << QByteArray("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n") << 400;
        QTest::newRow("CL and TE")
            << QByteArray(
                   "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            << 400;
        QTest::newRow("bad version") << QByteArray("GET /x HTTP/9.9x\r\nHost: a\r\n\r\n") << 400;
        QTest::newRow("absolute with userinfo")
            << QByteArray("GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("too many fields")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n") << 431;
    }
    void requestRefusals() {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        ParsedHead h;
        const HeadError e = parseRequestHead(head, 3, &h);
        QCOMPARE(e.status, status);
    }

    void absoluteFormAuthorityWins() {
        ParsedHead h;
        const QByteArray head("GET http://other.test:81/app/x?y=1 HTTP/1.1\r\nHost: ignored.test\r\n\r\n");
        QVERIFY(!parseRequestHead(head, 100, &h));
        QCOMPARE(h.target, "/app/x?y=1");
        QCOMPARE(h.authority, "other.test:81");
        QCOMPARE(h.host, "other.test:81");
        std::string out;
        buildBackendHead(out, {h, "/x?y=1", "/app", "127.0.0.1", "", "portico-t"});
        const QByteArray b = built(out);
        QVERIFY2(b.startsWith("GET /x?y=1 HTTP/1.1\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nHost: other.test:81\r\n"), b.constData());
        QVERIFY2(!b.contains("ignored.test"), b.constData());
        QVERIFY2(b.contains("\r\nX-Forwarded-Host: other.test:81\r\n"), b.constData());
    }

    void absoluteFormIpv6() {
        ParsedHead h;
        QVERIFY(!parseRequestHead("GET http://[::1]:8080/p HTTP/1.1\r\nHost: x\r\n\r\n", 100, &h));
        QCOMPARE(h.authority, "[::1]:8080");
        QCOMPARE(h.target, "/p");
    }

    void h2cUpgradeDropped() {
        ParsedHead h;
        const QByteArray head(
            "GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
        QVERIFY(!parseRequestHead(head, 100, &h));
        QVERIFY(h.h2cDropped);
        QVERIFY(!h.upgrade);
        std::string out;
        buildBackendHead(out, {h, "/x", "", "127.0.0.1", "", "portico-t"});
        const QByteArray b = built(out).toLower();
        QVERIFY2(!b.contains("upgrade"), b.constData());
        QVERIFY2(!b.contains("http2-settings"), b.constData());
    }

    void websocketUpgradeKept() {
        ParsedHead h;
        QVERIFY(!parseRequestHead("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
                                  "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
                                  100, &h));
        QVERIFY(h.upgrade);
        std::string out;
        buildBackendHead(out, {h, "/ws", "", "127.0.0.1", "", "portico-t"});
        const QByteArray b = built(out);
        QVERIFY2(b.contains("\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nSec-WebSocket-Key: k\r\n"), b.constData());
    }

    void backendHeadRewrites() {
        ParsedHead h;
        QVERIFY(
            !parseRequestHead("POST /app/x HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, X-Secret\r\n"
                              "X-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: p\r\n"
                              "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Host: evil\r\nVia: 1.0 other\r\n"
                              "Set-Cookie-Like: kept\r\nTransfer-Encoding: chunked\r\n\r\n",
                              100, &h));
        std::string out;
        buildBackendHead(out, {h, "/x", "/app", "10.0.0.9", "", "portico-t"});
        const QByteArray b = built(out);
        for (const char *gone :
             {"X-Secret", "Keep-Alive", "TE:", "Proxy-Authorization", "evil", "keep-alive"})
            QVERIFY2(!b.contains(gone), gone);
        QVERIFY2(b.contains("\r\nX-Forwarded-For: 1.1.1.1, 10.0.0.9\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nX-Forwarded-Proto: http\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nX-Forwarded-Prefix: /app\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nVia: 1.0 other, 1.1 portico-t\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nSet-Cookie-Like: kept\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nTransfer-Encoding: chunked\r\n"), b.constData());
        QVERIFY(b.endsWith("\r\n\r\n"));
    }

    void hostlessRequestGetsTheListenerAsHost() {
        ParsedHead h;
        QVERIFY(!parseRequestHead("GET /x HTTP/1.0\r\n\r\n", 100, &h));
        std::string out;
        buildBackendHead(out, {h, "/x", "", "127.0.0.1", "127.0.0.1:3000", "portico-t"});
        const QByteArray b = built(out);
        QVERIFY2(b.contains("\r\nHost: 127.0.0.1:3000\r\n"), b.constData());
        QVERIFY2(b.contains("\r\nVia: 1.1 portico-t\r\n"), b.constData());
    }

    void clientHeadFraming_data() {
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<bool>("http11");
        QTest::addColumn<bool>("head");
        QTest::addColumn<int>("backend");
        QTest::addColumn<int>("client");
        QTest::addColumn<bool>("close");
        QTest::addColumn<QByteArray>("mustContain");
        const int none = int(Framing::None), length = int(Framing::Length), chunked = int(Framing::Chunked),
                  untilClose = int(Framing::UntilClose);
        QTest::newRow("length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") << true << false
                                << length << length << false << QByteArray("Content-Length: 5\r\n");
        QTest::newRow("chunked to 1.1")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") << true << false << chunked
            << chunked << false << QByteArray("Transfer-Encoding: chunked\r\n");
        QTest::newRow("chunked to 1.0")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") << false << false
            << chunked << untilClose << true << QByteArray("Connection: close\r\n");
        QTest::newRow("close-delimited to 1.1")
            << QByteArray("HTTP/1.0 200 OK\r\n\r\n") << true << false << untilClose << chunked << false
            << QByteArray("Transfer-Encoding: chunked\r\n");
        QTest::newRow("HEAD keeps the length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n") << true << true << none << none
            << false << QByteArray("Content-Length: 99\r\n");
        QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << true << false << none << none
                             << false << QByteArray("204 No Content\r\n");
        QTest::newRow("304") << QByteArray("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n") << true
                             << false << none << none << false << QByteArray("ETag: \"x\"\r\n");
        QTest::newRow("1.0 client keep-alive")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n") << false << false << length
            << length << false << QByteArray("Connection: keep-alive\r\n");
    }
    void clientHeadFraming() {
        QFETCH(QByteArray, response);
        QFETCH(bool, http11);
        QFETCH(bool, head);
        QFETCH(int, backend);
        QFETCH(int, client);
        QFETCH(bool, close);
        QFETCH(QByteArray, mustContain);
        ParsedHead r;
        QVERIFY(!parseResponseHead(response, 100, &r));
        std::string out;
        const ClientHeadResult res = buildClientHead(out, {r, http11, head, "", false});
        QCOMPARE(int(res.backendBody), backend);
        QCOMPARE(int(res.clientBody), client);
        QCOMPARE(res.close, close);
        QVERIFY2(built(out).contains(mustContain), out.c_str());
    }

    void responseHeadKeepsCookiesAndRewritesLocation() {
        ParsedHead r;
        QVERIFY(!parseResponseHead(
            "HTTP/1.1 302 Found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nLocation: /login\r\n"
            "Connection: close, X-Hop\r\nX-Hop: h\r\nContent-Length: 0\r\n\r\n",
            100, &r));
        std::string out;
        buildClientHead(out, {r, true, false, "/app", false});
        const QByteArray b = built(out);
        QVERIFY2(b.contains("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nLocation: /app/login\r\n"), b.constData());
        QVERIFY2(!b.contains("X-Hop"), b.constData());
        QVERIFY2(!b.contains("close"), b.constData()); // the backend's close is its own business
    }

    void invalidResponseIs502() {
        ParsedHead r;
        QCOMPARE(parseResponseHead("HTTP/1.1 2xx OK\r\n\r\n", 100, &r).status, 502);
        QCOMPARE(
            parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100, &r)
                .status,
            502);
    }
};

QTEST_GUILESS_MAIN(TestHttpHead)
#include "tst_httphead.moc"

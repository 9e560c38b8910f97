// The checks the HTTP engine adds on top of libhttp-parser, and its header rules.
#include "net/http/httpwire.h"

#include <QTest>

using namespace portico::http;

Q_DECLARE_METATYPE(portico::http::Fields)

class TestHttpWire final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void scanHead_data() {
        QTest::addColumn<QByteArray>("buffer");
        QTest::addColumn<int>("limit");
        QTest::addColumn<int>("result");
        QTest::addColumn<int>("length");
        using R = HeadScan::Result;
        QTest::newRow("complete CRLF")
            << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY") << 100 << int(R::Complete) << 27;
        QTest::newRow("complete LF") << QByteArray("GET / HTTP/1.1\nHost: a\n\nX") << 100 << int(R::Complete)
                                     << 24;
        QTest::newRow("incomplete") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n") << 100
                                    << int(R::Incomplete) << 0;
        QTest::newRow("incomplete CR at end")
            << QByteArray("GET / HTTP/1.1\r") << 100 << int(R::Incomplete) << 0;
        QTest::newRow("too large") << QByteArray("GET / HTTP/1.1\r\nX: " + QByteArray(200, 'x')) << 100
                                   << int(R::TooLarge) << 0;
        QTest::newRow("exactly at limit")
            << QByteArray("GET / HTTP/1.1\r\n\r\n") << 18 << int(R::Complete) << 18;
        QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n") << 100 << int(R::Bad)
                                  << 0;
        QTest::newRow("obs-fold tab")
            << QByteArray("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n") << 100 << int(R::Bad) << 0;
        QTest::newRow("bare CR") << QByteArray("GET / HTTP/1.1\rA: b\r\n\r\n") << 100 << int(R::Bad) << 0;
        QTest::newRow("NUL") << QByteArray("GET / HTTP/1.1\r\nA: \0b\r\n\r\n", 27) << 100 << int(R::Bad) << 0;
    }
    void scanHead() {
        QFETCH(QByteArray, buffer);
        QFETCH(int, limit);
        QFETCH(int, result);
        QFETCH(int, length);
        const HeadScan scan = portico::http::scanHead(buffer, limit);
        QCOMPARE(int(scan.result), result);
        if (scan.result == HeadScan::Result::Complete)
            QCOMPARE(scan.length, length);
        if (scan.result == HeadScan::Result::Bad)
            QVERIFY(scan.reason && *scan.reason);
    }

    // A head that arrives in pieces is scanned from where the last scan stopped, with the
    // same verdict as a scan of the whole.
    void scanHeadResumes() {
        const QByteArray head("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + QByteArray(300, 'x') + "\r\n\r\n");
        int from = 0;
        HeadScan scan;
        for (int size = 1; size <= head.size(); ++size) {
            scan = portico::http::scanHead(QByteArrayView(head.constData(), size), 4096, from);
            if (scan.result != HeadScan::Result::Incomplete)
                break;
            QVERIFY(scan.resumeAt <= size);
            from = scan.resumeAt;
        }
        QCOMPARE(int(scan.result), int(HeadScan::Result::Complete));
        QCOMPARE(scan.length, int(head.size()));
    }

    // Over the limit: a request line that alone is too long is told apart (414, not 431).
    void scanHeadTooLong() {
        const HeadScan line = portico::http::scanHead("GET /" + QByteArray(200, 'a'), 100);
        QCOMPARE(int(line.result), int(HeadScan::Result::TooLarge));
        QVERIFY(!line.requestLineDone);
        const HeadScan fields = portico::http::scanHead("GET / HTTP/1.1\r\nX: " + QByteArray(200, 'a'), 100);
        QCOMPARE(int(fields.result), int(HeadScan::Result::TooLarge));
        QVERIFY(fields.requestLineDone);
    }

    void leadingEmptyLines() {
        QCOMPARE(portico::http::leadingEmptyLines("\r\n\r\nGET"), 4);
        QCOMPARE(portico::http::leadingEmptyLines("GET"), 0);
        QCOMPARE(portico::http::leadingEmptyLines("\n"), 1);
    }

    void checkFraming_data() {
        QTest::addColumn<Fields>("headers");
        QTest::addColumn<bool>("ok");
        QTest::newRow("none") << Fields{{"Host", "a"}} << true;
        QTest::newRow("CL") << Fields{{"Content-Length", "5"}} << true;
        QTest::newRow("same CL twice") << Fields{{"Content-Length", "5"}, {"content-length", " 5"}} << true;
        QTest::newRow("differing CL") << Fields{{"Content-Length", "5"}, {"Content-Length", "6"}} << false;
        QTest::newRow("CL list") << Fields{{"Content-Length", "5, 5"}} << false;
        QTest::newRow("CL negative") << Fields{{"Content-Length", "-1"}} << false;
        QTest::newRow("CL empty") << Fields{{"Content-Length", ""}} << false;
        QTest::newRow("CL huge") << Fields{{"Content-Length", "99999999999999999999"}} << false;
        QTest::newRow("chunked") << Fields{{"Transfer-Encoding", "chunked"}} << true;
        QTest::newRow("Chunked case") << Fields{{"transfer-encoding", "Chunked"}} << true;
        QTest::newRow("CL and TE") << Fields{{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}
                                   << false;
        QTest::newRow("TE twice") << Fields{{"Transfer-Encoding", "chunked"},
                                            {"Transfer-Encoding", "chunked"}}
                                  << false;
        QTest::newRow("TE gzip") << Fields{{"Transfer-Encoding", "gzip, chunked"}} << false;
        QTest::newRow("TE identity") << Fields{{"Transfer-Encoding", "identity"}} << false;
        QTest::newRow("TE xchunked") << Fields{{"Transfer-Encoding", "xchunked"}} << false;
    }
    void checkFraming() {
        QFETCH(Fields, headers);
        QFETCH(bool, ok);
        const char *why = nullptr;
        QCOMPARE(portico::http::checkFraming(headers, &why), ok);
        QCOMPARE(why == nullptr, ok);
    }

    void hopByHop() {
        const Fields h{{"Connection", "keep-alive, X-Secret"}, {"Connection", "Foo"}};
        const Tokens tokens = connectionTokens(h);
        QCOMPARE(tokens.size(), 3);
        QCOMPARE(tokens.at(0), "keep-alive");
        QCOMPARE(tokens.at(1), "X-Secret");
        QCOMPARE(tokens.at(2), "Foo");
        for (const char *name : {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
                                 "Proxy-Authorization", "Proxy-Connection", "X-Secret", "foo"})
            QVERIFY2(isHopByHop(name, tokens), name);
        for (const char *name : {"Set-Cookie", "Location", "Host", "X-Forwarded-For", "Trailers", "Cookie"})
            QVERIFY2(!isHopByHop(name, tokens), name);
    }

    void rewriteLocation_data() {
        QTest::addColumn<QByteArray>("location");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("root-relative") << QByteArray("/login?next=/x") << QByteArray("/app/login?next=/x");
        QTest::newRow("root") << QByteArray("/") << QByteArray("/app/");
        QTest::newRow("prefixed") << QByteArray("/app/x") << QByteArray("/app/x");
        QTest::newRow("prefix itself") << QByteArray("/app") << QByteArray("/app");
        QTest::newRow("prefix as word start") << QByteArray("/application") << QByteArray("/app/application");
        QTest::newRow("absolute") << QByteArray("https://a.test/x") << QByteArray("https://a.test/x");
        QTest::newRow("scheme-relative") << QByteArray("//a.test/x") << QByteArray("//a.test/x");
        QTest::newRow("relative") << QByteArray("x/y") << QByteArray("x/y");
    }
    void rewriteLocation() {
        QFETCH(QByteArray, location);
        QFETCH(QByteArray, expected);
        QCOMPARE(portico::http::rewriteLocation(location, "/app"), expected);
        QCOMPARE(portico::http::rewriteLocation(location, ""), location);
    }

    void forwardedFor() {
        std::string out;
        portico::http::forwardedFor(out, {}, "127.0.0.1");
        QCOMPARE(out, std::string("127.0.0.1"));
        out.clear();
        portico::http::forwardedFor(
            out, {{"X-Forwarded-For", "1.1.1.1, 2.2.2.2"}, {"x-forwarded-for", "3.3.3.3"}}, "::1");
        QCOMPARE(out, std::string("1.1.1.1, 2.2.2.2, 3.3.3.3, ::1"));
    }

    void validHost_data() {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("ok");
        QTest::newRow("name") << QByteArray("example.test") << true;
        QTest::newRow("name and port") << QByteArray("example.test:8080") << true;
        QTest::newRow("ipv4") << QByteArray("127.0.0.1:80") << true;
        QTest::newRow("ipv6") << QByteArray("[::1]:8080") << true;
        QTest::newRow("ipv6 no port") << QByteArray("[2001:db8::1]") << true;
        QTest::newRow("empty") << QByteArray("") << true;
        QTest::newRow("pct-encoded") << QByteArray("a%41b") << true;
        QTest::newRow("space") << QByteArray("a b") << false;
        QTest::newRow("path") << QByteArray("a/../b@c") << false;
        QTest::newRow("userinfo") << QByteArray("user@host") << false;
        QTest::newRow("bad port") << QByteArray("host:80a") << false;
        QTest::newRow("long port") << QByteArray("host:123456") << false;
        QTest::newRow("unclosed bracket") << QByteArray("[::1") << false;
        QTest::newRow("bad pct") << QByteArray("a%4") << false;
        QTest::newRow("control") << QByteArray("a\x01b") << false;
    }
    void validHost() {
        QFETCH(QByteArray, host);
        QFETCH(bool, ok);
        QCOMPARE(portico::http::isValidHost(host), ok);
    }

    void isToken() {
        QVERIFY(portico::http::isToken("Content-Length"));
        QVERIFY(portico::http::isToken("x_y.z~!"));
        QVERIFY(!portico::http::isToken("Content-Length "));
        QVERIFY(!portico::http::isToken("a:b"));
        QVERIFY(!portico::http::isToken(""));
    }
};

QTEST_GUILESS_MAIN(TestHttpWire)
#include "tst_httpwire.moc"

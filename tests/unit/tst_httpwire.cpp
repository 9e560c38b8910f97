// The checks the HTTP engine adds on top of libhttp-parser, and its header rules.
#include "net/http/httpwire.h"

#include <QTest>

using namespace portico::http;

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
            QVERIFY(!scan.reason.isEmpty());
    }

    void leadingEmptyLines() {
        QCOMPARE(portico::http::leadingEmptyLines("\r\n\r\nGET"), 4);
        QCOMPARE(portico::http::leadingEmptyLines("GET"), 0);
        QCOMPARE(portico::http::leadingEmptyLines("\n"), 1);
    }

    void checkFraming_data() {
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<bool>("ok");
        QTest::newRow("none") << Headers{{"Host", "a"}} << true;
        QTest::newRow("CL") << Headers{{"Content-Length", "5"}} << true;
        QTest::newRow("same CL twice") << Headers{{"Content-Length", "5"}, {"content-length", " 5"}} << true;
        QTest::newRow("differing CL") << Headers{{"Content-Length", "5"}, {"Content-Length", "6"}} << false;
        QTest::newRow("CL list") << Headers{{"Content-Length", "5, 5"}} << false;
        QTest::newRow("CL negative") << Headers{{"Content-Length", "-1"}} << false;
        QTest::newRow("CL empty") << Headers{{"Content-Length", ""}} << false;
        QTest::newRow("CL huge") << Headers{{"Content-Length", "99999999999999999999"}} << false;
        QTest::newRow("chunked") << Headers{{"Transfer-Encoding", "chunked"}} << true;
        QTest::newRow("Chunked case") << Headers{{"transfer-encoding", "Chunked"}} << true;
        QTest::newRow("CL and TE") << Headers{{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}
                                   << false;
        QTest::newRow("TE twice") << Headers{{"Transfer-Encoding", "chunked"},
                                             {"Transfer-Encoding", "chunked"}}
                                  << false;
        QTest::newRow("TE gzip") << Headers{{"Transfer-Encoding", "gzip, chunked"}} << false;
        QTest::newRow("TE identity") << Headers{{"Transfer-Encoding", "identity"}} << false;
        QTest::newRow("TE xchunked") << Headers{{"Transfer-Encoding", "xchunked"}} << false;
    }
    void checkFraming() {
        QFETCH(Headers, headers);
        QFETCH(bool, ok);
        QByteArray why;
        QCOMPARE(portico::http::checkFraming(headers, &why), ok);
        QCOMPARE(why.isEmpty(), ok);
    }

    void hopByHop() {
        const Headers h{{"Connection", "keep-alive, X-Secret"}, {"Connection", "Foo"}};
        const QList<QByteArray> tokens = connectionTokens(h);
        QCOMPARE(tokens, (QList<QByteArray>{"keep-alive", "x-secret", "foo"}));
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
        QCOMPARE(portico::http::forwardedFor({}, "127.0.0.1"), QByteArray("127.0.0.1"));
        QCOMPARE(portico::http::forwardedFor(
                     {{"X-Forwarded-For", "1.1.1.1, 2.2.2.2"}, {"x-forwarded-for", "3.3.3.3"}}, "::1"),
                 QByteArray("1.1.1.1, 2.2.2.2, 3.3.3.3, ::1"));
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

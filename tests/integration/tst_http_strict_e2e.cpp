// The HTTP engine as a client meets it, against a real porticod: a client that half-closes
// after its request gets the answer (ingress, dedicated port, /_api/routes, static files;
// HTTP/1.0 and 1.1), and the strict handling of what is malformed or dangerous: 414 for a
// request line over the limit, 400 for an invalid Host and for chunked bodies that are
// not exactly chunked, the absolute-form authority over Host, no h2c upgrade, 508 for a
// request that loops through the daemon, one client address cannot fill a port, and the
// routing table can be switched off for the network (ingress_api).
#include "daemonfixture.h"
#include "httpbackend.h"
#include "relayutil.h"
#include "testutil.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace portico::test;

namespace {

struct Answer {
    int status = 0;
    QByteArray head;
    QByteArray body;
    bool closed = false;
};

Answer parseAnswer(const QByteArray &raw, bool closed) {
    Answer a;
    a.closed = closed;
    const qsizetype end = raw.indexOf("\r\n\r\n");
    if (!raw.startsWith("HTTP/1.1 ") || end < 0)
        return a;
    a.status = raw.mid(9, 3).toInt();
    a.head = raw.left(end + 2);
    a.body = raw.mid(end + 4);
    return a;
}

// Sends request, then (if halfClose) shutdown(SHUT_WR), and reads until the daemon closes.
Answer exchange(quint16 port, const QByteArray &request, bool halfClose, const QHostAddress &from = {}) {
    int fd = -1;
    if (from.isNull()) {
        fd = tcpConnect(QHostAddress::LocalHost, port);
    } else {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(from.toIPv4Address());
        sockaddr_in remote{};
        remote.sin_family = AF_INET;
        remote.sin_port = htons(port);
        remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0 ||
            ::connect(fd, reinterpret_cast<sockaddr *>(&remote), sizeof remote) != 0) {
            ::close(fd);
            return {};
        }
    }
    if (fd < 0)
        return {};
    sendAll(fd, request);
    if (halfClose)
        ::shutdown(fd, SHUT_WR);
    bool eof = false;
    const QByteArray raw = recvUntilEof(fd, 10000, &eof);
    closeFd(fd);
    return parseAnswer(raw, eof);
}

QByteArray headerOf(const Answer &a, const QByteArray &name) {
    for (const QByteArray &line : a.head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

// The echo backend's view of the request's headers (lower-case names).
QHash<QByteArray, QByteArray> echoedHeaders(const Answer &a) {
    QHash<QByteArray, QByteArray> out;
    const QJsonArray headers =
        QJsonDocument::fromJson(a.body).object().value(QStringLiteral("headers")).toArray();
    for (const QJsonValue &h : headers)
        out.insert(h.toArray().at(0).toString().toLatin1().toLower(),
                   h.toArray().at(1).toString().toLatin1());
    return out;
}

} // namespace

class TestHttpStrictE2e final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void halfClosedClientGetsItsAnswer_data();
    void halfClosedClientGetsItsAnswer();
    void refusals_data();
    void refusals();
    void absoluteFormAuthorityWins();
    void h2cUpgradeIsNotPassedOn();
    void loopIsAnswered508();
    void oneAddressCannotFillAPort();
    void ingressApiOff();

private:
    std::unique_ptr<DaemonFixture> m_daemon;
    std::unique_ptr<HttpTestBackend> m_backend;
    QTemporaryDir m_site;
    quint16 m_dedicated = 0;
};

void TestHttpStrictE2e::initTestCase() {
    m_backend = std::make_unique<HttpTestBackend>();
    QVERIFY(m_site.isValid());
    writeFile(m_site.path(), QStringLiteral("index.html"), "<h1>static</h1>\n");
    m_daemon = std::make_unique<DaemonFixture>();
    QString why;
    QVERIFY2(m_daemon->start(&why), qPrintable(why));
    const QByteArray upstream = "127.0.0.1:" + QByteArray::number(m_backend->port());
    QVERIFY(m_daemon->deploy(R"({"name":"app","runtime":"upstream","upstream":")" + upstream + R"("})")
                .contains(QStringLiteral("result")));
    m_dedicated = freePort();
    QVERIFY(m_daemon
                ->deploy(R"({"name":"ded","runtime":"upstream","upstream":")" + upstream +
                         R"(","listen":{"port":)" + QByteArray::number(m_dedicated) + "}}")
                .contains(QStringLiteral("result")));
    QVERIFY(m_daemon
                ->deploy(R"({"name":"site","runtime":"static","entry":")" + m_site.path().toUtf8() + R"("})",
                         m_site.path())
                .contains(QStringLiteral("result")));
}

// `printf 'GET / HTTP/1.0\r\n\r\n' | nc -q` and friends: the request, then the client's
// FIN at once. The answer still comes, whole, and then the close.
void TestHttpStrictE2e::halfClosedClientGetsItsAnswer_data() {
    QTest::addColumn<bool>("dedicated");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("version");
    QTest::addColumn<QByteArray>("expect");
    for (const QByteArray &version : {QByteArray("1.0"), QByteArray("1.1")}) {
        QTest::addRow("ingress, HTTP/%s", version.constData())
            << false << QByteArray("/app/echo?half") << version << QByteArray("\"target\":\"/echo?half\"");
        QTest::addRow("dedicated port, HTTP/%s", version.constData())
            << true << QByteArray("/echo?half") << version << QByteArray("\"target\":\"/echo?half\"");
        QTest::addRow("routing table, HTTP/%s", version.constData())
            << false << QByteArray("/_api/routes") << version << QByteArray("\"project\":\"app\"");
        QTest::addRow("static file, HTTP/%s", version.constData())
            << false << QByteArray("/site/index.html") << version << QByteArray("<h1>static</h1>\n");
    }
}

void TestHttpStrictE2e::halfClosedClientGetsItsAnswer() {
    QFETCH(bool, dedicated);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, version);
    QFETCH(QByteArray, expect);
    const quint16 port = dedicated ? m_dedicated : m_daemon->ingressPort();
    const Answer a =
        exchange(port, "GET " + path + " HTTP/" + version + "\r\nHost: example.test\r\n\r\n", true);
    QCOMPARE(a.status, 200);
    QVERIFY2(a.body.contains(expect), a.body.constData());
    QVERIFY(a.closed);
    if (version == "1.1" && !headerOf(a, "content-length").isEmpty())
        QCOMPARE(a.body.size(), headerOf(a, "content-length").toLongLong());
}

void TestHttpStrictE2e::refusals_data() {
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("error");
    QTest::newRow("request line over the limit")
        << QByteArray("GET /app/" + QByteArray(70 * 1024, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n") << 414
        << QByteArray("request line");
    QTest::newRow("head over the limit")
        << QByteArray("GET /app/ HTTP/1.1\r\nHost: a\r\nX-Big: " + QByteArray(70 * 1024, 'a') + "\r\n\r\n")
        << 431 << QByteArray("request head");
    QTest::newRow("Host with a space")
        << QByteArray("GET /app/echo HTTP/1.1\r\nHost: a b\r\n\r\n") << 400 << QByteArray("Host");
    QTest::newRow("Host with a path")
        << QByteArray("GET /app/echo HTTP/1.1\r\nHost: a/../b@c\r\n\r\n") << 400 << QByteArray("Host");
    QTest::newRow("bytes after chunk data")
        << QByteArray(
               "POST /app/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n")
        << 400 << QByteArray("chunk");
    QTest::newRow("control character in a chunk extension")
        << QByteArray("POST /app/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3;x=\x01\r\nabc\r\n0\r\n\r\n")
        << 400 << QByteArray("chunk");
    QTest::newRow("request line without a version (HTTP/0.9)")
        << QByteArray("GET /app/echo\r\nHost: a\r\n\r\n") << 400 << QByteArray("HTTP/1.x version");
    QTest::newRow("HTTP/2.0 in HTTP/1 syntax") << QByteArray("GET /app/echo HTTP/2.0\r\nHost: a\r\n\r\n")
                                               << 505 << QByteArray("version not supported");
    QTest::newRow("smuggling: CL and TE")
        << QByteArray(
               "POST /app/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
               "0\r\n\r\n")
        << 400 << QByteArray("content-length");
}

void TestHttpStrictE2e::refusals() {
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QByteArray, error);
    const int before = m_backend->requestsServed();
    const Answer a = exchange(m_daemon->ingressPort(), request, false);
    QCOMPARE(a.status, status);
    QVERIFY2(a.body.toLower().contains(error.toLower()), a.body.constData());
    QVERIFY(a.closed); // the stream is out of step after such a request: the daemon closes
    QCOMPARE(m_backend->requestsServed(), before); // and the backend never saw it
}

void TestHttpStrictE2e::absoluteFormAuthorityWins() {
    const Answer a = exchange(m_daemon->ingressPort(),
                              "GET http://other.test:81/app/echo?abs HTTP/1.1\r\nHost: ignored.test\r\n"
                              "Connection: close\r\n\r\n",
                              false);
    QCOMPARE(a.status, 200);
    const auto headers = echoedHeaders(a);
    QCOMPARE(headers.value("host"), QByteArray("other.test:81"));
    QCOMPARE(headers.value("x-forwarded-host"), QByteArray("other.test:81"));
    QCOMPARE(QJsonDocument::fromJson(a.body).object().value(QStringLiteral("target")).toString(),
             QStringLiteral("/echo?abs"));
}

// Portico speaks HTTP/1.1 to backends: an h2c upgrade is answered as plain HTTP/1.1.
void TestHttpStrictE2e::h2cUpgradeIsNotPassedOn() {
    const Answer a =
        exchange(m_daemon->ingressPort(),
                 "GET /app/echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\n"
                 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
                 false);
    QCOMPARE(a.status, 200);
    const auto headers = echoedHeaders(a);
    QVERIFY(!headers.contains("upgrade"));
    QVERIFY(!headers.contains("http2-settings"));
    QVERIFY(!headers.value("connection").contains("pgrade"));
}

// A project whose upstream is its own port: every request would come back forever. The
// second arrival carries this daemon's Via and is answered 508 at once.
void TestHttpStrictE2e::loopIsAnswered508() {
    const quint16 port = freePort();
    const QByteArray manifest = R"({"name":"loop","runtime":"upstream","upstream":"127.0.0.1:)" +
                                QByteArray::number(port) + R"(","listen":{"port":)" +
                                QByteArray::number(port) + "}}";
    QVERIFY(m_daemon->deploy(manifest).contains(QStringLiteral("result")));
    const Answer a = exchange(port, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false);
    QCOMPARE(a.status, 508);
    QVERIFY2(a.body.contains("loop"), a.body.constData());
    QVERIFY(
        m_daemon
            ->call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("loop")}})
            .contains(QStringLiteral("result")));
}

// One address holding max_connections_per_source connections gets no more; another
// address is still served.
void TestHttpStrictE2e::oneAddressCannotFillAPort() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("max_connections_per_source"), 20);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QList<int> held;
    for (int i = 0; i < 20; ++i) {
        const int fd = tcpConnect(QHostAddress::LocalHost, d.ingressPort());
        QVERIFY(fd >= 0);
        held.append(fd);
    }
    // All 20 are the daemon's: a request on each is answered. (Each worker accepts from
    // its own queue: one answered connection does not prove that the other worker has
    // accepted, and counted, its share yet.)
    for (int fd : std::as_const(held)) {
        QVERIFY(sendAll(fd, "GET /_api/routes HTTP/1.1\r\nHost: a\r\n\r\n"));
        QVERIFY(recvExactly(fd, 12, 5000).startsWith("HTTP/1.1 200"));
    }
    // ... the 21st from the same address is closed at once, unanswered ...
    const Answer refused = exchange(d.ingressPort(), "GET /_api/routes HTTP/1.1\r\nHost: a\r\n\r\n", false);
    QCOMPARE(refused.status, 0);
    QVERIFY(refused.closed);
    // ... while another address is served.
    const Answer other =
        exchange(d.ingressPort(), "GET /_api/routes HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false,
                 QHostAddress(QStringLiteral("127.0.0.2")));
    QCOMPARE(other.status, 200);
    // A freed slot is given back (once the daemon has seen the close: retried until then).
    closeFd(held.takeFirst());
    // Tried until the first 200, and not once more: QTRY_* evaluates its expression again
    // after success, and each try is a connection of its own that the limit may refuse
    // while the daemon has not yet seen the previous try's close.
    QVERIFY(QTest::qWaitFor(
        [&d] {
            return exchange(d.ingressPort(),
                            "GET /_api/routes HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)
                       .status == 200;
        },
        5000));
    for (int fd : held)
        closeFd(fd);
}

void TestHttpStrictE2e::ingressApiOff() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("ingress_api"), QStringLiteral("off"));
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    for (const QByteArray &path : {QByteArray("/_api/routes"), QByteArray("/")}) {
        const Answer a = exchange(d.ingressPort(),
                                  "GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false);
        QCOMPARE(a.status, 404);
        QVERIFY(!a.body.contains("path-based routing"));
    }
    // The admin socket still has the table.
    QVERIFY(d.call(QStringLiteral("routes.list"))
                .value(QStringLiteral("result"))
                .toObject()
                .contains(QStringLiteral("routes")));
}

QTEST_GUILESS_MAIN(TestHttpStrictE2e)
#include "tst_http_strict_e2e.moc"

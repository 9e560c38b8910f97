// The quickstart's examples, deployed on a real porticod exactly as shipped (only the
// fixed ports are swapped for free ones): each must answer through the daemon.
#include "daemonfixture.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

using namespace portico::test;

namespace {

QString examplesDir() {
    return QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples");
}

QJsonObject readManifest(const QString &example) {
    QFile f(examplesDir() + QLatin1Char('/') + example + QStringLiteral("/portico.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// The same manifest on a free port, so tests never depend on 3000 or 5000 being free.
QJsonObject onPort(QJsonObject manifest, quint16 port) {
    QJsonObject listen = manifest.value(QStringLiteral("listen")).toObject();
    listen.insert(QStringLiteral("port"), int(port));
    manifest.insert(QStringLiteral("listen"), listen);
    return manifest;
}

QJsonObject deploy(const DaemonFixture &d, const QString &example, const QJsonObject &manifest) {
    return d.call(QStringLiteral("projects.deploy"),
                  {{QStringLiteral("manifest"), manifest},
                   {QStringLiteral("source_dir"), examplesDir() + QLatin1Char('/') + example}},
                  60000);
}

bool haveDeno() {
    const QString local = QStringLiteral(PORTICO_SOURCE_DIR "/.tools/deno/node_modules/.bin");
    if (QFile::exists(local + QStringLiteral("/deno")))
        qputenv("PATH", (local + QLatin1Char(':')).toUtf8() + qgetenv("PATH"));
    return !QStandardPaths::findExecutable(QStringLiteral("deno")).isEmpty();
}

} // namespace

class TestExamples : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void staticSite();
    void denoHello();
    void denoOwnServe();
    void pythonProcessOnItsOwnPort();
    void tcpEcho();
    void udpEcho();

private:
    DaemonFixture m_daemon;
};

void TestExamples::initTestCase() {
    haveDeno(); // PATH for the daemon we start
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
}

void TestExamples::staticSite() {
    const QJsonObject r = deploy(m_daemon, QStringLiteral("site"), readManifest(QStringLiteral("site")));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const auto reply = DaemonFixture::httpGet(m_daemon.ingressPort(), "/site/");
    QCOMPARE(reply.status, 200);
    QVERIFY2(reply.body.contains("<html") || reply.body.contains("<!DOCTYPE") ||
                 reply.body.contains("<!doctype"),
             reply.body);
    QVERIFY(reply.headers.toLower().contains("content-type: text/html"));

    // Ranges and revalidation work through the ingress too.
    const auto range = DaemonFixture::httpRequest(
        m_daemon.ingressPort(),
        "GET /site/index.html HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n");
    QCOMPARE(range.status, 206);
    QCOMPARE(range.body, reply.body.left(10));
    QVERIFY2(range.headers.toLower().contains("content-range: bytes 0-9/"), range.headers);
    QByteArray etag;
    for (const QByteArray &line : reply.headers.split('\n'))
        if (line.toLower().startsWith("etag:"))
            etag = line.mid(5).trimmed();
    QVERIFY(!etag.isEmpty());
    const auto cached = DaemonFixture::httpRequest(
        m_daemon.ingressPort(),
        "GET /site/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\nConnection: close\r\n\r\n");
    QCOMPARE(cached.status, 304);
    QVERIFY(cached.body.isEmpty());
    // No way out of the root.
    const int traversal =
        DaemonFixture::httpGet(m_daemon.ingressPort(), "/site/%2e%2e/%2e%2e/portico.json").status;
    QVERIFY2(traversal == 403 || traversal == 404, qPrintable(QString::number(traversal)));
}

void TestExamples::denoHello() {
    if (!haveDeno())
        QSKIP("deno is not installed (installer/deps.sh installs it from npm)");
    const QJsonObject r =
        deploy(m_daemon, QStringLiteral("hello-deno"), readManifest(QStringLiteral("hello-deno")));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const auto reply = DaemonFixture::httpGet(m_daemon.ingressPort(), "/hello/");
    QCOMPARE(reply.status, 200);
    QVERIFY2(!reply.body.isEmpty(), reply.headers);
}

void TestExamples::denoOwnServe() {
    if (!haveDeno())
        QSKIP("deno is not installed (installer/deps.sh installs it from npm)");
    // The other Deno style: the script serves itself on PORT.
    QTemporaryDir app;
    QVERIFY(shareWithBackends(app.path()));
    QFile script(app.filePath(QStringLiteral("server.ts")));
    QVERIFY(script.open(QIODevice::WriteOnly));
    script.write("Deno.serve({ port: Number(Deno.env.get(\"PORT\")), hostname: Deno.env.get(\"HOST\") },\n"
                 "  (req) => new Response(\"own serve \" + new URL(req.url).pathname));\n");
    script.close();
    const QJsonObject r = m_daemon.call(
        QStringLiteral("projects.deploy"),
        {{QStringLiteral("manifest"), QJsonObject{{QStringLiteral("name"), QStringLiteral("own")},
                                                  {QStringLiteral("runtime"), QStringLiteral("deno")}}},
         {QStringLiteral("source_dir"), app.path()}},
        60000);
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const auto reply = DaemonFixture::httpGet(m_daemon.ingressPort(), "/own/x");
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.body, QByteArray("own serve /x"));
}

void TestExamples::pythonProcessOnItsOwnPort() {
    const quint16 port = freePort();
    const QJsonObject r = deploy(m_daemon, QStringLiteral("hello-process"),
                                 onPort(readManifest(QStringLiteral("hello-process")), port));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const auto reply = DaemonFixture::httpGet(port, "/");
    QCOMPARE(reply.status, 200);
    QVERIFY2(reply.body.contains("hello from a process"), reply.body);
}

void TestExamples::tcpEcho() {
    const quint16 port = freePort();
    const QJsonObject r =
        deploy(m_daemon, QStringLiteral("tcp-echo"), onPort(readManifest(QStringLiteral("tcp-echo")), port));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(s.waitForConnected(5000));
    s.write("ping over tcp\n");
    QByteArray got;
    while (got.size() < 14 && s.waitForReadyRead(5000))
        got += s.readAll();
    QCOMPARE(got, QByteArray("ping over tcp\n"));
}

void TestExamples::udpEcho() {
    const quint16 port = freePort(true);
    const QJsonObject r =
        deploy(m_daemon, QStringLiteral("udp-echo"), onPort(readManifest(QStringLiteral("udp-echo")), port));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QUdpSocket u;
    QVERIFY(u.bind(QHostAddress::LocalHost, 0));
    QByteArray got;
    // UDP may lose a datagram; ask a few times within a bounded time.
    for (int i = 0; i < 20 && got.isEmpty(); ++i) {
        u.writeDatagram("ping over udp", QHostAddress::LocalHost, port);
        if (u.waitForReadyRead(500)) {
            got.resize(int(u.pendingDatagramSize()));
            u.readDatagram(got.data(), got.size());
        }
    }
    QCOMPARE(got, QByteArray("echo: ping over udp"));
}

QTEST_GUILESS_MAIN(TestExamples)
#include "tst_examples.moc"

// The deploy pipeline end to end against a real porticod: routing-table changes,
// the conflict matrix (each refusal leaves routes and persisted state byte-identical),
// live port moves under load, and persisted projects whose port is busy at start.
#include "daemonfixture.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>

using namespace portico::test;

namespace {

QByteArray upstreamManifest(const QString &name, quint16 upstreamPort, const QString &listen = {}) {
    QString json = QStringLiteral(R"({"name":"%1","runtime":"upstream","upstream":"127.0.0.1:%2")")
                       .arg(name)
                       .arg(upstreamPort);
    if (!listen.isEmpty())
        json += QStringLiteral(R"(,"listen":%1)").arg(listen);
    return (json + QLatin1Char('}')).toUtf8();
}

QString listenJson(quint16 port, const char *protocol) {
    return QStringLiteral(R"({"port":%1,"protocol":"%2"})").arg(port).arg(QLatin1String(protocol));
}

QJsonArray routesList(const DaemonFixture &d) {
    return d.call(QStringLiteral("routes.list"))
        .value(QStringLiteral("result"))
        .toObject()
        .value(QStringLiteral("routes"))
        .toArray();
}

// Everything a refused deploy must leave untouched.
struct Snapshot {
    QJsonArray routes;
    QMap<QString, QByteArray> files;
    friend bool operator==(const Snapshot &, const Snapshot &) = default;
};

Snapshot snapshot(const DaemonFixture &d) {
    Snapshot s;
    QJsonArray rows = routesList(d);
    // Counters move with traffic; the table itself must not.
    for (auto v : rows) {
        QJsonObject o = v.toObject();
        o.remove(QStringLiteral("counters"));
        s.routes.append(o);
    }
    QDir dir(d.stateDir() + QStringLiteral("/projects"));
    for (const QString &f : dir.entryList(QDir::Files)) {
        QFile file(dir.filePath(f));
        if (file.open(QIODevice::ReadOnly))
            s.files.insert(f, file.readAll());
    }
    return s;
}

QJsonObject findRoute(const QJsonArray &rows, int port, const QString &protocol) {
    for (const auto &v : rows) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("host_port")).toInt() == port &&
            o.value(QStringLiteral("protocol")).toString() == protocol)
            return o;
    }
    return {};
}

// Deploys an upstream project on a tcp port of its own (picked free, again if another
// program takes it first); the port, or 0.
quint16 deployTcp(const DaemonFixture &d, const QString &name, quint16 upstreamPort) {
    QList<quint16> ports;
    const QJsonObject r = d.deployOnFreePorts(
        [&](const QList<quint16> &p) {
            return QJsonDocument::fromJson(upstreamManifest(name, upstreamPort, listenJson(p[0], "tcp")))
                .object();
        },
        &ports);
    if (!r.contains(QStringLiteral("result"))) {
        qWarning().noquote() << "deploy of" << name << "failed:" << QJsonDocument(r).toJson();
        return 0;
    }
    return ports.value(0);
}

QByteArray echoOnce(quint16 port, const QByteArray &payload) {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(5000))
        return {};
    s.write(payload);
    QByteArray got;
    QDeadlineTimer deadline(5000);
    while (got.size() < payload.size() && !deadline.hasExpired() && s.waitForReadyRead(1000))
        got += s.readAll();
    return got;
}

} // namespace

class TestDeploy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void pathRoutedProjectIsServedAndListed();
    void dedicatedPortsBindLiveAndUndeployCloses();
    void conflictMatrix_data();
    void conflictMatrix();
    void invalidManifestChangesNothing();
    void failedStartChangesNothing();
    void redeployMovesPortWhileAnotherTransferRuns();
    void busyPortAtStartShowsConflictThenRecovers();
    void corruptStoreFileDoesNotStopTheDaemon();

private:
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<ThreadedBackend> m_echo;
};

void TestDeploy::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    m_echo = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Echo, "echo");
}

void TestDeploy::pathRoutedProjectIsServedAndListed() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QJsonObject r = d.deploy(upstreamManifest(QStringLiteral("hello"), m_http->port()));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());

    const auto reply = DaemonFixture::httpGet(d.ingressPort(), "/hello/world?x=1");
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.body, QByteArray("hello from up GET /world?x=1"));

    // /_api/routes on the ingress shows the ingress row first, then the project.
    const auto api = DaemonFixture::httpGet(d.ingressPort(), "/_api/routes");
    QCOMPARE(api.status, 200);
    const QJsonArray rows = QJsonDocument::fromJson(api.body).array();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows.at(0).toObject().value(QStringLiteral("backend")).toString(),
             QStringLiteral("path-based routing"));
    QCOMPARE(rows.at(0).toObject().value(QStringLiteral("host_port")).toInt(), int(d.ingressPort()));
    const QJsonObject row = rows.at(1).toObject();
    QCOMPARE(row.value(QStringLiteral("project")).toString(), QStringLiteral("hello"));
    QCOMPARE(row.value(QStringLiteral("path")).toString(), QStringLiteral("/hello/"));
    QCOMPARE(row.value(QStringLiteral("state")).toString(), QStringLiteral("active"));
    QCOMPARE(row.value(QStringLiteral("backend")).toString(),
             QStringLiteral("127.0.0.1:%1").arg(m_http->port()));
    QVERIFY(row.value(QStringLiteral("counters")).toObject().value(QStringLiteral("requests")).toInt() >= 1);

    // The admin protocol renders the same rows.
    const QJsonArray viaAdmin = routesList(d);
    QCOMPARE(viaAdmin.size(), rows.size());

    // Undeploy: 404 afterwards, the manifest file is gone.
    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("hello")}})
                .contains(QStringLiteral("result")));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/hello/").status, 404);
    QVERIFY(!QFile::exists(d.stateDir() + QStringLiteral("/projects/hello.json")));
}

void TestDeploy::dedicatedPortsBindLiveAndUndeployCloses() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    // Both listen entries relay to the one upstream: the http one speaks HTTP to it.
    QList<quint16> ports;
    const QJsonObject r = d.deployOnFreePorts(
        [&](const QList<quint16> &p) {
            return QJsonDocument::fromJson(
                       upstreamManifest(
                           QStringLiteral("multi"), m_http->port(),
                           QStringLiteral("[%1,%2]").arg(listenJson(p[0], "http"), listenJson(p[1], "tcp"))))
                .object();
        },
        &ports, 2);
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const quint16 httpPort = ports[0];
    const quint16 tcpPort = ports[1];

    // Served at once, without a restart, with no prefix handling.
    const auto reply = DaemonFixture::httpGet(httpPort, "/anything");
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.body, QByteArray("hello from up GET /anything"));
    const QByteArray raw = echoOnce(tcpPort, "GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QVERIFY2(raw.contains("hello from up GET /raw"), raw);

    const QJsonArray rows = routesList(d);
    QCOMPARE(findRoute(rows, httpPort, QStringLiteral("http")).value(QStringLiteral("project")).toString(),
             QStringLiteral("multi"));
    QCOMPARE(findRoute(rows, tcpPort, QStringLiteral("tcp")).value(QStringLiteral("state")).toString(),
             QStringLiteral("active"));
    // Not reachable by path: a project with listen has only its own ports.
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/multi/").status, 404);

    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("multi")}})
                .contains(QStringLiteral("result")));
    // The ports are released: we can bind them ourselves.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QTcpServer probe;
            return probe.listen(QHostAddress::LocalHost, tcpPort);
        }(),
        15000);
}

void TestDeploy::conflictMatrix_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("refused");
    QTest::addColumn<QString>("message");
    QTest::newRow("same port and transport")
        << "same" << true << "port %1/tcp is already bound by project 'holder'";
    QTest::newRow("http onto a tcp port")
        << "http-on-tcp" << true << "port %1/tcp is already bound by project 'holder'";
    QTest::newRow("udp beside tcp coexists") << "udp-beside" << false << "";
    QTest::newRow("ingress port") << "ingress" << true << "port %1/tcp is the HTTP ingress port";
    QTest::newRow("reserved port") << "reserved" << true
                                   << "port %1/tcp is reserved by the daemon's configuration";
    QTest::newRow("out of range") << "range" << true << "port %1/tcp is outside the allowed range 1024-60000";
    QTest::newRow("busy on host") << "host" << true
                                  << "port %1/tcp is in use on this host by another program";
}

void TestDeploy::conflictMatrix() {
    QFETCH(QString, kind);
    QFETCH(bool, refused);
    QFETCH(QString, message);
    DaemonFixture d;
    // Refused by configuration before the host is asked: nothing needs to be bound there.
    const quint16 reserved = 59999;
    d.config.insert(QStringLiteral("reserved_ports"), QJsonArray{int(reserved)});
    d.config.insert(QStringLiteral("allowed_port_max"), 60000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QList<quint16> ports;
    QVERIFY(d.deployOnFreePorts(
                 [&](const QList<quint16> &p) {
                     return QJsonDocument::fromJson(upstreamManifest(QStringLiteral("holder"), m_echo->port(),
                                                                     listenJson(p[0], "tcp")))
                         .object();
                 },
                 &ports)
                .contains(QStringLiteral("result")));
    const quint16 held = ports[0];

    QTcpServer squatter; // another program on the host
    quint16 port = held;
    const char *protocol = "tcp";
    if (kind == QLatin1String("http-on-tcp"))
        protocol = "http";
    else if (kind == QLatin1String("udp-beside"))
        protocol = "udp";
    else if (kind == QLatin1String("ingress"))
        port = d.ingressPort();
    else if (kind == QLatin1String("reserved"))
        port = reserved;
    else if (kind == QLatin1String("range"))
        port = 60001;
    else if (kind == QLatin1String("host")) {
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        port = squatter.serverPort();
    }

    const Snapshot before = snapshot(d);
    const QJsonObject r =
        d.deploy(upstreamManifest(QStringLiteral("newcomer"), m_echo->port(), listenJson(port, protocol)));
    if (!refused) {
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
        const QJsonArray rows = routesList(d);
        QCOMPARE(findRoute(rows, port, QStringLiteral("udp")).value(QStringLiteral("project")).toString(),
                 QStringLiteral("newcomer"));
        QCOMPARE(findRoute(rows, port, QStringLiteral("tcp")).value(QStringLiteral("project")).toString(),
                 QStringLiteral("holder"));
        return;
    }
    const QJsonObject error = r.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1002);
    const QString expected = message.arg(port);
    QVERIFY2(error.value(QStringLiteral("message")).toString().startsWith(expected),
             qPrintable(error.value(QStringLiteral("message")).toString()));
    const QJsonArray conflicts =
        error.value(QStringLiteral("data")).toObject().value(QStringLiteral("conflicts")).toArray();
    QCOMPARE(conflicts.size(), 1);
    QCOMPARE(conflicts.at(0).toObject().value(QStringLiteral("port")).toInt(), int(port));
    QCOMPARE(conflicts.at(0).toObject().value(QStringLiteral("transport")).toString(), QStringLiteral("tcp"));

    // Nothing changed: the table and every persisted byte are as before, and the holder
    // still serves.
    QCOMPARE(snapshot(d), before);
    QCOMPARE(echoOnce(held, "still here"), QByteArray("still here"));
    // The dry run says the same without deploying.
    const QJsonObject dry =
        d.call(QStringLiteral("projects.validate"),
               {{QStringLiteral("manifest"),
                 QJsonDocument::fromJson(
                     upstreamManifest(QStringLiteral("newcomer"), m_echo->port(), listenJson(port, protocol)))
                     .object()}});
    QCOMPARE(dry.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1002);
    QCOMPARE(snapshot(d), before);
}

void TestDeploy::invalidManifestChangesNothing() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const Snapshot before = snapshot(d);
    const QJsonObject r =
        d.deploy(R"({"name":"Bad","runtime":"upstream","listen":{"port":70000},"extra":true})");
    const QJsonObject error = r.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1001);
    const QJsonArray errors =
        error.value(QStringLiteral("data")).toObject().value(QStringLiteral("errors")).toArray();
    QStringList paths;
    for (const auto &e : errors)
        paths << e.toObject().value(QStringLiteral("path")).toString();
    QVERIFY2(paths.contains(QStringLiteral("name")) && paths.contains(QStringLiteral("listen.port")) &&
                 paths.contains(QStringLiteral("extra")) && paths.contains(QStringLiteral("upstream")),
             qPrintable(paths.join(QLatin1Char(','))));
    QCOMPARE(snapshot(d), before);
}

// A redeploy whose new backend never comes up is refused (1004) and changes nothing: the
// old version keeps serving on its port, the table and the store are as they were, and the
// port the new version had opened is free again.
void TestDeploy::failedStartChangesNothing() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const quint16 v1Port = deployTcp(d, QStringLiteral("steady"), m_echo->port());
    QVERIFY(v1Port);
    const Snapshot before = snapshot(d);
    QList<quint16> v2Ports;
    const QJsonObject r = d.deployOnFreePorts(
        [&](const QList<quint16> &p) {
            return QJsonObject{
                {QStringLiteral("name"), QStringLiteral("steady")},
                {QStringLiteral("runtime"), QStringLiteral("process")},
                {QStringLiteral("command"), QJsonArray{QStringLiteral(TESTBACKEND_PATH),
                                                       QStringLiteral("exit-now"), QStringLiteral("3")}},
                {QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), p[0]},
                                                       {QStringLiteral("protocol"), QStringLiteral("tcp")}}}};
        },
        &v2Ports);
    const QJsonObject error = r.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1004);
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("did not start")),
             qPrintable(error.value(QStringLiteral("message")).toString()));
    QCOMPARE(snapshot(d), before);
    QCOMPARE(echoOnce(v1Port, "still the old version"), QByteArray("still the old version"));
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QTcpServer probe;
            return probe.listen(QHostAddress::LocalHost, v2Ports.value(0));
        }(),
        10000);
}

void TestDeploy::redeployMovesPortWhileAnotherTransferRuns() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    constexpr qint64 kTotal = 64 * 1024 * 1024;
    ThreadedBackend source(ThreadedBackend::Mode::Source, "source", kTotal);
    const quint16 bulkPort = deployTcp(d, QStringLiteral("bulk"), source.port());
    QVERIFY(bulkPort);
    const quint16 first = deployTcp(d, QStringLiteral("mover"), m_echo->port());
    QVERIFY(first);
    QCOMPARE(echoOnce(first, "before"), QByteArray("before"));

    QTcpSocket bulk;
    bulk.setReadBufferSize(256 * 1024);
    bulk.connectToHost(QHostAddress::LocalHost, bulkPort);
    QVERIFY(bulk.waitForConnected(5000));
    QCryptographicHash got(QCryptographicHash::Sha256);
    qint64 received = 0;
    while (received < 4 * 1024 * 1024 && bulk.waitForReadyRead(5000)) {
        const QByteArray chunk = bulk.readAll();
        got.addData(chunk);
        received += chunk.size();
    }
    QVERIFY(received > 0);

    // Move "mover" to another port in the middle of the transfer.
    const quint16 second = deployTcp(d, QStringLiteral("mover"), m_echo->port());
    QVERIFY(second);
    QCOMPARE(echoOnce(second, "after"), QByteArray("after"));
    QTRY_VERIFY_WITH_TIMEOUT(echoOnce(first, "gone").isEmpty(), 15000);

    while (bulk.state() == QAbstractSocket::ConnectedState || bulk.bytesAvailable() > 0) {
        if (!bulk.bytesAvailable() && !bulk.waitForReadyRead(10000))
            break;
        const QByteArray chunk = bulk.readAll();
        got.addData(chunk);
        received += chunk.size();
    }
    QCOMPARE(received, kTotal);
    QCryptographicHash expected(QCryptographicHash::Sha256);
    for (qint64 off = 0; off < kTotal; off += 1024 * 1024)
        expected.addData(ThreadedBackend::testPattern(off, 1024 * 1024));
    QCOMPARE(got.result().toHex(), expected.result().toHex());
}

void TestDeploy::busyPortAtStartShowsConflictThenRecovers() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("conflict_retry_ms"), 200);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(deployTcp(d, QStringLiteral("sticky"), m_echo->port()));
    d.stop();

    // Another program holds a port (bound first, so nobody else can take it), and the
    // stored project wants it when the daemon starts.
    auto squatter = std::make_unique<QTcpServer>();
    QVERIFY(squatter->listen(QHostAddress::LocalHost, 0));
    const quint16 port = squatter->serverPort();
    QFile stored(d.stateDir() + QStringLiteral("/projects/sticky.json"));
    QVERIFY(stored.open(QIODevice::ReadOnly));
    QJsonObject file = QJsonDocument::fromJson(stored.readAll()).object();
    stored.close();
    QJsonObject manifest = file.value(QStringLiteral("manifest")).toObject();
    manifest.insert(QStringLiteral("listen"),
                    QJsonDocument::fromJson(listenJson(port, "tcp").toUtf8()).object());
    file.insert(QStringLiteral("manifest"), manifest);
    QVERIFY(stored.open(QIODevice::WriteOnly | QIODevice::Truncate));
    stored.write(QJsonDocument(file).toJson());
    stored.close();
    QVERIFY2(d.start(&why), qPrintable(why)); // the daemon starts anyway
    QJsonObject row;
    QTRY_VERIFY_WITH_TIMEOUT((row = findRoute(routesList(d), port, QStringLiteral("tcp")),
                              row.value(QStringLiteral("state")).toString() == QLatin1String("conflict")),
                             10000);
    QVERIFY2(row.value(QStringLiteral("reason")).toString().contains(QStringLiteral("in use on this host")),
             qPrintable(row.value(QStringLiteral("reason")).toString()));

    squatter.reset(); // the port comes free: the daemon takes it on its next retry
    QTRY_COMPARE_WITH_TIMEOUT(
        findRoute(routesList(d), port, QStringLiteral("tcp")).value(QStringLiteral("state")).toString(),
        QStringLiteral("active"), 10000);
    QCOMPARE(echoOnce(port, "back"), QByteArray("back"));
}

void TestDeploy::corruptStoreFileDoesNotStopTheDaemon() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(d.deploy(upstreamManifest(QStringLiteral("good"), m_http->port()))
                .contains(QStringLiteral("result")));
    d.stop();
    QFile bad(d.stateDir() + QStringLiteral("/projects/broken.json"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"manifest\": {\"name\": ");
    bad.close();
    QVERIFY2(d.start(&why), qPrintable(why));
    QTRY_COMPARE_WITH_TIMEOUT(DaemonFixture::httpGet(d.ingressPort(), "/good/").status, 200, 10000);
    QVERIFY(!QFile::exists(d.stateDir() + QStringLiteral("/projects/broken.json")));
    QCOMPARE(QDir(d.stateDir() + QStringLiteral("/projects/quarantine")).entryList(QDir::Files).size(), 1);
}

QTEST_GUILESS_MAIN(TestDeploy)
#include "tst_deploy.moc"

// porticod as a command: --check-manifest, --version, config errors, a clean SIGTERM.
#include "daemonfixture.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>

#include <QTemporaryDir>
#include <QTest>
#include <csignal>

using namespace portico::test;

namespace {
ProgramRun runDaemon(const QStringList &args) {
    return runProgram(QStringLiteral(PORTICOD_PATH), args, 20000);
}
QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &data) {
    return portico::test::writeFile(dir.path(), name, data);
}
} // namespace

class TestPorticodCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void checkManifest_data();
    void checkManifest();
    void version();
    void badConfigNamesFileAndKey();
    void busyIngressPortIsAClearError();
    void secondDaemonOnTheSameSocketExits();
    void sigtermStopsCleanly();
    void ingressPortZeroReportsTheBoundPort();
};

// --ingress-port 0: the kernel picks a free port, and the daemon says which, in its
// start-up line and in daemon.info (what DaemonFixture relies on), and serves there.
void TestPorticodCli::ingressPortZeroReportsTheBoundPort() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("ingress_port"), 8080); // the command line wins
    d.extraArgs = {QStringLiteral("--ingress-port"), QStringLiteral("0")};
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const quint16 port = d.ingressPort(); // from daemon.info
    QVERIFY(port != 0 && port != 8080);
    QTRY_VERIFY2(d.output().contains(QStringLiteral("ingress on 127.0.0.1:%1,").arg(port).toUtf8()),
                 d.output().constData());
    const auto routes = DaemonFixture::httpGet(port, "/_api/routes");
    QCOMPARE(routes.status, 200);
    QCOMPARE(QJsonDocument::fromJson(routes.body)
                 .array()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("host_port"))
                 .toInt(),
             int(port));
}

void TestPorticodCli::secondDaemonOnTheSameSocketExits() {
    DaemonFixture first;
    QString why;
    QVERIFY2(first.start(&why), qPrintable(why));
    QTemporaryDir dir;
    const ProgramRun second = runDaemon({QStringLiteral("--ingress-port"), QStringLiteral("0"),
                                         QStringLiteral("--state-dir"), dir.filePath(QStringLiteral("state")),
                                         QStringLiteral("--admin-socket"), first.socketPath()});
    QCOMPARE(second.code, 1);
    QVERIFY2(second.err.contains(QStringLiteral("another porticod is already serving")),
             qPrintable(second.err));
    // The first one is untouched.
    QVERIFY(first.call(QStringLiteral("daemon.info")).contains(QStringLiteral("result")));
}

void TestPorticodCli::checkManifest_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("valid") << QByteArray(R"({"name":"my-api","runtime":"deno","listen":{"port":3000}})") << 0
                           << QStringList{QStringLiteral("ok (project 'my-api', runtime deno)")};
    QTest::newRow("every error") << QByteArray(R"({"name":"X","listen":{"port":70000},"extra":1})") << 1
                                 << QStringList{QStringLiteral("name: \"X\" is not a project name"),
                                                QStringLiteral("runtime: is required"),
                                                QStringLiteral("listen.port: 70000 is not a port (1-65535)"),
                                                QStringLiteral("extra: unknown field")};
    QTest::newRow("not json") << QByteArray("{oops") << 1 << QStringList{QStringLiteral("not valid JSON")};
}

void TestPorticodCli::checkManifest() {
    QFETCH(QByteArray, json);
    QFETCH(int, exitCode);
    QFETCH(QStringList, expected);
    QTemporaryDir dir;
    const QString path = writeFile(dir, QStringLiteral("portico.json"), json);
    const ProgramRun r = runDaemon({QStringLiteral("--check-manifest"), path});
    QCOMPARE(r.code, exitCode);
    const QString all = r.out + r.err;
    for (const QString &e : expected) {
        QVERIFY2(all.contains(e), qPrintable(all));
        if (exitCode != 0)
            QVERIFY2(all.contains(path + QStringLiteral(": ") + e.left(10)),
                     qPrintable(all)); // names the file
    }
    const ProgramRun missing =
        runDaemon({QStringLiteral("--check-manifest"), dir.filePath(QStringLiteral("nope.json"))});
    QCOMPARE(missing.code, 1);
    QVERIFY(missing.err.contains(QStringLiteral("cannot read")));
}

void TestPorticodCli::version() {
    const ProgramRun r = runDaemon({QStringLiteral("--version")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral(PORTICO_VERSION)), qPrintable(r.out));
}

void TestPorticodCli::badConfigNamesFileAndKey() {
    QTemporaryDir dir;
    const QString path =
        writeFile(dir, QStringLiteral("c.json"), R"({"ingress_prot": 1, "udp_idle_timeout_ms": "x"})");
    const ProgramRun r = runDaemon({QStringLiteral("--config"), path});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(path + QStringLiteral(": ingress_prot: unknown setting")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("udp_idle_timeout_ms: must be a whole number")),
             qPrintable(r.err));
}

void TestPorticodCli::busyIngressPortIsAClearError() {
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    const ProgramRun r =
        runDaemon({QStringLiteral("--ingress-port"), QString::number(squatter.serverPort()),
                   QStringLiteral("--state-dir"), dir.filePath(QStringLiteral("state")),
                   QStringLiteral("--admin-socket"), dir.filePath(QStringLiteral("admin.sock"))});
    QCOMPARE(r.code, 1);
    QVERIFY2(
        r.err.contains(
            QStringLiteral("cannot listen on 127.0.0.1:%1 for the HTTP ingress").arg(squatter.serverPort())),
        qPrintable(r.err));
}

void TestPorticodCli::sigtermStopsCleanly() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const qint64 pid = d.pid();
    QVERIFY(pid > 0);
    ::kill(pid_t(pid), SIGTERM);
    QTRY_VERIFY_WITH_TIMEOUT(!d.isRunning(), 15000);
    // The socket file is removed and the ingress port released.
    QVERIFY(!QFile::exists(d.socketPath()));
    QTcpServer again;
    QVERIFY(again.listen(QHostAddress::LocalHost, d.ingressPort()));
}

QTEST_GUILESS_MAIN(TestPorticodCli)
#include "tst_porticod_cli.moc"

// Ports below 1024 need CAP_NET_BIND_SERVICE, which the packaged unit leaves out: a
// porticod whose config allows such ports but that lacks the capability says so at start,
// with the drop-in that grants it; one that has it, or whose config needs none, is quiet.
#include "core/lowports.h"
#include "skips.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace portico;
using namespace portico::test;

class TestLowPorts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void lowestPort_data();
    void lowestPort();
    void adviceAtStart_data();
    void adviceAtStart();
};

void TestLowPorts::lowestPort_data() {
    QTest::addColumn<int>("allowedMin");
    QTest::addColumn<int>("ingress");
    QTest::addColumn<int>("lowest");
    QTest::newRow("defaults") << 1024 << 8080 << 1024;
    QTest::newRow("ingress on 80") << 1024 << 80 << 80;
    QTest::newRow("projects from 53") << 53 << 8080 << 53;
    QTest::newRow("ingress picked by the kernel") << 2000 << 0 << 2000;
}

void TestLowPorts::lowestPort() {
    QFETCH(int, allowedMin);
    QFETCH(int, ingress);
    QFETCH(int, lowest);
    Config c;
    c.allowedPortMin = quint16(allowedMin);
    c.ingressPort = quint16(ingress);
    QCOMPARE(int(lowestConfiguredPort(c)), lowest);
}

void TestLowPorts::adviceAtStart_data() {
    QTest::addColumn<int>("allowedMin");
    QTest::addColumn<bool>("dropCapability");
    QTest::addColumn<bool>("advised");
    QTest::newRow("low ports allowed, capability dropped") << 80 << true << true;
    QTest::newRow("low ports allowed, capability held") << 80 << false << false;
    QTest::newRow("no low ports, capability dropped") << 1024 << true << false;
}

void TestLowPorts::adviceAtStart() {
    QFETCH(int, allowedMin);
    QFETCH(bool, dropCapability);
    QFETCH(bool, advised);
    PORTICO_REQUIRE(::geteuid() == 0, "root: the capability is root's to hold or drop (CI runs as root)");
    if (advised && unprivilegedPortStart() <= allowedMin)
        PORTICO_SKIP_EXPECTED("net.ipv4.ip_unprivileged_port_start lets anyone bind these ports here");
    const QString setpriv = QStandardPaths::findExecutable(QStringLiteral("setpriv"));
    QVERIFY2(!setpriv.isEmpty(), "setpriv (util-linux) is needed");

    QTemporaryDir dir;
    const QJsonObject cfg{{QStringLiteral("allowed_port_min"), allowedMin},
                          {QStringLiteral("ingress_port"), 0},
                          {QStringLiteral("state_dir"), dir.filePath(QStringLiteral("state"))},
                          {QStringLiteral("admin_socket"), dir.filePath(QStringLiteral("admin.sock"))}};
    const QString cfgPath =
        writeFile(dir.path(), QStringLiteral("porticod.json"), QJsonDocument(cfg).toJson());
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QStringList args;
    if (dropCapability)
        args << QStringLiteral("--bounding-set=-net_bind_service") << QStringLiteral("--");
    args << QStringLiteral(PORTICOD_PATH) << QStringLiteral("--config") << cfgPath;
    p.start(dropCapability ? setpriv : args.takeFirst(), args);
    QVERIFY(p.waitForStarted(10000));
    QByteArray out;
    QDeadlineTimer deadline(20000);
    while (!out.contains("porticod 0.1.0") && !deadline.hasExpired() && p.waitForReadyRead(1000))
        out += p.readAll();
    p.terminate();
    QVERIFY(p.waitForFinished(15000));
    out += p.readAll();
    QVERIFY2(out.contains("porticod " PORTICO_VERSION ": ingress on"), out.constData());
    const bool saidIt = out.contains("lacks CAP_NET_BIND_SERVICE") &&
                        out.contains("/usr/share/portico/systemd/low-ports.conf");
    QVERIFY2(saidIt == advised, out.constData());
}

QTEST_GUILESS_MAIN(TestLowPorts)
#include "tst_lowports.moc"

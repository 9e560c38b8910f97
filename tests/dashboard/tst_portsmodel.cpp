// Ports at a glance: /proc/net tables read right (listening TCP, bound UDP, both address
// families; connections and malformed lines left out), holders found through the socket
// inodes, and the model that merges a real porticod's routes with the host's sockets.

#include "dashboardtest.h"
#include "models/hostports.h"
#include "models/portsmodel.h"
#include "models/routesmodel.h"
#include "threadedbackend.h"
#include "widgets/portsview.h"

#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QTcpServer>
#include <QUdpSocket>

using namespace portico;
using namespace portico::test;

namespace {

const QByteArray kHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

QString ourName() {
    QFile comm(QStringLiteral("/proc/self/comm"));
    return comm.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(comm.readAll()).trimmed() : QString();
}

// Starts the daemon with project "raw" on a tcp port of its own in front of echoPort:
// that port, or 0 and why.
quint16 startWithRaw(DaemonFixture &daemon, quint16 echoPort, QString *why) {
    if (!daemon.start(why))
        return 0;
    const quint16 port = freePort();
    const QJsonObject r =
        daemon.deploy(upstreamManifest(QStringLiteral("raw"), echoPort, port, QStringLiteral("tcp")));
    if (!isOk(r)) {
        *why = QString::fromUtf8(QJsonDocument(r).toJson());
        return 0;
    }
    return port;
}

} // namespace

class TestPortsModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesProcNet_data();
    void parsesProcNet();
    void findsOurOwnSockets();
    void mergesRoutesAndHost();
    void countsPorticosPortsWhateverArrivesFirst();

private:
    std::unique_ptr<QTemporaryDir> m_settings = isolateSettings();
};

void TestPortsModel::parsesProcNet_data() {
    QTest::addColumn<QByteArray>("table");
    QTest::addColumn<QString>("transport");
    QTest::addColumn<bool>("v6");
    QTest::addColumn<QStringList>("expected"); // "address port inode"

    QTest::newRow("tcp: listening on 127.0.0.1:8080 and 0.0.0.0:22, an established one left out")
        << kHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000      "
                     "  0 4242 1 0 100 0 0 10 0\n"
                     "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0      "
                     "  0 17 1 0 100 0 0 10 0\n"
                     "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000      "
                     "  0 999 1 0 20 4 30 10 -1\n"
        << QStringLiteral("tcp") << false
        << QStringList{QStringLiteral("127.0.0.1 8080 4242"), QStringLiteral("0.0.0.0 22 17")};
    QTest::newRow("tcp6: :: and ::1")
        << kHeader + "   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A "
                     "00000000:00000000 00:00000000 00000000  1000        0 51 1 0 100 0 0 10 0\n"
                     "   1: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A "
                     "00000000:00000000 00:00000000 00000000  1000        0 52 1 0 100 0 0 10 0\n"
        << QStringLiteral("tcp") << true
        << QStringList{QStringLiteral(":: 3000 51"), QStringLiteral("::1 5000 52")};
    QTest::newRow("udp: a bound socket, a connected one left out")
        << kHeader + "  12: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000      "
                     "  0 77 2 0000000000000000 0\n"
                     "  13: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000  1000      "
                     "  0 78 2 0000000000000000 0\n"
        << QStringLiteral("udp") << false << QStringList{QStringLiteral("127.0.0.1 5353 77")};
    QTest::newRow("malformed lines are skipped")
        << kHeader + "garbage\n   0: 0100007F:zz 00000000:0000 0A x\n   1: 0100007F:0050 00000000:0000 0A 0 "
                     "0 0 0 0 notanumber\n\n"
        << QStringLiteral("tcp") << false << QStringList{};
    QTest::newRow("empty") << QByteArray() << QStringLiteral("tcp") << false << QStringList{};
}

void TestPortsModel::parsesProcNet() {
    QFETCH(QByteArray, table);
    QFETCH(QString, transport);
    QFETCH(bool, v6);
    QFETCH(QStringList, expected);
    QStringList got;
    for (const HostSocket &s : parseProcNet(table, transport, v6)) {
        QCOMPARE(s.transport, transport);
        got << QStringLiteral("%1 %2 %3").arg(s.address).arg(s.port).arg(s.inode);
    }
    QCOMPARE(got, expected);
}

void TestPortsModel::findsOurOwnSockets() {
    QTcpServer tcp;
    QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
    QUdpSocket udp;
    QVERIFY(udp.bind(QHostAddress::LocalHostIPv6, 0));
    const QList<HostSocket> all = scanHostSockets();
    const auto find = [&](quint16 port, const QString &transport) -> const HostSocket * {
        for (const HostSocket &s : all)
            if (s.port == port && s.transport == transport)
                return &s;
        return nullptr;
    };
    const HostSocket *t = find(tcp.serverPort(), QStringLiteral("tcp"));
    QVERIFY(t);
    QCOMPARE(t->address, QStringLiteral("127.0.0.1"));
    QCOMPARE(t->pid, QCoreApplication::applicationPid());
    QCOMPARE(t->process, ourName());
    const HostSocket *u = find(udp.localPort(), QStringLiteral("udp"));
    QVERIFY(u);
    QCOMPARE(u->address, QStringLiteral("::1"));
    QCOMPARE(u->pid, QCoreApplication::applicationPid());
}

void TestPortsModel::mergesRoutesAndHost() {
    ThreadedBackend echo(ThreadedBackend::Mode::Echo, "echo");
    DaemonFixture daemon;
    QString why;
    const quint16 tcpPort = startWithRaw(daemon, echo.port(), &why);
    QVERIFY2(tcpPort, qPrintable(why));
    auto client = makeClient(daemon);
    RoutesModel routes(client.get());
    PortsModel ports(&routes);
    QAbstractItemModelTester tester(&ports, QAbstractItemModelTester::FailureReportingMode::QtTest);
    client->connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(routes.isLoaded(), 10000);
    // A program of the host (this test) holds a port of its own.
    QTcpServer mine;
    QVERIFY(mine.listen(QHostAddress::LocalHost, 0));
    QSignalSpy scanned(&ports, &PortsModel::scanned);
    ports.refresh();
    QVERIFY(scanned.wait(10000));

    // Portico's ports with their project; the ingress shared by the path routes.
    const int raw = ports.findRow(tcpPort, QStringLiteral("tcp"));
    QVERIFY(raw >= 0);
    QCOMPARE(ports.row(raw).portico, QStringLiteral("raw (tcp)"));
    QCOMPARE(ports.row(raw).state, QStringLiteral("active"));
    const int ingress = ports.findRow(daemon.ingressPort(), QStringLiteral("tcp"));
    QVERIFY(ingress >= 0);
    QCOMPARE(ports.row(ingress).portico, QStringLiteral("ingress (http)"));
    // porticod holds them (the test's user runs it, so /proc shows it).
    QVERIFY2(ports.row(raw).holder.startsWith(QStringLiteral("porticod (pid %1)").arg(daemon.pid())),
             qPrintable(ports.row(raw).holder));
    // And the host's other sockets, with who holds them.
    const int own = ports.findRow(mine.serverPort(), QStringLiteral("tcp"));
    QVERIFY(own >= 0);
    QVERIFY(ports.row(own).portico.isEmpty());
    QCOMPARE(ports.row(own).holder,
             QStringLiteral("%1 (pid %2)").arg(ourName()).arg(QCoreApplication::applicationPid()));
    QVERIFY(ports.index(own, PortsModel::Holder).data().toString().contains(ourName()));

    // "Is it free?" in the view: taken, with the nearest free one; and free.
    PortsView view(&ports);
    const QString taken = view.checkPort(mine.serverPort(), QStringLiteral("tcp"));
    QVERIFY2(taken.startsWith(QStringLiteral("%1/tcp is held by %2").arg(mine.serverPort()).arg(ourName())),
             qPrintable(taken));
    QVERIFY(taken.contains(QStringLiteral("the nearest free port is")));
    const QString portico = view.checkPort(tcpPort, QStringLiteral("tcp"));
    QVERIFY2(portico.contains(QStringLiteral("Portico: raw (tcp)")), qPrintable(portico));

    // A route that goes away leaves; the host's socket that closes too, at the next scan.
    QVERIFY(isOk(
        daemon.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("raw")}})));
    const quint16 closed = mine.serverPort();
    mine.close();
    QTRY_VERIFY_WITH_TIMEOUT(routes.findRow(QStringLiteral("raw"), tcpPort) < 0, 10000);
    ports.refresh();
    QVERIFY(scanned.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(ports.findRow(closed, QStringLiteral("tcp")) < 0, 10000);
    client.reset();
    daemon.stop();
}

void TestPortsModel::countsPorticosPortsWhateverArrivesFirst() {
    ThreadedBackend echo(ThreadedBackend::Mode::Echo, "echo");
    DaemonFixture daemon;
    QString why;
    const quint16 tcpPort = startWithRaw(daemon, echo.port(), &why);
    QVERIFY2(tcpPort, qPrintable(why));
    auto client = makeClient(daemon);
    RoutesModel routes(client.get());
    PortsModel ports(&routes);
    PortsView view(&ports);
    // The host's scan first, before the daemon's routes: none of its ports are Portico's yet.
    QSignalSpy scanned(&ports, &PortsModel::scanned);
    ports.refresh();
    QVERIFY(scanned.wait(10000));
    QVERIFY2(view.statusText().contains(QStringLiteral("0 of them Portico's")),
             qPrintable(view.statusText()));
    // Then the routes: the ingress and raw's port are Portico's, without waiting for a scan.
    client->connectToDaemon();
    QTRY_VERIFY2_WITH_TIMEOUT(view.statusText().contains(QStringLiteral("2 of them Portico's")),
                              qPrintable(view.statusText()), 10000);
    // A route that goes away is counted out at once too.
    QVERIFY(isOk(
        daemon.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("raw")}})));
    QTRY_VERIFY2_WITH_TIMEOUT(view.statusText().contains(QStringLiteral("1 of them Portico's")),
                              qPrintable(view.statusText()), 10000);
    client.reset();
    daemon.stop();
}

QTEST_MAIN(TestPortsModel)
#include "tst_portsmodel.moc"

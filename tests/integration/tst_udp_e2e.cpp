// UDP through a real porticod, as a client sees it when the backend is late: the first
// datagrams of a client may reach the backend's port before anything listens there (a
// udp-only backend cannot be probed, so the daemon calls it ready when it merely runs).
#include "daemonfixture.h"
#include "relayutil.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUdpSocket>

using namespace portico::test;

namespace {

// Sends payload from client to port until an answer comes (at most `tries` times, one
// second each): what a resolver or a game client does.
QByteArray askUntilAnswered(QUdpSocket &client, quint16 port, const QByteArray &payload, int tries) {
    for (int i = 0; i < tries; ++i) {
        client.writeDatagram(payload, QHostAddress::LocalHost, port);
        if (client.hasPendingDatagrams() || client.waitForReadyRead(1000)) {
            QByteArray got(int(client.pendingDatagramSize()), Qt::Uninitialized);
            client.readDatagram(got.data(), got.size());
            return got;
        }
    }
    return {};
}

} // namespace

class TestUdpE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sessionRecoversWhenTheBackendComesUp();

private:
    // The project's live counters from routes.list.
    QJsonObject counters(quint16 port) const;
    DaemonFixture m_daemon;
};

void TestUdpE2e::initTestCase() {
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
}

QJsonObject TestUdpE2e::counters(quint16 port) const {
    const QJsonArray routes = m_daemon.call(QStringLiteral("routes.list"))
                                  .value(QStringLiteral("result"))
                                  .toObject()
                                  .value(QStringLiteral("routes"))
                                  .toArray();
    for (const QJsonValue &v : routes) {
        const QJsonObject row = v.toObject();
        if (row.value(QStringLiteral("host_port")).toInt() == port &&
            row.value(QStringLiteral("protocol")).toString() == QLatin1String("udp"))
            return row.value(QStringLiteral("counters")).toObject();
    }
    return {};
}

// A client whose first datagram met a backend port where nothing listened yet keeps asking
// from the same address; once the backend listens, its answers must reach the client.
void TestUdpE2e::sessionRecoversWhenTheBackendComesUp() {
    const quint16 backendPort = freePort(true); // nothing binds it until the client has asked
    QVERIFY(backendPort != 0);
    QList<quint16> ports;
    const QJsonObject r = m_daemon.deployOnFreePorts(
        QStringLiteral(
            R"({"name":"late","runtime":"upstream","upstream":"127.0.0.1:%1","listen":{"port":%2,"protocol":"udp"}})")
            .arg(backendPort)
            .replace(QStringLiteral("%2"), QStringLiteral("%1")),
        &ports, 1, true);
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const quint16 port = ports.first();

    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    client.writeDatagram("too early", QHostAddress::LocalHost, port);
    // The relay opened the client's session and passed the datagram on, to a port where
    // nothing listens (the kernel answers with ICMP port unreachable).
    QTRY_COMPARE_WITH_TIMEOUT(counters(port).value(QStringLiteral("connections_total")).toInt(), 1, 10000);
    QVERIFY(!client.waitForReadyRead(300)); // a window that must see nothing: nobody answers yet

    UdpEchoServer backend(QHostAddress(QHostAddress::LocalHost), backendPort);
    QVERIFY(backend.isValid());

    // Control: a client that comes now is answered, so the backend and route are fine.
    QUdpSocket newcomer;
    QVERIFY(newcomer.bind(QHostAddress::LocalHost, 0));
    QCOMPARE(askUntilAnswered(newcomer, port, "newcomer", 10), QByteArray("newcomer"));

    // The early client asks again from the same address: its session, whose first datagram
    // met an ICMP port unreachable, carries the backend's answers now.
    const int heardBefore = backend.datagrams();
    const QByteArray answer = askUntilAnswered(client, port, "asking again", 5);
    QVERIFY(backend.datagrams() > heardBefore);
    QCOMPARE(answer, QByteArray("asking again"));
}

QTEST_GUILESS_MAIN(TestUdpE2e)
#include "tst_udp_e2e.moc"

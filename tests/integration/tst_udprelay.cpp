#include "relayfixture.h"
#include "relayutil.h"

#include <QNetworkDatagram>
#include <QTest>
#include <QUdpSocket>

#include <memory>
#include <vector>

using namespace portico;
using namespace portico::test;

// The UDP relay end to end: per-visitor sessions, each with its own backend socket.
class TestUdpRelay final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void requestResponse_data();
    void requestResponse();
    void concurrentClientsKeptApart();
    void idleExpiry();
    void sessionCapEvictsOldestIdle();
    void noBackendDropsDatagrams();

private:
    quint16 relayTo(const QString &project, quint16 backendPort, const Config &config,
                    std::shared_ptr<RouteStats> *stats = nullptr);
    // Sends one datagram from `client` and waits for exactly one reply.
    static QByteArray roundTrip(QUdpSocket *client, quint16 port, const QByteArray &payload);
    std::unique_ptr<RelayFixture> m_fx;
    int m_projects = 0;
};

void TestUdpRelay::initTestCase() {
    m_fx = std::make_unique<RelayFixture>();
}

quint16 TestUdpRelay::relayTo(const QString &project, quint16 backendPort, const Config &config,
                              std::shared_ptr<RouteStats> *stats) {
    m_fx->setTarget(project, tcpTarget(QStringLiteral("127.0.0.1"), backendPort));
    ListenerOptions o = RelayFixture::options(Protocol::Udp, project);
    if (stats)
        *stats = o.stats;
    return m_fx->openListener(o, config);
}

QByteArray TestUdpRelay::roundTrip(QUdpSocket *client, quint16 port, const QByteArray &payload) {
    if (client->writeDatagram(payload, QHostAddress::LocalHost, port) != payload.size())
        return {};
    if (!client->hasPendingDatagrams() && !client->waitForReadyRead(3000))
        return {};
    return client->receiveDatagram().data();
}

void TestUdpRelay::requestResponse_data() {
    QTest::addColumn<int>("size");
    QTest::newRow("one byte") << 1;
    QTest::newRow("typical dns-sized") << 512;
    QTest::newRow("largest loopback datagram") << 65000;
}

void TestUdpRelay::requestResponse() {
    QFETCH(int, size);
    UdpEchoServer backend;
    QVERIFY(backend.isValid());
    std::shared_ptr<RouteStats> stats;
    const quint16 port = relayTo(QStringLiteral("udp%1").arg(++m_projects), backend.port(), Config(), &stats);
    QVERIFY(port != 0);
    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    QByteArray payload(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        payload[i] = char(i * 31 + 7);
    for (int k = 0; k < 3; ++k)
        QCOMPARE(roundTrip(&client, port, payload), payload);
    // One visitor, one session, one backend socket.
    QCOMPARE(backend.sourcePorts().size(), 1);
    QTRY_COMPARE(stats->sum().requests, quint64(3));
    QCOMPARE(stats->sum().bytesIn, quint64(3 * size));
    QTRY_COMPARE(stats->sum().bytesOut, quint64(3 * size));
    QCOMPARE(stats->sum().connectionsOpen, quint64(1));
}

// 100 visitors at once, 5 datagrams each: every visitor gets exactly its own replies.
void TestUdpRelay::concurrentClientsKeptApart() {
    constexpr int clients = 100;
    constexpr int perClient = 5;
    UdpEchoServer backend;
    std::shared_ptr<RouteStats> stats;
    const quint16 port = relayTo(QStringLiteral("udpmany"), backend.port(), Config(), &stats);
    QVERIFY(port != 0);
    std::vector<std::unique_ptr<QUdpSocket>> sockets;
    std::vector<QList<QByteArray>> replies(clients);
    int total = 0;
    for (int c = 0; c < clients; ++c) {
        auto s = std::make_unique<QUdpSocket>();
        QVERIFY(s->bind(QHostAddress::LocalHost, 0));
        QUdpSocket *raw = s.get();
        connect(raw, &QUdpSocket::readyRead, this, [raw, &replies, &total, c] {
            while (raw->hasPendingDatagrams()) {
                replies[size_t(c)].append(raw->receiveDatagram().data());
                ++total;
            }
        });
        sockets.push_back(std::move(s));
    }
    // In waves of one datagram per visitor: a burst of 500 would overflow the kernel's
    // default receive buffer (about 200 KiB of skb memory) on loopback, and UDP may drop.
    for (int k = 0; k < perClient; ++k) {
        for (int c = 0; c < clients; ++c) {
            const QByteArray payload =
                "client-" + QByteArray::number(c) + "-datagram-" + QByteArray::number(k);
            QCOMPARE(sockets[size_t(c)]->writeDatagram(payload, QHostAddress::LocalHost, port),
                     payload.size());
        }
        QTRY_COMPARE_WITH_TIMEOUT(total, clients * (k + 1), 10000);
    }
    for (int c = 0; c < clients; ++c) {
        QList<QByteArray> got = replies[size_t(c)];
        std::sort(got.begin(), got.end());
        QList<QByteArray> want;
        for (int k = 0; k < perClient; ++k)
            want.append("client-" + QByteArray::number(c) + "-datagram-" + QByteArray::number(k));
        QCOMPARE(got, want);
    }
    QCOMPARE(backend.sourcePorts().size(), clients);
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(clients));
    QCOMPARE(stats->sum().requests, quint64(clients * perClient));
    for (auto &s : sockets)
        s->disconnect(this);
}

void TestUdpRelay::idleExpiry() {
    UdpEchoServer backend;
    Config config;
    config.udpIdleTimeoutMs = 300;
    std::shared_ptr<RouteStats> stats;
    const quint16 port = relayTo(QStringLiteral("udpidle"), backend.port(), config, &stats);
    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    QCOMPARE(roundTrip(&client, port, "first"), QByteArray("first"));
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(1));
    const quint16 firstSource = backend.sourceOf("first");
    QVERIFY(firstSource != 0);
    // The session expires on its own ...
    QTRY_COMPARE_WITH_TIMEOUT(stats->sum().connectionsOpen, quint64(0), 3000);
    // ... and the same visitor later gets a fresh one (a new backend socket).
    QCOMPARE(roundTrip(&client, port, "second"), QByteArray("second"));
    QVERIFY(backend.sourceOf("second") != 0);
    QVERIFY(backend.sourceOf("second") != firstSource);
    QCOMPARE(stats->sum().connectionsTotal, quint64(2));
}

// Cap 2: a third visitor evicts the session idle the longest (A), not the busier one (B).
void TestUdpRelay::sessionCapEvictsOldestIdle() {
    UdpEchoServer backend;
    Config config;
    config.udpMaxSessions = 2;
    std::shared_ptr<RouteStats> stats;
    const quint16 port = relayTo(QStringLiteral("udpcap"), backend.port(), config, &stats);
    QUdpSocket a, b, c;
    QVERIFY(a.bind(QHostAddress::LocalHost, 0));
    QVERIFY(b.bind(QHostAddress::LocalHost, 0));
    QVERIFY(c.bind(QHostAddress::LocalHost, 0));
    QCOMPARE(roundTrip(&a, port, "a1"), QByteArray("a1"));
    QCOMPARE(roundTrip(&b, port, "b1"), QByteArray("b1"));
    QCOMPARE(roundTrip(&b, port, "b2"), QByteArray("b2")); // B is now the more recent
    QCOMPARE(roundTrip(&c, port, "c1"), QByteArray("c1"));
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(2));
    QCOMPARE(roundTrip(&b, port, "b3"), QByteArray("b3"));
    QCOMPARE(backend.sourceOf("b3"), backend.sourceOf("b1")); // B kept its session
    QCOMPARE(roundTrip(&a, port, "a2"), QByteArray("a2"));
    QVERIFY(backend.sourceOf("a2") != backend.sourceOf("a1")); // A was evicted
    QCOMPARE(stats->sum().connectionsTotal, quint64(4));
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(2));
}

void TestUdpRelay::noBackendDropsDatagrams() {
    std::shared_ptr<RouteStats> stats;
    const QString project = QStringLiteral("udpnone");
    const quint16 port = relayTo(project, 9, Config(), &stats);
    m_fx->setTarget(project, BackendTarget());
    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    client.writeDatagram("lost", QHostAddress::LocalHost, port);
    QTRY_COMPARE(stats->sum().errors, quint64(1));
    QCOMPARE(stats->sum().connectionsOpen, quint64(0));
    QVERIFY(!client.waitForReadyRead(200)); // a window that must see nothing: no answer comes
}

QTEST_GUILESS_MAIN(TestUdpRelay)
#include "tst_udprelay.moc"

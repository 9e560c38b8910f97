// The free-port search and the suggestions of the deploy dialog, on a host of the test's
// making (which ports are bindable is given), and canBind on the real one.

#include "models/portfinder.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTest>
#include <QUdpSocket>

using namespace portico;

namespace {

// A host where the listed ports are held by someone.
std::function<bool(int, const QString &)> hostHolding(QSet<int> tcp, QSet<int> udp = {}) {
    return [tcp, udp](int port, const QString &transport) {
        return !(transport == QLatin1String("udp") ? udp : tcp).contains(port);
    };
}

QJsonObject json(const char *text) {
    return QJsonDocument::fromJson(text).object();
}

} // namespace

class TestPortFinder final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void nearestFreePort_data();
    void nearestFreePort();
    void claimsFromRoutes();
    void suggestionsForAManifest();
    void suggestionsApplied_data();
    void suggestionsApplied();
    void canBindSeesHeldPorts();
};

void TestPortFinder::nearestFreePort_data() {
    QTest::addColumn<int>("wanted");
    QTest::addColumn<QString>("transport");
    QTest::addColumn<QList<int>>("claimed"); // by Portico routes (tcp)
    QTest::addColumn<QList<int>>("held");    // by other programs (tcp)
    QTest::addColumn<int>("expected");
    QTest::newRow("the one above") << 3000 << "tcp" << QList<int>{3000} << QList<int>{} << 3001;
    QTest::newRow("above held by a program: the one below")
        << 3000 << "tcp" << QList<int>{3000} << QList<int>{3001} << 2999;
    QTest::newRow("both neighbours taken: two away, above first")
        << 3000 << "tcp" << QList<int>{3000, 2999} << QList<int>{3001} << 3002;
    QTest::newRow("a run of claims above")
        << 3000 << "tcp" << QList<int>{3000, 3001, 3002, 2999, 2998} << QList<int>{2997, 3003} << 3004;
    QTest::newRow("udp claims do not hold tcp ports")
        << 5353 << "udp" << QList<int>{5354} << QList<int>{} << 5354;
    QTest::newRow("below the allowed range: the first allowed")
        << 80 << "tcp" << QList<int>{} << QList<int>{} << 1024;
    QTest::newRow("at the top: below") << 65535 << "tcp" << QList<int>{65535} << QList<int>{} << 65534;
}

void TestPortFinder::nearestFreePort() {
    QFETCH(int, wanted);
    QFETCH(QString, transport);
    QFETCH(QList<int>, claimed);
    QFETCH(QList<int>, held);
    QFETCH(int, expected);
    PortClaims claims;
    for (int p : claimed)
        claims.add(p, QStringLiteral("http"));
    const QSet<int> heldSet(held.cbegin(), held.cend());
    QCOMPARE(
        portico::nearestFreePort(wanted, transport, claims, {}, 1024, 65535, hostHolding(heldSet, heldSet)),
        expected);
}

void TestPortFinder::claimsFromRoutes() {
    const PortClaims claims = PortClaims::fromRoutes(
        QJsonDocument::fromJson(
            R"([{"host_port":8080,"protocol":"http"},{"host_port":5000,"protocol":"tcp"},)"
            R"({"host_port":5353,"protocol":"udp"}])")
            .array());
    QVERIFY(claims.isClaimed(8080, QStringLiteral("tcp")));
    QVERIFY(claims.isClaimed(5000, QStringLiteral("tcp")));
    QVERIFY(!claims.isClaimed(5353, QStringLiteral("tcp")));
    QVERIFY(claims.isClaimed(5353, QStringLiteral("udp")));
    QVERIFY(!claims.isClaimed(8080, QStringLiteral("udp")));
}

void TestPortFinder::suggestionsForAManifest() {
    // Two taken ports; the manifest's own third port is never suggested, nor one twice.
    const QJsonObject manifest = json(R"({"name":"m","listen":[{"port":3000},{"port":3001,"protocol":"tcp"},)"
                                      R"({"port":3002},{"port":5353,"protocol":"udp"}]})");
    PortClaims claims;
    claims.add(3000, QStringLiteral("http"));
    claims.add(3001, QStringLiteral("http"));
    claims.add(5353, QStringLiteral("udp"));
    const auto suggestions = suggestPorts(
        {{3000, QStringLiteral("tcp")}, {3001, QStringLiteral("tcp")}, {5353, QStringLiteral("udp")}},
        manifest, claims, hostHolding({}));
    QCOMPARE(suggestions.size(), 3);
    QCOMPARE(suggestions.at(0), (PortSuggestion{3000, 2999, QStringLiteral("tcp")}));
    QCOMPARE(suggestions.at(1), (PortSuggestion{3001, 3003, QStringLiteral("tcp")}));
    QCOMPARE(suggestions.at(2), (PortSuggestion{5353, 5354, QStringLiteral("udp")}));
}

void TestPortFinder::suggestionsApplied_data() {
    QTest::addColumn<QByteArray>("manifest");
    QTest::addColumn<QByteArray>("expectedListen");
    QTest::newRow("one object") << QByteArray(R"({"name":"m","listen":{"port":3000}})")
                                << QByteArray(R"({"port":3005})");
    QTest::newRow("an array: only the matching transport")
        << QByteArray(
               R"({"name":"m","listen":[{"port":3000,"protocol":"udp"},{"port":3000,"protocol":"http"}]})")
        << QByteArray(R"([{"port":3000,"protocol":"udp"},{"port":3005,"protocol":"http"}])");
    QTest::newRow("no listen: unchanged") << QByteArray(R"({"name":"m"})") << QByteArray();
}

void TestPortFinder::suggestionsApplied() {
    QFETCH(QByteArray, manifest);
    QFETCH(QByteArray, expectedListen);
    const QJsonObject out =
        applyPortSuggestions(json(manifest.constData()), {{3000, 3005, QStringLiteral("tcp")}});
    if (expectedListen.isEmpty()) {
        QVERIFY(!out.contains(QStringLiteral("listen")));
        return;
    }
    const QJsonValue listen = out.value(QStringLiteral("listen"));
    const QByteArray got = listen.isArray() ? QJsonDocument(listen.toArray()).toJson(QJsonDocument::Compact)
                                            : QJsonDocument(listen.toObject()).toJson(QJsonDocument::Compact);
    const QJsonDocument want = QJsonDocument::fromJson(expectedListen);
    QCOMPARE(got, want.toJson(QJsonDocument::Compact));
    QCOMPARE(out.value(QStringLiteral("name")).toString(), QStringLiteral("m"));
}

void TestPortFinder::canBindSeesHeldPorts() {
    QTcpServer tcp;
    QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
    QVERIFY(!canBind(tcp.serverPort(), QStringLiteral("tcp")));
    QUdpSocket udp;
    QVERIFY(udp.bind(QHostAddress::LocalHost, 0));
    QVERIFY(!canBind(udp.localPort(), QStringLiteral("udp")));
    const quint16 port = tcp.serverPort();
    tcp.close();
    QVERIFY(canBind(port, QStringLiteral("tcp")));
    QVERIFY(!canBind(0, QStringLiteral("tcp")));
    QVERIFY(!canBind(70000, QStringLiteral("tcp")));
}

QTEST_GUILESS_MAIN(TestPortFinder)
#include "tst_portfinder.moc"

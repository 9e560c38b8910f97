#include "net/proxyprotocol.h"

#include <QTest>

using namespace portico;

// The PROXY header builder, byte for byte against haproxy's proxy-protocol.txt.
class TestProxyProtocol final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void build_data();
    void build();
};

static QByteArray sig() {
    return QByteArray("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);
}

void TestProxyProtocol::build_data() {
    QTest::addColumn<int>("version");
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("sourcePort");
    QTest::addColumn<QString>("destination");
    QTest::addColumn<int>("destinationPort");
    QTest::addColumn<QByteArray>("expected");

    const int v1 = int(ProxyProtocol::V1);
    const int v2 = int(ProxyProtocol::V2);
    // The spec's own example.
    QTest::newRow("v1 tcp4") << v1 << "192.168.0.1" << 56324 << "192.168.0.11" << 443
                             << QByteArray("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
    QTest::newRow("v1 tcp6") << v1 << "::1" << 1234 << "2001:db8::7" << 80
                             << QByteArray("PROXY TCP6 ::1 2001:db8::7 1234 80\r\n");
    QTest::newRow("v1 v4-mapped both ends is tcp4")
        << v1 << "::ffff:127.0.0.1" << 40000 << "::ffff:127.0.0.2" << 5000
        << QByteArray("PROXY TCP4 127.0.0.1 127.0.0.2 40000 5000\r\n");
    QTest::newRow("v1 mixed families is tcp6")
        << v1 << "10.0.0.1" << 1 << "2001:db8::1" << 65535
        << QByteArray("PROXY TCP6 ::ffff:10.0.0.1 2001:db8::1 1 65535\r\n");
    QTest::newRow("v1 unknown") << v1 << "" << 0 << "" << 0 << QByteArray("PROXY UNKNOWN\r\n");

    QTest::newRow("v2 tcp4") << v2 << "192.168.0.1" << 56324 << "192.168.0.11" << 443
                             << sig() + QByteArray::fromHex("2111000c"
                                                            "c0a80001"
                                                            "c0a8000b"
                                                            "dc04"
                                                            "01bb");
    QTest::newRow("v2 tcp6") << v2 << "::1" << 1234 << "2001:db8::7" << 80
                             << sig() + QByteArray::fromHex("21210024"
                                                            "00000000000000000000000000000001"
                                                            "20010db8000000000000000000000007"
                                                            "04d2"
                                                            "0050");
    QTest::newRow("v2 v4-mapped both ends is tcp4") << v2 << "::ffff:127.0.0.1" << 258 << "127.0.0.1" << 8080
                                                    << sig() + QByteArray::fromHex("2111000c"
                                                                                   "7f000001"
                                                                                   "7f000001"
                                                                                   "0102"
                                                                                   "1f90");
    QTest::newRow("v2 unknown") << v2 << "" << 0 << "" << 0 << sig() + QByteArray::fromHex("21000000");
    QTest::newRow("none") << int(ProxyProtocol::None) << "127.0.0.1" << 1 << "127.0.0.1" << 2 << QByteArray();
}

void TestProxyProtocol::build() {
    QFETCH(int, version);
    QFETCH(QString, source);
    QFETCH(int, sourcePort);
    QFETCH(QString, destination);
    QFETCH(int, destinationPort);
    QFETCH(QByteArray, expected);
    const QByteArray got = buildProxyHeader(ProxyProtocol(version), QHostAddress(source), quint16(sourcePort),
                                            QHostAddress(destination), quint16(destinationPort));
    QCOMPARE(got.toHex(' '), expected.toHex(' '));
    if (version == int(ProxyProtocol::V1))
        QVERIFY(got.size() <= 107); // the spec's bound on a v1 line
}

QTEST_GUILESS_MAIN(TestProxyProtocol)
#include "tst_proxyprotocol.moc"

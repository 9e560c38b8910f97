// PortAllocator: hands out each free loopback port once, skips ports someone else holds
// (TCP or UDP), and gives a released port out again.
#include "runtime/portallocator.h"
#include "testutil.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QUdpSocket>
#include <QtTest>

using namespace portico;

class tst_PortAllocator : public QObject {
    Q_OBJECT

private:
    // Two consecutive ports free for TCP and UDP a moment ago; 0 when none was found.
    static quint16 freePair() {
        // Probed below the ephemeral range: bind(0) hands out odd ports there and
        // connect() takes the even ones, so under load (thousands of loopback connections
        // from other tests) the port after an OS-chosen one was often held; 50 tries in a
        // row failed. Outside that range only a listener would hold a port.
        int low = 32768;
        QFile range(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
        if (range.open(QIODevice::ReadOnly))
            low = QString::fromLatin1(range.readAll()).split(QLatin1Char('\t')).value(0).trimmed().toInt();
        if (low < 12000)
            low = 32768;
        for (int i = 0; i < 200; ++i) {
            const quint16 p = quint16(10000 + QRandomGenerator::global()->bounded(low - 10002));
            QTcpServer t0, t1;
            QUdpSocket u0, u1;
            if (t0.listen(QHostAddress::LocalHost, p) && u0.bind(QHostAddress::LocalHost, p) &&
                t1.listen(QHostAddress::LocalHost, quint16(p + 1)) &&
                u1.bind(QHostAddress::LocalHost, quint16(p + 1)))
                return p;
        }
        return 0;
    }

private Q_SLOTS:
    void handsOutOnceAndReleases() {
        const quint16 p = freePair();
        QVERIFY(p);
        PortAllocator ports(p, quint16(p + 1));
        const quint16 a = ports.acquire();
        const quint16 b = ports.acquire();
        QVERIFY(a == p || a == p + 1);
        QVERIFY(b == p || b == p + 1);
        QVERIFY(a != b);
        QCOMPARE(ports.acquire(), quint16(0)); // exhausted
        ports.release(a);
        QCOMPARE(ports.acquire(), a);
        QCOMPARE(ports.acquire(), quint16(0));
    }

    void skipsBusyPorts_data() {
        QTest::addColumn<QString>("holder");
        QTest::newRow("tcp-listener") << QStringLiteral("tcp");
        QTest::newRow("udp-socket") << QStringLiteral("udp");
    }
    void skipsBusyPorts() {
        QFETCH(QString, holder);
        const quint16 p = freePair();
        QVERIFY(p);
        QTcpServer tcp;
        QUdpSocket udp;
        if (holder == QLatin1String("tcp"))
            QVERIFY(tcp.listen(QHostAddress::LocalHost, p));
        else
            QVERIFY(udp.bind(QHostAddress::LocalHost, p));
        PortAllocator ports(p, quint16(p + 1));
        QCOMPARE(ports.acquire(), quint16(p + 1));
        QCOMPARE(ports.acquire(), quint16(0));
        tcp.close();
        udp.close();
        QCOMPARE(ports.acquire(), p); // free again
    }
};

QTEST_GUILESS_MAIN(tst_PortAllocator)
#include "tst_portallocator.moc"

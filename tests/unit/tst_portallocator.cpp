// PortAllocator: hands out each free loopback port once, skips ports someone else holds
// (TCP or UDP), and gives a released port out again.
#include "runtime/portallocator.h"
#include "testutil.h"

#include <QTcpServer>
#include <QUdpSocket>
#include <QtTest>

using namespace portico;

class tst_PortAllocator : public QObject {
    Q_OBJECT

private:
    // Two consecutive ports free for TCP and UDP a moment ago; 0 when none was found.
    static quint16 freePair() {
        for (int i = 0; i < 50; ++i) {
            const quint16 p = test::freePort(true);
            if (p == 0 || p == 65535)
                continue;
            QTcpServer t;
            QUdpSocket u;
            if (t.listen(QHostAddress::LocalHost, quint16(p + 1)) &&
                u.bind(QHostAddress::LocalHost, quint16(p + 1)))
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

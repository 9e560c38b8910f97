// A process project with several listen entries through a real porticod: each host port
// reaches a backend port of its own (PORT_<host port>), a tcp and a udp entry on one number
// share one, and PORT stays the first entry's.
#include "daemonfixture.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QUdpSocket>
#include <QtTest>

using namespace portico::test;

class tst_MultiportE2e : public QObject {
    Q_OBJECT

private:
    static QByteArray manifest(quint16 web, quint16 raw) {
        return QStringLiteral(R"({"name":"multi","runtime":"process","command":["%1","every-port"],)"
                              R"("listen":[{"port":%2},{"port":%3,"protocol":"tcp"},)"
                              R"({"port":%3,"protocol":"udp"}]})")
            .arg(QStringLiteral(TESTBACKEND_PATH))
            .arg(web)
            .arg(raw)
            .toUtf8();
    }

    static QByteArray env(quint16 port, const QByteArray &name) {
        const DaemonFixture::HttpReply r = DaemonFixture::httpGet(port, "/env/" + name);
        return r.status == 200 ? r.body : QByteArray();
    }

private Q_SLOTS:
    // An app serving HTTP on one port and raw TCP and UDP on another: before, every host
    // port was relayed to PORT, so the TCP client met the HTTP server.
    void eachHostPortItsOwnBackendPort() {
        DaemonFixture d;
        QString why;
        QVERIFY2(d.start(&why), qPrintable(why));
        const quint16 web = freePort();
        quint16 raw = freePort(true);
        for (int i = 0; i < 10 && raw == web; ++i)
            raw = freePort(true);
        QVERIFY(raw != web);
        const QJsonObject r = d.deploy(manifest(web, raw));
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());

        // The backend's environment: PORT is the first entry's, PORT_<n> each host port's.
        const QByteArray port = env(web, "PORT");
        QVERIFY2(port.toUInt() > 0, port.constData());
        QCOMPARE(env(web, "PORT_" + QByteArray::number(web)), port);
        const QByteArray rawPort = env(web, "PORT_" + QByteArray::number(raw));
        QVERIFY2(rawPort.toUInt() > 0, rawPort.constData());
        QVERIFY(rawPort != port);

        // Raw TCP on the second number reaches the echo on PORT_<raw>, not the HTTP server.
        QTcpSocket tcp;
        tcp.connectToHost(QHostAddress::LocalHost, raw);
        QVERIFY(tcp.waitForConnected(5000));
        tcp.write("ping\n");
        QByteArray echoed;
        while (echoed.size() < 9 && tcp.waitForReadyRead(5000))
            echoed += tcp.readAll();
        QCOMPARE(echoed, QByteArray("tcp:ping\n"));

        // UDP on the same number shares that backend port.
        QUdpSocket udp;
        QVERIFY(udp.bind(QHostAddress::LocalHost, 0));
        QByteArray got;
        for (int i = 0; i < 20 && got.isEmpty(); ++i) { // UDP may lose one; ask again, bounded
            udp.writeDatagram("hello", QHostAddress::LocalHost, raw);
            if (udp.waitForReadyRead(500)) {
                got.resize(int(udp.pendingDatagramSize()));
                udp.readDatagram(got.data(), got.size());
            }
        }
        QCOMPARE(got, QByteArray("udp:hello"));

        // routes.list names each row's own backend port.
        QStringList rows;
        const QJsonArray routes =
            d.call(QStringLiteral("routes.list"))[QLatin1String("result")][QLatin1String("routes")].toArray();
        for (const QJsonValue &v : routes) {
            if (v[QLatin1String("project")].toString() == QLatin1String("multi"))
                rows << QStringLiteral("%1/%2 %3")
                            .arg(v[QLatin1String("host_port")].toInt())
                            .arg(v[QLatin1String("protocol")].toString(),
                                 v[QLatin1String("backend")].toString());
        }
        rows.sort();
        QStringList expected{QStringLiteral("%1/http 127.0.0.1:%2").arg(web).arg(QString::fromUtf8(port)),
                             QStringLiteral("%1/tcp 127.0.0.1:%2").arg(raw).arg(QString::fromUtf8(rawPort)),
                             QStringLiteral("%1/udp 127.0.0.1:%2").arg(raw).arg(QString::fromUtf8(rawPort))};
        expected.sort();
        QCOMPARE(rows, expected);
    }

    // An app that serves PORT only, with a second port to serve: the deploy is refused
    // naming the port it does not serve, instead of a port that silently leads nowhere.
    void unservedPortRefusesTheDeploy() {
        DaemonFixture d;
        d.config.insert(QStringLiteral("ready_timeout_ms"), 2000);
        QString why;
        QVERIFY2(d.start(&why), qPrintable(why));
        const quint16 web = freePort();
        quint16 other = freePort();
        for (int i = 0; i < 10 && other == web; ++i)
            other = freePort();
        const QByteArray m = QStringLiteral(R"({"name":"half","runtime":"process","command":["%1","http"],)"
                                            R"("listen":[{"port":%2},{"port":%3,"protocol":"tcp"}]})")
                                 .arg(QStringLiteral(TESTBACKEND_PATH))
                                 .arg(web)
                                 .arg(other)
                                 .toUtf8();
        const QJsonObject r = d.deploy(m);
        const QString message = r[QLatin1String("error")][QLatin1String("message")].toString();
        QVERIFY2(message.contains(QStringLiteral("did not accept connections on 127.0.0.1:")) &&
                     message.contains(QStringLiteral("(PORT_%1)").arg(other)),
                 QJsonDocument(r).toJson().constData());
        QCOMPARE(DaemonFixture::httpGet(web, "/env/PORT", 2000).status, 0); // nothing listens
    }
};

QTEST_GUILESS_MAIN(tst_MultiportE2e)
#include "tst_multiport_e2e.moc"

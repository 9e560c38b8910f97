// A real porticod fed garbage on every door (ingress, a dedicated http port, a tcp port,
// a udp port, the admin socket) keeps running and keeps serving.
#include "daemonfixture.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>

using namespace portico::test;

namespace {

QByteArray randomBytes(QRandomGenerator &rng, int size) {
    QByteArray b(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        b[i] = char(rng.bounded(256));
    return b;
}

// Almost-HTTP: a valid start with random damage, to reach deeper parser states.
QByteArray mangledRequest(QRandomGenerator &rng) {
    static const QByteArray shapes[] = {
        "GET /app/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /app/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /app/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "GET /app/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /_api/routes HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    QByteArray r = shapes[rng.bounded(int(std::size(shapes)))];
    const int damage = 1 + int(rng.bounded(4));
    for (int i = 0; i < damage; ++i) {
        const int at = int(rng.bounded(r.size()));
        switch (rng.bounded(3)) {
        case 0:
            r[at] = char(rng.bounded(256));
            break;
        case 1:
            r.insert(at, randomBytes(rng, 1 + int(rng.bounded(16))));
            break;
        default:
            r.remove(at, 1 + int(rng.bounded(8)));
            break;
        }
    }
    return r;
}

// The routing table without its counters (they move with the garbage).
QJsonArray table(const DaemonFixture &d) {
    QJsonArray rows;
    const QJsonArray all = d.call(QStringLiteral("routes.list"))
                               .value(QStringLiteral("result"))
                               .toObject()
                               .value(QStringLiteral("routes"))
                               .toArray();
    for (const QJsonValue &v : all) {
        QJsonObject row = v.toObject();
        row.remove(QStringLiteral("counters"));
        rows.append(row);
    }
    return rows;
}

void throwAt(quint16 port, const QByteArray &data) {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(2000))
        return;
    s.write(data);
    s.waitForBytesWritten(1000);
    s.waitForReadyRead(30); // read a little, then hang up mid-exchange
    s.abort();
}

} // namespace

class TestGarbageE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void survivesGarbage();
};

void TestGarbageE2e::survivesGarbage() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("header_timeout_ms"), 500);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend http(ThreadedBackend::Mode::Http, "app");
    ThreadedBackend udp(ThreadedBackend::Mode::UdpEcho, "u");
    QVERIFY(d.deploy(QStringLiteral(R"({"name":"app","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                         .arg(http.port())
                         .toUtf8())
                .contains(QStringLiteral("result")));
    QList<quint16> ports;
    QVERIFY(
        d.deployOnFreePorts(
             QStringLiteral(
                 R"({"name":"ports","runtime":"upstream","upstream":"127.0.0.1:PORT","listen":[{"port":%1},{"port":%2,"protocol":"tcp"}]})")
                 .replace(QStringLiteral("PORT"), QString::number(http.port())),
             &ports, 2)
            .contains(QStringLiteral("result")));
    const quint16 httpPort = ports[0];
    const quint16 tcpPort = ports[1];
    QVERIFY(
        d.deployOnFreePorts(
             QStringLiteral(
                 R"({"name":"dgram","runtime":"upstream","upstream":"127.0.0.1:PORT","listen":{"port":%1,"protocol":"udp"}})")
                 .replace(QStringLiteral("PORT"), QString::number(udp.port())),
             &ports, 1, true)
            .contains(QStringLiteral("result")));
    const quint16 udpPort = ports[0];
    const QJsonArray tableBefore = table(d);
    QCOMPARE(tableBefore.size(), 5); // ingress, /app/, the http and tcp ports, the udp port

    QRandomGenerator rng(20261126); // fixed seed: a failure can be replayed
    QUdpSocket dgram;
    for (int round = 0; round < 120; ++round) {
        const QByteArray junk = randomBytes(rng, 1 + int(rng.bounded(4096)));
        throwAt(d.ingressPort(), round % 2 ? mangledRequest(rng) : junk);
        throwAt(httpPort, mangledRequest(rng));
        throwAt(tcpPort, junk);
        dgram.writeDatagram(junk.left(1400), QHostAddress::LocalHost, udpPort);
        QLocalSocket admin;
        admin.connectToServer(d.socketPath());
        if (admin.waitForConnected(2000)) {
            admin.write(round % 3 ? junk
                                  : junk + "\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.info\"}\n");
            admin.waitForBytesWritten(1000);
            admin.abort();
        }
    }

    // Still alive, still serving every kind of route, with the same table: same rows,
    // same states (the counters moved, of course).
    QVERIFY2(d.isRunning(), d.output().constData());
    const QJsonObject info = d.call(QStringLiteral("daemon.info"));
    QVERIFY2(
        info.contains(QStringLiteral("result")), QJsonDocument(info).toJson() + [&] {
            QByteArray notes;
            for (const QByteArray &line : d.output().split('\n'))
                if (!line.contains("portico.access"))
                    notes += line + '\n';
            return notes.right(4000);
        }());
    QCOMPARE(table(d), tableBefore);
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/app/ok").body, QByteArray("hello from app GET /ok"));
    QCOMPARE(DaemonFixture::httpGet(httpPort, "/ok").body, QByteArray("hello from app GET /ok"));
    // The tcp port relays raw bytes to the same backend, which answers them as HTTP.
    const auto raw =
        DaemonFixture::httpRequest(tcpPort, "GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QCOMPARE(raw.body, QByteArray("hello from app GET /raw"));
    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    QByteArray answer;
    for (int i = 0; i < 20 && answer.isEmpty(); ++i) {
        client.writeDatagram("ping", QHostAddress::LocalHost, udpPort);
        if (client.waitForReadyRead(500)) {
            answer.resize(int(client.pendingDatagramSize()));
            client.readDatagram(answer.data(), answer.size());
        }
    }
    QCOMPARE(answer, QByteArray("u:ping"));
}

QTEST_GUILESS_MAIN(TestGarbageE2e)
#include "tst_garbage_e2e.moc"

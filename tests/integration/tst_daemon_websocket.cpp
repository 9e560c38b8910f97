// A WebSocket through a real porticod: on the ingress under the project's prefix and on
// a dedicated http port, with text, binary and the close code passed back.
#include "daemonfixture.h"
#include "testutil.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using namespace portico::test;

class TestDaemonWebSocket : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void echo_data();
    void echo();

private:
    DaemonFixture m_daemon;
    QWebSocketServer m_server{QStringLiteral("echo"), QWebSocketServer::NonSecureMode};
    quint16 m_dedicatedPort = 0;
    QByteArray m_lastPath;
};

void TestDaemonWebSocket::initTestCase() {
    QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
    connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
        while (QWebSocket *ws = m_server.nextPendingConnection()) {
            m_lastPath = ws->requestUrl().path().toUtf8();
            connect(ws, &QWebSocket::textMessageReceived, ws, [ws](const QString &m) {
                if (m == QLatin1String("bye"))
                    ws->close(QWebSocketProtocol::CloseCode(4001), QStringLiteral("see you"));
                else
                    ws->sendTextMessage(QStringLiteral("echo: ") + m);
            });
            connect(ws, &QWebSocket::binaryMessageReceived, ws,
                    [ws](const QByteArray &m) { ws->sendBinaryMessage(m); });
            connect(ws, &QWebSocket::disconnected, ws, &QObject::deleteLater);
        }
    });
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    m_dedicatedPort = freePort();
    const QJsonObject a =
        m_daemon.deploy(QStringLiteral(R"({"name":"ws","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                            .arg(m_server.serverPort())
                            .toUtf8());
    QVERIFY2(a.contains(QStringLiteral("result")), QJsonDocument(a).toJson());
    const QJsonObject b = m_daemon.deploy(
        QStringLiteral(
            R"({"name":"ws-port","runtime":"upstream","upstream":"127.0.0.1:%1","listen":{"port":%2}})")
            .arg(m_server.serverPort())
            .arg(m_dedicatedPort)
            .toUtf8());
    QVERIFY2(b.contains(QStringLiteral("result")), QJsonDocument(b).toJson());
}

void TestDaemonWebSocket::echo_data() {
    QTest::addColumn<bool>("dedicated");
    QTest::newRow("ingress prefix") << false;
    QTest::newRow("dedicated port") << true;
}

void TestDaemonWebSocket::echo() {
    QFETCH(bool, dedicated);
    const QUrl url = dedicated
                         ? QUrl(QStringLiteral("ws://127.0.0.1:%1/chat").arg(m_dedicatedPort))
                         : QUrl(QStringLiteral("ws://127.0.0.1:%1/ws/chat").arg(m_daemon.ingressPort()));
    QWebSocket client;
    QSignalSpy connected(&client, &QWebSocket::connected);
    QSignalSpy text(&client, &QWebSocket::textMessageReceived);
    QSignalSpy binary(&client, &QWebSocket::binaryMessageReceived);
    QSignalSpy closed(&client, &QWebSocket::disconnected);
    client.open(url);
    QVERIFY(connected.wait(10000));
    QCOMPARE(m_lastPath, QByteArray("/chat")); // the prefix is stripped on the ingress

    client.sendTextMessage(QStringLiteral("hello"));
    QVERIFY(text.wait(10000));
    QCOMPARE(text.takeFirst().at(0).toString(), QStringLiteral("echo: hello"));

    const QByteArray blob = QByteArray(1024 * 1024, 'x') + QByteArray("end");
    client.sendBinaryMessage(blob);
    QVERIFY(binary.wait(10000));
    QCOMPARE(binary.takeFirst().at(0).toByteArray(), blob);

    client.sendTextMessage(QStringLiteral("bye"));
    QVERIFY(closed.wait(10000));
    QCOMPARE(int(client.closeCode()), 4001);
}

QTEST_GUILESS_MAIN(TestDaemonWebSocket)
#include "tst_daemon_websocket.moc"

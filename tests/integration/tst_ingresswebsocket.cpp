// WebSocket through the ingress: the proxy forwards the Upgrade, and on 101 becomes a
// byte tunnel between a QWebSocket client and a QWebSocketServer backend.
#include "httpclient.h"
#include "httpharness.h"
#include "httpwsbackend.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <sys/resource.h>

using namespace portico;
using namespace portico::test;

class TestIngressWebSocket final : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<HttpWsBackend> m_backend;
    std::unique_ptr<HttpProxyHarness> m_proxy;

    QUrl url(const QString &path = QStringLiteral("/ws/chat")) const {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_proxy->port()).arg(path));
    }
    static bool openSocket(QWebSocket &ws, const QUrl &u) {
        QSignalSpy connected(&ws, &QWebSocket::connected);
        ws.open(u);
        return connected.wait(5000);
    }

private Q_SLOTS:
    void initTestCase() {
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=false"));
        // 500 clients + 1000 proxy sockets + 500 backend sockets live in this process.
        rlimit limit{};
        QCOMPARE(getrlimit(RLIMIT_NOFILE, &limit), 0);
        limit.rlim_cur = limit.rlim_max;
        QCOMPARE(setrlimit(RLIMIT_NOFILE, &limit), 0);
        QVERIFY2(limit.rlim_cur >= 2200, "RLIMIT_NOFILE hard limit too low for 500 WebSockets");

        m_backend = std::make_unique<HttpWsBackend>();
        Config config;
        config.relayBufferBytes = 256 * 1024;
        config.tunnelIdleTimeoutMs = 60'000;
        m_proxy = std::make_unique<HttpProxyHarness>(config);
        m_proxy->publish({{QStringLiteral("ws"), HttpProxyHarness::tcp(m_backend->port())}});
    }
    void cleanupTestCase() {
        m_proxy.reset();
        m_backend.reset();
    }

    void textAndBinary_data() {
        QTest::addColumn<bool>("binary");
        QTest::addColumn<int>("size");
        QTest::newRow("text small") << false << 5;
        QTest::newRow("text 70 KiB") << false << 70 * 1024;
        QTest::newRow("binary small") << true << 3;
        QTest::newRow("binary 1 MiB") << true << 1024 * 1024;
    }
    void textAndBinary() {
        QFETCH(bool, binary);
        QFETCH(int, size);
        QWebSocket ws;
        QVERIFY(openSocket(ws, url()));
        QByteArray payload(size, Qt::Uninitialized);
        for (int i = 0; i < size; ++i)
            payload[i] = char('a' + (i * 7) % 26);
        if (binary) {
            payload[0] = '\0';
            QSignalSpy got(&ws, &QWebSocket::binaryMessageReceived);
            ws.sendBinaryMessage(payload);
            QVERIFY(got.wait(5000));
            QCOMPARE(got.at(0).at(0).toByteArray(), payload);
        } else {
            QSignalSpy got(&ws, &QWebSocket::textMessageReceived);
            ws.sendTextMessage(QString::fromLatin1(payload));
            QVERIFY(got.wait(5000));
            QCOMPARE(got.at(0).at(0).toString(), QString::fromLatin1(payload));
        }
        ws.close();
    }

    void prefixStrippedInHandshake() {
        QWebSocket ws;
        QVERIFY(openSocket(ws, url(QStringLiteral("/ws/chat/room?x=1"))));
        QSignalSpy got(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("path"));
        QVERIFY(got.wait(5000));
        QCOMPARE(got.at(0).at(0).toString(), QStringLiteral("/chat/room"));
        ws.sendTextMessage(QStringLiteral("prefix"));
        QTRY_COMPARE_WITH_TIMEOUT(got.size(), 2, 5000);
        QCOMPARE(got.at(1).at(0).toString(), QStringLiteral("/ws"));
    }

    void sixteenMiBMessage() {
        QWebSocket ws;
        ws.setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
        QVERIFY(openSocket(ws, url()));
        QByteArray payload(16 * 1024 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < payload.size(); i += 4)
            *reinterpret_cast<quint32 *>(payload.data() + i) = quint32(i * 2654435761u);
        QSignalSpy got(&ws, &QWebSocket::binaryMessageReceived);
        ws.sendBinaryMessage(payload);
        QVERIFY(got.wait(30000));
        const QByteArray back = got.at(0).at(0).toByteArray();
        QCOMPARE(back.size(), payload.size());
        QCOMPARE(QCryptographicHash::hash(back, QCryptographicHash::Sha256),
                 QCryptographicHash::hash(payload, QCryptographicHash::Sha256));
    }

    void pingPong() {
        QWebSocket ws;
        QVERIFY(openSocket(ws, url()));
        QSignalSpy pong(&ws, &QWebSocket::pong);
        ws.ping("are you there");
        QVERIFY(pong.wait(5000));
        QCOMPARE(pong.at(0).at(1).toByteArray(), QByteArray("are you there"));
    }

    void closeCodeFromBackend() {
        QWebSocket ws;
        QVERIFY(openSocket(ws, url()));
        QSignalSpy closed(&ws, &QWebSocket::disconnected);
        ws.sendTextMessage(QStringLiteral("close:4001"));
        QVERIFY(closed.wait(5000));
        QCOMPARE(int(ws.closeCode()), 4001);
        QCOMPARE(ws.closeReason(), QStringLiteral("bye"));
    }

    void closeCodeFromClient() {
        QWebSocket ws;
        QVERIFY(openSocket(ws, url()));
        QSignalSpy closed(&ws, &QWebSocket::disconnected);
        ws.close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("leaving"));
        QVERIFY(closed.size() > 0 || closed.wait(5000)); // QWebSocket may report it synchronously
        QTRY_COMPARE_WITH_TIMEOUT(m_backend->lastCloseCode(), int(QWebSocketProtocol::CloseCodeGoingAway),
                                  5000);
    }

    void refusedUpgradeIsPlainHttp() {
        // An Upgrade to a project whose backend is down is answered like any request: a 502
        // with a JSON error, not a cut without a byte (which a client reports as a network
        // failure, not as "backend down").
        RefusingPort down;
        HttpProxyHarness proxy{Config{}};
        proxy.publish({{QStringLiteral("ws"), HttpProxyHarness::tcp(down.port())}});
        HttpTestClient c;
        QVERIFY(c.connectTo(proxy.port()));
        QVERIFY(c.send("GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                       "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
        const HttpTestResponse r = c.read(false, 10000);
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.status, 502);
        QVERIFY(r.header("upgrade").isEmpty());
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QVERIFY2(
            !QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toString().isEmpty(),
            r.body.constData());
        // And a WebSocket client sees the refusal as a failed handshake.
        QWebSocket ws;
        QSignalSpy error(&ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error));
        ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws/").arg(proxy.port())));
        QVERIFY(error.wait(5000));
        QVERIFY(!ws.isValid());
    }

    void tunnelIdleTimeout() {
        Config config;
        config.tunnelIdleTimeoutMs = 1000;
        HttpProxyHarness proxy(config);
        proxy.publish({{QStringLiteral("ws"), HttpProxyHarness::tcp(m_backend->port())}});
        QWebSocket ws;
        QVERIFY(openSocket(ws, QUrl(QStringLiteral("ws://127.0.0.1:%1/ws/").arg(proxy.port()))));
        QSignalSpy got(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("still here"));
        QVERIFY(got.wait(3000));
        QSignalSpy closed(&ws, &QWebSocket::disconnected);
        // A window that must see nothing: a tunnel that just carried a message is not
        // closed before its idle timeout (1 s); then it is.
        QVERIFY(!closed.wait(300));
        QVERIFY(closed.wait(5000));
    }

    void fiveHundredConcurrent() {
        constexpr int kCount = 500;
        std::vector<std::unique_ptr<QWebSocket>> sockets;
        int connected = 0;
        int echoed = 0;
        int wrong = 0;
        for (int i = 0; i < kCount; ++i) {
            auto ws = std::make_unique<QWebSocket>();
            QWebSocket *raw = ws.get();
            connect(raw, &QWebSocket::connected, this, [raw, i, &connected] {
                ++connected;
                raw->sendTextMessage(QStringLiteral("message %1").arg(i));
            });
            connect(raw, &QWebSocket::textMessageReceived, this, [i, &echoed, &wrong](const QString &m) {
                if (m == QStringLiteral("message %1").arg(i))
                    ++echoed;
                else
                    ++wrong;
            });
            raw->open(url());
            sockets.push_back(std::move(ws));
        }
        QTRY_COMPARE_WITH_TIMEOUT(connected, kCount, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(echoed, kCount, 30000);
        QCOMPARE(wrong, 0);
        // A second round on the same tunnels.
        echoed = 0;
        for (int i = 0; i < kCount; ++i)
            sockets[size_t(i)]->sendTextMessage(QStringLiteral("message %1").arg(i));
        QTRY_COMPARE_WITH_TIMEOUT(echoed, kCount, 30000);
        QCOMPARE(wrong, 0);
        const auto table = m_proxy->routes().current();
        QVERIFY(table->project(QStringLiteral("ws"))->ingressStats->sum().connectionsOpen >= quint64(kCount));
        for (auto &ws : sockets)
            ws->close();
        QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsOpen, quint64(0), 20000);
    }
};

QTEST_GUILESS_MAIN(TestIngressWebSocket)
#include "tst_ingresswebsocket.moc"

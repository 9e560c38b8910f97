// The shared AdminClient against a real porticod: a subscription made before the first
// connect is kept, and events keep coming after the daemon restarts.
#include "adminclient.h"
#include "daemonfixture.h"
#include "threadedbackend.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace portico;
using namespace portico::test;

class TestAdminClientE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void subscriptionBeforeConnectSurvivesRestart();
};

void TestAdminClientE2e::subscriptionBeforeConnectSurvivesRestart() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend backend(ThreadedBackend::Mode::Http, "c");

    AdminClient client;
    client.setSocketPath(d.socketPath());
    client.setAutoReconnect(true, 50, 500);
    QStringList kinds;
    connect(&client, &AdminClient::eventReceived, this,
            [&](const QString &kind, const QJsonObject &data, const QDateTime &) {
                kinds << kind + QLatin1Char(':') + data.value(QStringLiteral("project")).toString();
            });
    bool subscribed = false;
    client.subscribe({QStringLiteral("project.deployed")}, // before any connection
                     [&](const jsonrpc::Message &reply) { subscribed = !reply.isError(); });
    QSignalSpy connected(&client, &AdminClient::connected);
    client.connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(subscribed, 10000); // the daemon confirmed the subscription

    const QByteArray manifest =
        QStringLiteral(R"({"name":"one","runtime":"upstream","upstream":"127.0.0.1:%1"})")
            .arg(backend.port())
            .toUtf8();
    QVERIFY(d.deploy(manifest).contains(QStringLiteral("result")));
    QTRY_VERIFY_WITH_TIMEOUT(kinds.contains(QStringLiteral("project.deployed:one")), 10000);

    // The daemon restarts: the client reconnects and renews the same subscription.
    d.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!client.isConnected(), 10000);
    QVERIFY2(d.start(&why), qPrintable(why));
    QTRY_VERIFY_WITH_TIMEOUT(client.isConnected(), 10000);
    // The renewal goes first on the new connection, so a round trip proves it arrived.
    bool answered = false;
    client.call(QStringLiteral("daemon.info"), {}, [&](const jsonrpc::Message &) { answered = true; });
    QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
    QVERIFY(d.deploy(QByteArray(manifest).replace("\"one\"", "\"two\"")).contains(QStringLiteral("result")));
    QTRY_VERIFY_WITH_TIMEOUT(kinds.contains(QStringLiteral("project.deployed:two")), 10000);
    // Only the kinds asked for.
    for (const QString &k : std::as_const(kinds))
        QVERIFY2(k.startsWith(QStringLiteral("project.deployed:")), qPrintable(k));
}

QTEST_GUILESS_MAIN(TestAdminClientE2e)
#include "tst_adminclient_e2e.moc"

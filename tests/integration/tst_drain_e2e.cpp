// A replaced or undeployed backend finishes what it carries and no more, against a real
// porticod: with only idle keep-alive connections (client and backend side) it stops at
// once, not after drain_timeout_ms; a request in flight is answered before it stops.
#include "daemonfixture.h"
#include "relayutil.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <signal.h>

using namespace portico::test;

namespace {

constexpr int kDrainMs = 30'000; // far longer than any wait below: the old behaviour fails them

QByteArray processManifest(const QString &name) {
    return QJsonDocument(QJsonObject{{QStringLiteral("name"), name},
                                     {QStringLiteral("runtime"), QStringLiteral("process")},
                                     {QStringLiteral("command"),
                                      QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}})
        .toJson(QJsonDocument::Compact);
}

qint64 backendPid(const DaemonFixture &d, const QString &name) {
    return qint64(d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), name}})
                      .value(QStringLiteral("result"))
                      .toObject()
                      .value(QStringLiteral("pid"))
                      .toDouble());
}

bool alive(qint64 pid) {
    return pid > 0 && ::kill(pid_t(pid), 0) == 0;
}

} // namespace

class TestDrainE2e final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void idleConnectionsDoNotHoldAnUndeployedBackend();
    void requestInFlightIsAnsweredFirst();
};

void TestDrainE2e::idleConnectionsDoNotHoldAnUndeployedBackend() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("drain_timeout_ms"), kDrainMs);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(d.deploy(processManifest(QStringLiteral("idle"))).contains(QStringLiteral("result")));
    const qint64 pid = backendPid(d, QStringLiteral("idle"));
    QVERIFY(alive(pid));
    // A keep-alive client connection, answered and left open: the daemon keeps the
    // backend connection in its pool, both idle.
    const int client = tcpConnect(QHostAddress::LocalHost, d.ingressPort());
    QVERIFY(sendAll(client, "GET /idle/hello HTTP/1.1\r\nHost: a\r\n\r\n"));
    QVERIFY(recvExactly(client, 15, 10000).startsWith("HTTP/1.1 200"));

    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("idle")}})
                .contains(QStringLiteral("result")));
    // Nothing is in flight: the backend stops at once (bounded far below the drain time).
    QTRY_VERIFY_WITH_TIMEOUT(!alive(pid), 10000);
    closeFd(client);
}

void TestDrainE2e::requestInFlightIsAnsweredFirst() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("drain_timeout_ms"), kDrainMs);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(d.deploy(processManifest(QStringLiteral("busy"))).contains(QStringLiteral("result")));
    const qint64 pid = backendPid(d, QStringLiteral("busy"));
    const int client = tcpConnect(QHostAddress::LocalHost, d.ingressPort());
    QVERIFY(sendAll(client, "GET /busy/sleep/1500 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    // The request is at the backend (it is asleep in it) when the project goes.
    QTRY_VERIFY_WITH_TIMEOUT(d.call(QStringLiteral("routes.list"))
                                     .value(QStringLiteral("result"))
                                     .toObject()
                                     .value(QStringLiteral("routes"))
                                     .toArray()
                                     .at(1)
                                     .toObject()
                                     .value(QStringLiteral("counters"))
                                     .toObject()
                                     .value(QStringLiteral("requests"))
                                     .toInt() == 1,
                             5000);
    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("busy")}})
                .contains(QStringLiteral("result")));
    bool eof = false;
    const QByteArray answer = recvUntilEof(client, 15000, &eof);
    QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer.constData());
    QVERIFY(answer.endsWith("slept 1500"));
    closeFd(client);
    // And once it is answered, the backend goes without waiting out the drain time.
    QTRY_VERIFY_WITH_TIMEOUT(!alive(pid), 10000);
}

QTEST_GUILESS_MAIN(TestDrainE2e)
#include "tst_drain_e2e.moc"

// Events from a real porticod: a subscriber sees every state change a screen would show
// (deploy, routes, backend state, refusal, undeploy), and SIGHUP re-reads the store.
#include "daemonfixture.h"
#include "eventsubscriber.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <csignal>

using namespace portico::test;

class TestEventsE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyChangeIsAnEvent();
    void sighupReloadsTheStore();
};

void TestEventsE2e::everyChangeIsAnEvent() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend backend(ThreadedBackend::Mode::Http, "ev");
    EventSubscriber events(d.socketPath());
    QVERIFY(events.isSubscribed());
    QVERIFY(!events.waitFor(QStringLiteral("stats.tick"), {}, 5000).isEmpty()); // subscribed and ticking

    QList<quint16> ports;
    QVERIFY(d.deployOnFreePorts(
                 QStringLiteral(
                     R"({"name":"ev","runtime":"upstream","upstream":"127.0.0.1:PORT","listen":{"port":%1}})")
                     .replace(QStringLiteral("PORT"), QString::number(backend.port())),
                 &ports)
                .contains(QStringLiteral("result")));
    const quint16 port = ports[0];
    const QJsonObject routes = events.waitFor(QStringLiteral("routes.changed"));
    QVERIFY(!routes.isEmpty());
    QVERIFY(
        routes.value(QStringLiteral("data")).toObject().value(QStringLiteral("routes")).toArray().size() >=
        2);
    const QJsonObject deployed = events.waitFor(QStringLiteral("project.deployed"), QStringLiteral("ev"));
    QVERIFY(!deployed.isEmpty());
    QVERIFY(deployed.contains(QStringLiteral("time")));

    // A refusal is an event too, with its conflict.
    const QByteArray clash =
        QStringLiteral(
            R"({"name":"clash","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1,"protocol":"tcp"}})")
            .arg(port)
            .toUtf8();
    QCOMPARE(d.deploy(clash).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(),
             1002);
    const QJsonObject refused = events.waitFor(QStringLiteral("deploy.refused"), QStringLiteral("clash"));
    QVERIFY(!refused.isEmpty());
    QCOMPARE(refused.value(QStringLiteral("data"))
                 .toObject()
                 .value(QStringLiteral("conflicts"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("holder"))
                 .toString(),
             QStringLiteral("ev"));

    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("ev")}})
                .contains(QStringLiteral("result")));
    QVERIFY(!events.waitFor(QStringLiteral("project.undeployed"), QStringLiteral("ev")).isEmpty());
}

void TestEventsE2e::sighupReloadsTheStore() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend backend(ThreadedBackend::Mode::Http, "hup");
    // A project file put in place by hand (e.g. by configuration management)...
    const QJsonObject stored{
        {QStringLiteral("format"), 1},
        {QStringLiteral("source_dir"), d.dir()},
        {QStringLiteral("manifest"),
         QJsonObject{{QStringLiteral("name"), QStringLiteral("hup")},
                     {QStringLiteral("runtime"), QStringLiteral("upstream")},
                     {QStringLiteral("upstream"), QStringLiteral("127.0.0.1:%1").arg(backend.port())}}}};
    QVERIFY(QDir().mkpath(d.stateDir() + QStringLiteral("/projects")));
    QFile f(d.stateDir() + QStringLiteral("/projects/hup.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(stored).toJson());
    f.close();
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/hup/").status, 404);
    // ...is deployed on SIGHUP, and removed again when its file goes.
    ::kill(pid_t(d.pid()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(DaemonFixture::httpGet(d.ingressPort(), "/hup/").status, 200, 15000);
    QVERIFY(QFile::remove(f.fileName()));
    ::kill(pid_t(d.pid()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(DaemonFixture::httpGet(d.ingressPort(), "/hup/").status, 404, 15000);
}

QTEST_GUILESS_MAIN(TestEventsE2e)
#include "tst_events_e2e.moc"

// The admin protocol as a real porticod speaks it: every method's answer and every event
// kind, checked against the shapes in tests/support/contract.h, the same shapes
// tst_dispatcher holds FakeAdminApi to. And the values behind the documented but untested
// answers: stats.get counts the requests it served, daemon.reload says what it changed,
// audit.list names who did what, route.conflict comes when a port is held.
#include "contract.h"
#include "daemonfixture.h"
#include "eventsubscriber.h"
#include "relayutil.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTest>

#include <csignal>
#include <unistd.h>

using namespace portico::test;

namespace {

QJsonObject resultOf(const QJsonObject &response) {
    return response.value(QStringLiteral("result")).toObject();
}

QJsonObject routeRow(const QJsonArray &rows, const QString &project, int port = 0) {
    for (const QJsonValue &v : rows) {
        const QJsonObject row = v.toObject();
        if (row.value(QStringLiteral("project")).toString() == project &&
            (port == 0 || row.value(QStringLiteral("host_port")).toInt() == port))
            return row;
    }
    return {};
}

} // namespace

class TestContractE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void everyMethodAnswersInShape_data();
    void everyMethodAnswersInShape();
    void statsCountWhatWasServed();
    void reloadSaysWhatChanged();
    void auditListNamesWhoDidWhat();
    void routeConflictWhenAPortIsHeld();
    void everyEventKindInShape();

private:
    // Calls method and checks that it answered, in the documented shape.
    QJsonObject checkedCall(const QString &method, const QJsonObject &params = {});

    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_backend;
    std::unique_ptr<EventSubscriber> m_events;
    quint16 m_ownPort = 0;
};

void TestContractE2e::initTestCase() {
    m_daemon.config.insert(QStringLiteral("conflict_retry_ms"), 100);
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    m_events = std::make_unique<EventSubscriber>(m_daemon.socketPath());
    QVERIFY(m_events->isSubscribed());
    QVERIFY(!m_events->waitFor(QStringLiteral("stats.tick")).isEmpty()); // subscribed
    m_backend = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "contract");

    // Three projects: path-routed, on a port of its own, and a process that logs.
    const QJsonObject web =
        m_daemon.deploy(QStringLiteral(R"({"name":"web","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                            .arg(m_backend->port())
                            .toUtf8());
    QVERIFY2(web.contains(QStringLiteral("result")), QJsonDocument(web).toJson());
    QList<quint16> ports;
    const QJsonObject own = m_daemon.deployOnFreePorts(
        QStringLiteral(
            R"({"name":"own","runtime":"upstream","upstream":"127.0.0.1:%1","listen":{"port":%2}})")
            .arg(m_backend->port())
            .replace(QStringLiteral("%2"), QStringLiteral("%1")),
        &ports);
    QVERIFY2(own.contains(QStringLiteral("result")), QJsonDocument(own).toJson());
    m_ownPort = ports.first();
    const QJsonObject proc =
        m_daemon.call(QStringLiteral("projects.deploy"),
                      {{QStringLiteral("manifest"),
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("proc")},
                                    {QStringLiteral("runtime"), QStringLiteral("process")},
                                    {QStringLiteral("command"),
                                     QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}}},
                       {QStringLiteral("source_dir"), m_daemon.dir()}},
                      60000);
    QVERIFY2(proc.contains(QStringLiteral("result")), QJsonDocument(proc).toJson());
    for (const QJsonObject &r : {web, own, proc}) {
        const QStringList problems = contract::checkResult(QStringLiteral("projects.deploy"), resultOf(r));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }
}

QJsonObject TestContractE2e::checkedCall(const QString &method, const QJsonObject &params) {
    const QJsonObject response = m_daemon.call(method, params);
    if (!response.contains(QStringLiteral("result"))) {
        qWarning().noquote() << method << "did not answer:" << QJsonDocument(response).toJson();
        return {};
    }
    const QStringList problems = contract::checkResult(method, response.value(QStringLiteral("result")));
    for (const QString &p : problems)
        qWarning().noquote() << p;
    return problems.isEmpty() ? resultOf(response) : QJsonObject();
}

void TestContractE2e::everyMethodAnswersInShape_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonObject>("params");
    QTest::newRow("daemon.info") << "daemon.info" << QJsonObject();
    QTest::newRow("routes.list") << "routes.list" << QJsonObject();
    QTest::newRow("projects.list") << "projects.list" << QJsonObject();
    QTest::newRow("projects.get") << "projects.get" << QJsonObject{{"name", "own"}};
    QTest::newRow("projects.validate")
        << "projects.validate"
        << QJsonObject{{"manifest",
                        QJsonObject{{"name", "dry"}, {"runtime", "upstream"}, {"upstream", "127.0.0.1:9"}}}};
    QTest::newRow("projects.logs") << "projects.logs" << QJsonObject{{"name", "proc"}};
    QTest::newRow("projects.restart") << "projects.restart" << QJsonObject{{"name", "web"}};
    QTest::newRow("stats.get") << "stats.get" << QJsonObject();
    QTest::newRow("events.subscribe")
        << "events.subscribe" << QJsonObject{{"kinds", QJsonArray{"stats.tick"}}};
    QTest::newRow("daemon.reload") << "daemon.reload" << QJsonObject();
    QTest::newRow("audit.list") << "audit.list" << QJsonObject();
}

void TestContractE2e::everyMethodAnswersInShape() {
    QFETCH(QString, method);
    QFETCH(QJsonObject, params);
    QVERIFY(!checkedCall(method, params).isEmpty());
}

// stats.get counts what the daemon served, per route, with rates beside the counters.
void TestContractE2e::statsCountWhatWasServed() {
    const auto before =
        routeRow(checkedCall(QStringLiteral("stats.get")).value(QStringLiteral("routes")).toArray(),
                 QStringLiteral("own"), m_ownPort);
    QVERIFY(!before.isEmpty());
    const double requestsBefore =
        before.value(QStringLiteral("counters")).toObject().value(QStringLiteral("requests")).toDouble();
    for (int i = 0; i < 3; ++i)
        QCOMPARE(DaemonFixture::httpGet(m_ownPort, "/hello").body,
                 QByteArray("hello from contract GET /hello"));
    QTRY_COMPARE(routeRow(checkedCall(QStringLiteral("stats.get")).value(QStringLiteral("routes")).toArray(),
                          QStringLiteral("own"), m_ownPort)
                     .value(QStringLiteral("counters"))
                     .toObject()
                     .value(QStringLiteral("requests"))
                     .toDouble(),
                 requestsBefore + 3);
    const QJsonObject stats = checkedCall(QStringLiteral("stats.get"));
    QVERIFY(stats.value(QStringLiteral("uptime_ms")).toDouble() > 0);
    // The ingress row is there too, with no project.
    QVERIFY(routeRow(stats.value(QStringLiteral("routes")).toArray(), QString(), m_daemon.ingressPort())
                .value(QStringLiteral("project"))
                .isNull());
}

// daemon.reload: nothing changed on disk, nothing changed; a project file edited by hand is
// redeployed and counted; an unreadable one is named in problems.
void TestContractE2e::reloadSaysWhatChanged() {
    QCOMPARE(checkedCall(QStringLiteral("daemon.reload")),
             (QJsonObject{{QStringLiteral("changed"), 0}, {QStringLiteral("problems"), QJsonArray()}}));
    const QString projects = m_daemon.stateDir() + QStringLiteral("/projects");
    QFile garbage(projects + QStringLiteral("/garbage.json"));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("{ not json");
    garbage.close();
    const QJsonObject r = checkedCall(QStringLiteral("daemon.reload"));
    QCOMPARE(r.value(QStringLiteral("changed")).toInt(), 0);
    const QJsonArray problems = r.value(QStringLiteral("problems")).toArray();
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.at(0).toString().contains(QStringLiteral("garbage.json")),
             qPrintable(problems.at(0).toString()));
}

// audit.list: every state-changing call with the caller's uid and pid and its outcome,
// oldest first; queries are not recorded.
void TestContractE2e::auditListNamesWhoDidWhat() {
    QVERIFY(
        m_daemon.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("web")}})
            .contains(QStringLiteral("result")));
    QVERIFY(m_daemon.call(QStringLiteral("routes.list")).contains(QStringLiteral("result")));
    QVERIFY(m_daemon.call(QStringLiteral("daemon.reload")).contains(QStringLiteral("result")));
    const QJsonObject refused = m_daemon.call(QStringLiteral("projects.undeploy"),
                                              {{QStringLiteral("name"), QStringLiteral("nobody-here")}});
    QCOMPARE(refused.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1003);
    const QJsonArray entries = checkedCall(QStringLiteral("audit.list"), {{QStringLiteral("limit"), 100000}})
                                   .value(QStringLiteral("entries"))
                                   .toArray();
    QStringList trail;
    for (const QJsonValue &v : entries) {
        const QJsonObject e = v.toObject();
        QCOMPARE(e.value(QStringLiteral("uid")).toInt(), int(::getuid()));
        QCOMPARE(e.value(QStringLiteral("pid")).toInt(), int(::getpid())); // this test process
        trail.append(QStringLiteral("%1 %2 %3")
                         .arg(e.value(QStringLiteral("method")).toString(),
                              e.value(QStringLiteral("project")).toString(QStringLiteral("-")),
                              e.value(QStringLiteral("outcome")).toString()));
    }
    // The deploys of initTestCase first, the three calls above last, and no query between.
    QVERIFY2(trail.size() >= 6, qPrintable(trail.join(u", ")));
    QCOMPARE(trail.mid(0, 3),
             (QStringList{QStringLiteral("projects.deploy web ok"), QStringLiteral("projects.deploy own ok"),
                          QStringLiteral("projects.deploy proc ok")}));
    QCOMPARE(trail.mid(trail.size() - 3),
             (QStringList{QStringLiteral("projects.restart web ok"), QStringLiteral("daemon.reload - ok"),
                          QStringLiteral("projects.undeploy nobody-here refused")}));
    QVERIFY(trail.filter(QStringLiteral("routes.list")).isEmpty());
    QVERIFY(trail.filter(QStringLiteral("daemon.info")).isEmpty());
}

// A project whose port another program holds when its file is (re)deployed from the store
// keeps running with its route in conflict; route.conflict says so, and the daemon takes
// the port once it is free.
void TestContractE2e::routeConflictWhenAPortIsHeld() {
    quint16 heldPort = 0;
    const int holder = tcpListen(QHostAddress::LocalHost, &heldPort);
    QVERIFY(holder >= 0);
    // Edit the stored project by hand (as configuration management would) to want the
    // held port, and reload.
    QFile stored(m_daemon.stateDir() + QStringLiteral("/projects/own.json"));
    QVERIFY(stored.open(QIODevice::ReadOnly));
    QJsonObject file = QJsonDocument::fromJson(stored.readAll()).object();
    stored.close();
    QJsonObject manifest = file.value(QStringLiteral("manifest")).toObject();
    manifest.insert(QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), heldPort}});
    file.insert(QStringLiteral("manifest"), manifest);
    QVERIFY(stored.open(QIODevice::WriteOnly | QIODevice::Truncate));
    stored.write(QJsonDocument(file).toJson());
    stored.close();
    QCOMPARE(checkedCall(QStringLiteral("daemon.reload")).value(QStringLiteral("changed")).toInt(), 1);

    const QJsonObject conflict = m_events->waitFor(QStringLiteral("route.conflict"), QStringLiteral("own"));
    QVERIFY(!conflict.isEmpty());
    const QJsonObject data = conflict.value(QStringLiteral("data")).toObject();
    const QStringList problems = contract::checkEvent(QStringLiteral("route.conflict"), data);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    QCOMPARE(data.value(QStringLiteral("port")).toInt(), int(heldPort));
    QCOMPARE(data.value(QStringLiteral("transport")).toString(), QStringLiteral("tcp"));
    QVERIFY2(data.value(QStringLiteral("reason")).toString().contains(QString::number(heldPort)),
             qPrintable(data.value(QStringLiteral("reason")).toString()));
    const auto row = [&] {
        return routeRow(
            resultOf(m_daemon.call(QStringLiteral("routes.list"))).value(QStringLiteral("routes")).toArray(),
            QStringLiteral("own"), heldPort);
    };
    QCOMPARE(row().value(QStringLiteral("state")).toString(), QStringLiteral("conflict"));

    closeFd(holder);
    QTRY_COMPARE_WITH_TIMEOUT(row().value(QStringLiteral("state")).toString(), QStringLiteral("active"),
                              10000);
    QCOMPARE(DaemonFixture::httpGet(heldPort, "/hello").body, QByteArray("hello from contract GET /hello"));
    m_ownPort = heldPort;
}

// Every event a subscriber got so far is in its documented shape, and every kind came
// (route.conflict, which needs a held port, has its own test above).
void TestContractE2e::everyEventKindInShape() {
    // A process that logs and changes state, a refusal, an undeploy.
    const QJsonObject temp =
        m_daemon.call(QStringLiteral("projects.deploy"),
                      {{QStringLiteral("manifest"),
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("temp")},
                                    {QStringLiteral("runtime"), QStringLiteral("process")},
                                    {QStringLiteral("command"),
                                     QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}}},
                       {QStringLiteral("source_dir"), m_daemon.dir()}},
                      60000);
    QVERIFY2(temp.contains(QStringLiteral("result")), QJsonDocument(temp).toJson());
    // Lines from before the deploy finished are in projects.logs; a restart logs anew.
    QVERIFY(
        m_daemon.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("temp")}})
            .contains(QStringLiteral("result")));
    QVERIFY(!m_events->waitFor(QStringLiteral("project.log"), QStringLiteral("temp")).isEmpty());
    // A crash is a state change: crashed, then back.
    const qint64 pid = qint64(resultOf(m_daemon.call(QStringLiteral("projects.get"),
                                                     {{QStringLiteral("name"), QStringLiteral("temp")}}))
                                  .value(QStringLiteral("pid"))
                                  .toDouble());
    QVERIFY(pid > 0);
    QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
    QVERIFY(!m_events->waitFor(QStringLiteral("project.state"), QStringLiteral("temp")).isEmpty());
    const QJsonObject refused = m_daemon.deploy(R"({"name":"bad","runtime":"upstream"})");
    QCOMPARE(refused.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1001);
    QVERIFY(!m_events->waitFor(QStringLiteral("deploy.refused"), QStringLiteral("bad")).isEmpty());
    QVERIFY(
        m_daemon.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("temp")}})
            .contains(QStringLiteral("result")));
    QVERIFY(!m_events->waitFor(QStringLiteral("project.undeployed"), QStringLiteral("temp")).isEmpty());

    QSet<QString> kinds;
    for (const QJsonObject &e : m_events->seen()) {
        const QString kind = e.value(QStringLiteral("kind")).toString();
        kinds.insert(kind);
        QVERIFY2(!e.value(QStringLiteral("time")).toString().isEmpty(), qPrintable(kind));
        const QStringList problems = contract::checkEvent(kind, e.value(QStringLiteral("data")));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }
    QStringList missing;
    for (const QString &k : contract::eventKinds()) {
        if (!kinds.contains(k) && k != QLatin1String("route.conflict"))
            missing.append(k);
    }
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("no event of kind ") + missing.join(u", ")));
}

QTEST_GUILESS_MAIN(TestContractE2e)
#include "tst_contract_e2e.moc"

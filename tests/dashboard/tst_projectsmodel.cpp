// ProjectsModel against a real porticod: projects.list, then project.deployed,
// project.state and project.undeployed applied in place.

#include "dashboardtest.h"
#include "models/projectsmodel.h"
#include "threadedbackend.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>

using namespace portico;
using namespace portico::test;

namespace {

QByteArray processManifest(const QString &name, const QStringList &args) {
    QJsonArray command{QStringLiteral(TESTBACKEND_PATH)};
    for (const QString &a : args)
        command.append(a);
    return QJsonDocument(QJsonObject{{QStringLiteral("name"), name},
                                     {QStringLiteral("runtime"), QStringLiteral("process")},
                                     {QStringLiteral("command"), command}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestProjectsModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void listsProjectsDeployedBefore();
    void showsProjectsDeployedLater();
    void stateChangesInPlace_data();
    void stateChangesInPlace();
    void undeployRemovesTheRow();
    void readsTheProcessFacts_data();
    void readsTheProcessFacts();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<ProjectsModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestProjectsModel::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    m_daemon.config.insert(QStringLiteral("drain_timeout_ms"), 300);
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("alpha"), m_http->port()))));

    m_client = makeClient(m_daemon);
    m_model = std::make_unique<ProjectsModel>(m_client.get());
    m_tester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(m_model.get(), &ProjectsModel::loaded);
    m_client->connectToDaemon();
    QVERIFY(loaded.wait(10000));
}

void TestProjectsModel::cleanupTestCase() {
    m_tester.reset();
    m_model.reset();
    m_client.reset();
    m_daemon.stop();
}

void TestProjectsModel::listsProjectsDeployedBefore() {
    QCOMPARE(m_model->rowCount(), 1);
    const int row = m_model->findRow(QStringLiteral("alpha"));
    QCOMPARE(row, 0);
    QCOMPARE(m_model->index(row, ProjectsModel::Runtime).data().toString(), QStringLiteral("upstream"));
    QCOMPARE(m_model->index(row, ProjectsModel::State).data().toString(), QStringLiteral("active"));
    QCOMPARE(m_model->index(row, ProjectsModel::Routes).data().toString(),
             QStringLiteral("/alpha/ on :%1").arg(m_daemon.ingressPort()));
}

void TestProjectsModel::showsProjectsDeployedLater() {
    QSignalSpy resets(m_model.get(), &QAbstractItemModel::modelReset);
    const quint16 port = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("beta"), m_http->port(), port))));
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("beta")) >= 0, 10000);
    const auto beta = m_model->project(m_model->findRow(QStringLiteral("beta")));
    QCOMPARE(beta.state, QStringLiteral("active"));
    QCOMPARE(beta.routes, QStringList{QStringLiteral("%1/http").arg(port)});
    QCOMPARE(resets.count(), 0);
}

void TestProjectsModel::stateChangesInPlace_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("restart");
    QTest::addColumn<QStringList>("expectSome"); // one of these must be seen after "active"
    QTest::newRow("restarted by the operator")
        << QStringLiteral("proc") << QStringList{QStringLiteral("http")} << true
        << QStringList{QStringLiteral("starting"), QStringLiteral("stopped")};
    QTest::newRow("backend crashes") << QStringLiteral("crashy")
                                     << QStringList{QStringLiteral("crash-after"), QStringLiteral("800")}
                                     << false
                                     << QStringList{QStringLiteral("crashed"), QStringLiteral("backoff")};
}

void TestProjectsModel::stateChangesInPlace() {
    QFETCH(QString, name);
    QFETCH(QStringList, args);
    QFETCH(bool, restart);
    QFETCH(QStringList, expectSome);

    const QJsonObject r = m_daemon.deploy(processManifest(name, args));
    QVERIFY2(isOk(r), QJsonDocument(r).toJson().constData());
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(name) >= 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_model->project(m_model->findRow(name)).state, QStringLiteral("active"),
                              10000);
    QVERIFY(m_model->project(m_model->findRow(name)).pid > 0);

    const QPersistentModelIndex index = m_model->index(m_model->findRow(name), ProjectsModel::State);
    QStringList seen;
    connect(m_model.get(), &QAbstractItemModel::dataChanged, this, [&](const QModelIndex &from) {
        if (from.row() == index.row()) {
            const QString s = index.data().toString();
            if (seen.isEmpty() || seen.last() != s)
                seen << s;
        }
    });
    if (restart)
        QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), name}})));
    QTRY_VERIFY_WITH_TIMEOUT(
        std::any_of(seen.cbegin(), seen.cend(), [&](const QString &s) { return expectSome.contains(s); }),
        15000);
    // Supervision brings it back (it starts again), and the row follows.
    const auto firstExpected =
        std::find_if(seen.cbegin(), seen.cend(), [&](const QString &s) { return expectSome.contains(s); }) -
        seen.cbegin();
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(seen.cbegin() + firstExpected + 1, seen.cend(),
                                         [](const QString &s) {
                                             return s == QLatin1String("active") ||
                                                    s == QLatin1String("starting");
                                         }),
                             15000);
    QVERIFY2(!seen.contains(QStringLiteral("running")), qPrintable(seen.join(QLatin1Char(' '))));
    QVERIFY(index.isValid());
    QCOMPARE(index.data(ProjectsModel::NameRole).toString(), name);
    disconnect(m_model.get(), &QAbstractItemModel::dataChanged, this, nullptr);
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), name}})));
}

void TestProjectsModel::undeployRemovesTheRow() {
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("beta")) >= 0, 5000);
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("beta")}})));
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("beta")) < 0, 10000);
    QCOMPARE(m_model->findRow(QStringLiteral("alpha")), 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 1, 10000);
}

void TestProjectsModel::readsTheProcessFacts_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("uptime");   // the Uptime column, "" to skip
    QTest::addColumn<QString>("restarts"); // the Restarts column
    QTest::addColumn<QString>("lastExit"); // ProjectInfo::lastExitText()
    QTest::addColumn<QStringList>("env");

    QTest::newRow("protocol 1: only the pid; env names from the manifest")
        << QByteArray(R"({"name":"p","state":"active","pid":42,"manifest":{"env":{"B":"secret","A":"x"}}})")
        << QStringLiteral("—") << QStringLiteral("—") << QString()
        << QStringList{QStringLiteral("A"), QStringLiteral("B")};
    QTest::newRow("protocol 2: an exit code")
        << QByteArray(R"({"name":"p","state":"active","pid":42,"uptime_ms":125000,"restarts":3,)"
                      R"("last_exit":{"code":1,"at":"2026-01-02T03:04:05.000Z"},"env_names":["TOKEN"]})")
        << QStringLiteral("2m ") << QStringLiteral("3") << QStringLiteral("exit code 1 at ")
        << QStringList{QStringLiteral("TOKEN")};
    QTest::newRow("protocol 2: killed by a signal, not running")
        << QByteArray(
               R"({"name":"p","state":"backoff","pid":null,"started_at":null,"uptime_ms":null,"restarts":7,)"
               R"("last_exit":{"signal":9,"signal_name":"SIGKILL"},"env_names":[]})")
        << QStringLiteral("—") << QStringLiteral("7") << QStringLiteral("killed by SIGKILL (9)")
        << QStringList{};
    QTest::newRow("protocol 2: never exited")
        << QByteArray(R"({"name":"p","state":"active","pid":5,"restarts":0,"last_exit":null,"env_names":[]})")
        << QString() << QStringLiteral("0") << QStringLiteral("none yet") << QStringList{};
}

void TestProjectsModel::readsTheProcessFacts() {
    QFETCH(QByteArray, json);
    QFETCH(QString, uptime);
    QFETCH(QString, restarts);
    QFETCH(QString, lastExit);
    QFETCH(QStringList, env);
    const ProjectInfo p = ProjectInfo::fromJson(QJsonDocument::fromJson(json).object());
    QVERIFY(!p.name.isEmpty());
    // Shown by the model as it would be in the table (a model of its own: no daemon).
    AdminClient offline;
    ProjectsModel model(&offline);
    model.applyProject(QJsonDocument::fromJson(json).object());
    QCOMPARE(model.rowCount(), 1);
    if (!uptime.isEmpty())
        QVERIFY(model.index(0, ProjectsModel::Uptime).data().toString().startsWith(uptime));
    QCOMPARE(model.index(0, ProjectsModel::Restarts).data().toString(), restarts);
    QVERIFY2(lastExit.isEmpty() ? p.lastExitText().isEmpty() : p.lastExitText().startsWith(lastExit),
             qPrintable(p.lastExitText()));
    QCOMPARE(p.envNames, env);
    // Env values are never shown, whatever the daemon sent.
    QVERIFY(!QJsonDocument(p.redactedManifest()).toJson().contains("secret"));
}

QTEST_GUILESS_MAIN(TestProjectsModel)
#include "tst_projectsmodel.moc"

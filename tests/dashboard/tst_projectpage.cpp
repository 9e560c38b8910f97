// A project's own page against a real porticod: state, PID (the real process), uptime,
// restarts, last exit, env names but never their values, its routes, its manifest and
// its output; Restart and Undeploy from the page. The process facts are protocol 2's
// (tst_projectsmodel checks that an older daemon's missing facts read "not reported").

#include "dashboardtest.h"
#include "models/logmodel.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "widgets/logpanel.h"
#include "widgets/projectactions.h"
#include "widgets/projectpage.h"
#include "widgets/routesview.h"

#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableView>

using namespace portico;
using namespace portico::test;

namespace {

QByteArray processManifest(const QString &name, const QStringList &args, quint16 port) {
    QJsonArray command{QStringLiteral(TESTBACKEND_PATH)};
    for (const QString &a : args)
        command.append(a);
    QJsonObject m{
        {QStringLiteral("name"), name},
        {QStringLiteral("runtime"), QStringLiteral("process")},
        {QStringLiteral("command"), command},
        {QStringLiteral("env"), QJsonObject{{QStringLiteral("SECRET_TOKEN"), QStringLiteral("hunter2")},
                                            {QStringLiteral("LOG_LEVEL"), QStringLiteral("debug")}}}};
    if (port)
        m.insert(QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), int(port)}});
    return QJsonDocument(m).toJson(QJsonDocument::Compact);
}

} // namespace

class TestProjectPage final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsTheProject();
    void neverShowsEnvValues();
    void restartFromThePage();
    void showsACrashesExit();
    void undeployFromThePage();

private:
    qint64 daemonPid(const QString &name) const;
    QString everythingShown() const;

    DaemonFixture m_daemon;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<ProjectsModel> m_projects;
    std::unique_ptr<RoutesModel> m_routes;
    std::unique_ptr<ProjectActions> m_actions;
    std::unique_ptr<ProjectPage> m_page;
    quint16 m_port = 0;
};

void TestProjectPage::initTestCase() {
    m_daemon.config.insert(QStringLiteral("drain_timeout_ms"), 300);
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QCOMPARE(protocolVersion(m_daemon), 2);
    m_port = freePort();
    const QJsonObject r =
        m_daemon.deploy(processManifest(QStringLiteral("worker"), {QStringLiteral("http")}, m_port));
    QVERIFY2(isOk(r), QJsonDocument(r).toJson().constData());
    m_client = makeClient(m_daemon);
    m_projects = std::make_unique<ProjectsModel>(m_client.get());
    m_routes = std::make_unique<RoutesModel>(m_client.get());
    m_actions = std::make_unique<ProjectActions>(m_client.get());
    m_page = std::make_unique<ProjectPage>(m_client.get(), m_projects.get(), m_routes.get(), m_actions.get());
    m_page->resize(1000, 700);
    m_page->show();
    m_client->connectToDaemon();
    m_page->setProject(QStringLiteral("worker"));
}

void TestProjectPage::cleanupTestCase() {
    m_page.reset();
    m_actions.reset();
    m_routes.reset();
    m_projects.reset();
    m_client.reset();
    m_daemon.stop();
}

qint64 TestProjectPage::daemonPid(const QString &name) const {
    return qint64(m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), name}})
                      .value(QStringLiteral("result"))
                      .toObject()
                      .value(QStringLiteral("pid"))
                      .toDouble());
}

QString TestProjectPage::everythingShown() const {
    QStringList all{m_page->manifestText()};
    for (const QLabel *l : m_page->findChildren<QLabel *>())
        all << l->text() << l->toolTip();
    all << m_page->logModel()->text();
    return all.join(QLatin1Char('\n'));
}

void TestProjectPage::showsTheProject() {
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("state")), QStringLiteral("active"), 15000);
    QVERIFY(m_page->field(QStringLiteral("reason")).isEmpty());
    QCOMPARE(m_page->field(QStringLiteral("runtime")), QStringLiteral("process"));
    // The PID is the daemon's, of a process that exists.
    const qint64 pid = daemonPid(QStringLiteral("worker"));
    QVERIFY(pid > 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("pid")), QString::number(pid), 5000);
    QVERIFY(QFile::exists(QStringLiteral("/proc/%1").arg(pid)));
    QCOMPARE(m_page->field(QStringLiteral("source")), m_daemon.dir());
    QVERIFY(m_page->field(QStringLiteral("backend")).startsWith(QStringLiteral("127.0.0.1:")));
    // Its route, live from the routing table, and only its.
    QTRY_COMPARE_WITH_TIMEOUT(m_page->routesView()->visibleRows(), 1, 10000);
    QCOMPARE(m_page->routesView()->table()->model()->index(0, RoutesModel::Port).data().toInt(), int(m_port));
    // Its manifest and its output.
    QVERIFY(m_page->manifestText().contains(QStringLiteral("\"name\": \"worker\"")));
    QTRY_VERIFY_WITH_TIMEOUT(m_page->logModel()->text().contains(QStringLiteral("listening on")), 10000);
    QVERIFY(m_page->logPanel()->isVisible());

    QVERIFY(m_page->field(QStringLiteral("uptime")) != QStringLiteral("—"));
    QCOMPARE(m_page->field(QStringLiteral("restarts")), QStringLiteral("0"));
    QCOMPARE(m_page->field(QStringLiteral("last_exit")), QStringLiteral("none yet"));
}

void TestProjectPage::neverShowsEnvValues() {
    QTRY_VERIFY_WITH_TIMEOUT(m_page->field(QStringLiteral("env")).contains(QStringLiteral("SECRET_TOKEN")),
                             10000);
    QVERIFY(m_page->field(QStringLiteral("env")).contains(QStringLiteral("LOG_LEVEL")));
    // The manifest names the variables, and hides what they are set to.
    QVERIFY(m_page->manifestText().contains(QStringLiteral("\"SECRET_TOKEN\"")));
    QVERIFY2(!everythingShown().contains(QStringLiteral("hunter2")), qPrintable(everythingShown()));
    QVERIFY(!everythingShown().contains(QStringLiteral("debug\"")));
}

void TestProjectPage::restartFromThePage() {
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("state")), QStringLiteral("active"), 15000);
    const QString before = m_page->field(QStringLiteral("pid"));
    QSignalSpy messages(m_actions.get(), &ProjectActions::message);
    QTest::mouseClick(m_page->findChild<QPushButton *>(QStringLiteral("pageRestartButton")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!messages.isEmpty(), 5000);
    QCOMPARE(messages.first().at(0).toString(), QStringLiteral("restarting worker"));
    QTRY_VERIFY_WITH_TIMEOUT(m_page->field(QStringLiteral("pid")) != before &&
                                 m_page->field(QStringLiteral("pid")) != QStringLiteral("—"),
                             15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("state")), QStringLiteral("active"), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("pid")),
                              QString::number(daemonPid(QStringLiteral("worker"))), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("restarts")), QStringLiteral("1"), 10000);
    QVERIFY(m_page->field(QStringLiteral("last_exit")) != QStringLiteral("none yet"));
}

void TestProjectPage::showsACrashesExit() {
    // A backend that exits with code 3 after a while; supervision restarts it.
    const QJsonObject r = m_daemon.deploy(
        processManifest(QStringLiteral("crashy"), {QStringLiteral("crash-after"), QStringLiteral("300")}, 0));
    QVERIFY2(isOk(r), QJsonDocument(r).toJson().constData());
    m_page->setProject(QStringLiteral("crashy"));
    QCOMPARE(m_page->project(), QStringLiteral("crashy"));
    QCOMPARE(m_page->logModel()->project(), QStringLiteral("crashy"));
    QTRY_VERIFY_WITH_TIMEOUT(m_page->field(QStringLiteral("state")) == QLatin1String("backoff") ||
                                 m_page->field(QStringLiteral("state")) == QLatin1String("crashed"),
                             15000);
    // Why, in words.
    QTRY_VERIFY_WITH_TIMEOUT(!m_page->field(QStringLiteral("reason")).isEmpty(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(
        m_page->field(QStringLiteral("last_exit")).startsWith(QStringLiteral("exit code 3")), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(m_page->field(QStringLiteral("restarts")).toInt() >= 1, 15000);
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("crashy")}})));
    m_page->setProject(QStringLiteral("worker"));
}

void TestProjectPage::undeployFromThePage() {
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("state")), QStringLiteral("active"), 15000);
    QTest::mouseClick(m_page->findChild<QPushButton *>(QStringLiteral("pageUndeployButton")), Qt::LeftButton);
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = m_page->findChild<QMessageBox *>()) != nullptr && box->isVisible(), 5000);
    QVERIFY(box->text().contains(QStringLiteral("'worker'")));
    QPushButton *yes = nullptr;
    for (QAbstractButton *b : box->buttons())
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            yes = qobject_cast<QPushButton *>(b);
    QVERIFY(yes);
    QTest::mouseClick(yes, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->field(QStringLiteral("state")), QStringLiteral("not deployed"), 10000);
    QVERIFY(!m_page->findChild<QPushButton *>(QStringLiteral("pageRestartButton"))->isEnabled());
    QVERIFY(!m_page->findChild<QPushButton *>(QStringLiteral("pageUndeployButton"))->isEnabled());
    QCOMPARE(
        m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("worker")}})
            .value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("code"))
            .toInt(),
        1003);
}

QTEST_MAIN(TestProjectPage)
#include "tst_projectpage.moc"

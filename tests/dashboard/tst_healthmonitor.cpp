// Health and alerts against a real porticod, and the tray icon that shows them: green
// while every project is up, a notification (once) when a project crashes and when a
// deploy is refused for a port conflict, grey without a daemon.

#include "dashboardtest.h"
#include "models/daemonstatus.h"
#include "models/format.h"
#include "models/healthmonitor.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "threadedbackend.h"
#include "widgets/trayicon.h"

#include <QAction>
#include <QWidget>

using namespace portico;
using namespace portico::test;

class TestHealthMonitor final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void upWhenEveryProjectIs();
    void alertsOnceWhenAProjectCrashes();
    void alertsOnAPortConflict();
    void greyWithoutADaemon();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<DaemonStatus> m_status;
    std::unique_ptr<ProjectsModel> m_projects;
    std::unique_ptr<RoutesModel> m_routes;
    std::unique_ptr<HealthMonitor> m_health;
    std::unique_ptr<QWidget> m_window;
    std::unique_ptr<QAction> m_deploy;
    std::unique_ptr<TrayIcon> m_tray;
    quint16 m_port = 0;
};

void TestHealthMonitor::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    m_daemon.config.insert(QStringLiteral("drain_timeout_ms"), 300);
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    m_port = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("steady"), m_http->port(), m_port))));
    m_client = makeClient(m_daemon);
    m_status = std::make_unique<DaemonStatus>(m_client.get());
    m_projects = std::make_unique<ProjectsModel>(m_client.get());
    m_routes = std::make_unique<RoutesModel>(m_client.get());
    m_health =
        std::make_unique<HealthMonitor>(m_client.get(), m_status.get(), m_projects.get(), m_routes.get());
    m_window = std::make_unique<QWidget>();
    m_deploy = std::make_unique<QAction>(QStringLiteral("Deploy…"));
    m_tray = std::make_unique<TrayIcon>(m_health.get(), m_window.get(), m_deploy.get());
    m_client->connectToDaemon();
}

void TestHealthMonitor::cleanupTestCase() {
    m_tray.reset();
    m_health.reset();
    m_routes.reset();
    m_projects.reset();
    m_status.reset();
    m_client.reset();
    m_daemon.stop();
}

void TestHealthMonitor::upWhenEveryProjectIs() {
    QTRY_COMPARE_WITH_TIMEOUT(m_health->summary(), QStringLiteral("1 project(s), all up"), 10000);
    QCOMPARE(m_health->health(), HealthMonitor::Health::Ok);
    QCOMPARE(m_tray->color(), dash::stateColor(QStringLiteral("active")));
    QCOMPARE(m_tray->toolTip(), QStringLiteral("Portico: 1 project(s), all up"));
}

void TestHealthMonitor::alertsOnceWhenAProjectCrashes() {
    QSignalSpy alerts(m_health.get(), &HealthMonitor::alert);
    // Exits with code 3 after 300 ms, again after each restart: one alert, not one a cycle.
    const QJsonObject manifest{
        {QStringLiteral("name"), QStringLiteral("crashy")},
        {QStringLiteral("runtime"), QStringLiteral("process")},
        {QStringLiteral("command"),
         QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("crash-after"), QStringLiteral("300")}}};
    QVERIFY(isOk(m_daemon.deploy(QJsonDocument(manifest).toJson())));
    QTRY_VERIFY_WITH_TIMEOUT(!alerts.isEmpty(), 15000);
    QCOMPARE(alerts.first().at(0).toString(), QStringLiteral("crashy crashed"));
    QVERIFY(!alerts.first().at(1).toString().isEmpty()); // the reason
    QTRY_VERIFY_WITH_TIMEOUT(m_health->health() >= HealthMonitor::Health::Degraded, 10000);
    QVERIFY(m_health->summary().contains(QStringLiteral("crashy")));
    QVERIFY(m_tray->color() != dash::stateColor(QStringLiteral("active")));
    QVERIFY(m_tray->lastMessage().startsWith(QStringLiteral("crashy crashed")));
    // It crashes again after its restart (active for a moment in between): the same
    // trouble, no second alert.
    QSignalSpy states(m_client.get(), &AdminClient::eventReceived);
    QTRY_VERIFY_WITH_TIMEOUT(std::count_if(states.cbegin(), states.cend(),
                                           [](const QList<QVariant> &e) {
                                               return e.at(0).toString() == QLatin1String("project.state") &&
                                                      e.at(1).toJsonObject().value(QStringLiteral("state")) ==
                                                          QLatin1String("crashed");
                                           }) >= 1,
                             15000);
    QCOMPARE(alerts.count(), 1);
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("crashy")}})));
    QTRY_COMPARE_WITH_TIMEOUT(m_health->health(), HealthMonitor::Health::Ok, 10000);
}

void TestHealthMonitor::alertsOnAPortConflict() {
    QSignalSpy alerts(m_health.get(), &HealthMonitor::alert);
    const QJsonObject refused =
        m_daemon.deploy(upstreamManifest(QStringLiteral("intruder"), m_http->port(), m_port));
    QCOMPARE(refused.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1002);
    QTRY_VERIFY_WITH_TIMEOUT(!alerts.isEmpty(), 10000);
    QCOMPARE(alerts.first().at(0).toString(), QStringLiteral("Deploy of intruder refused: port conflict"));
    QVERIFY2(alerts.first().at(1).toString().contains(QString::number(m_port)),
             qPrintable(alerts.first().at(1).toString()));
}

void TestHealthMonitor::greyWithoutADaemon() {
    m_daemon.stop();
    QTRY_COMPARE_WITH_TIMEOUT(m_health->health(), HealthMonitor::Health::Unknown, 10000);
    QVERIFY(m_health->summary().startsWith(QStringLiteral("porticod is not running at ")));
    QCOMPARE(m_tray->color(), dash::stateColor(QStringLiteral("stopped")));
}

QTEST_MAIN(TestHealthMonitor)
#include "tst_healthmonitor.moc"

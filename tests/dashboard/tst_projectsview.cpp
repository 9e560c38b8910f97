// ProjectsView's actions against a real porticod: Restart, Undeploy (only after the
// confirmation is accepted) and Logs (which asks for the project's page).

#include "dashboardtest.h"
#include "models/projectsmodel.h"
#include "threadedbackend.h"
#include "widgets/projectactions.h"
#include "widgets/projectsview.h"

#include <QMessageBox>
#include <QPushButton>
#include <QTableView>

using namespace portico;
using namespace portico::test;

class TestProjectsView final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void buttonsNeedASelection();
    void undeployAsksFirst_data();
    void undeployAsksFirst();
    void restartAndLogs();

private:
    QMessageBox *confirmation() const;

    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<ProjectsModel> m_model;
    std::unique_ptr<ProjectActions> m_actions;
    std::unique_ptr<ProjectsView> m_view;
};

void TestProjectsView::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("keep"), m_http->port()))));
    const QJsonObject proc{
        {QStringLiteral("name"), QStringLiteral("proc")},
        {QStringLiteral("runtime"), QStringLiteral("process")},
        {QStringLiteral("command"), QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}};
    QVERIFY(isOk(m_daemon.deploy(QJsonDocument(proc).toJson())));
    m_client = makeClient(m_daemon);
    m_model = std::make_unique<ProjectsModel>(m_client.get());
    m_actions = std::make_unique<ProjectActions>(m_client.get());
    m_view = std::make_unique<ProjectsView>(m_model.get(), m_actions.get());
    m_view->resize(700, 300);
    m_view->show();
    m_client->connectToDaemon();
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 2, 10000);
}

void TestProjectsView::cleanupTestCase() {
    m_view.reset();
    m_actions.reset();
    m_model.reset();
    m_client.reset();
    m_daemon.stop();
}

QMessageBox *TestProjectsView::confirmation() const {
    const auto boxes = m_view->findChildren<QMessageBox *>();
    for (QMessageBox *b : boxes)
        if (b->isVisible())
            return b;
    return nullptr;
}

void TestProjectsView::buttonsNeedASelection() {
    m_view->table()->clearSelection();
    const auto undeploy = m_view->findChild<QPushButton *>(QStringLiteral("undeployButton"));
    QVERIFY(undeploy);
    QVERIFY(!undeploy->isEnabled());
    m_view->selectProject(QStringLiteral("keep"));
    QCOMPARE(m_view->selectedProject(), QStringLiteral("keep"));
    QVERIFY(undeploy->isEnabled());
}

void TestProjectsView::undeployAsksFirst_data() {
    QTest::addColumn<bool>("confirm");
    QTest::newRow("cancelled") << false;
    QTest::newRow("confirmed") << true;
}

void TestProjectsView::undeployAsksFirst() {
    QFETCH(bool, confirm);
    QSignalSpy messages(m_actions.get(), &ProjectActions::message);
    m_view->selectProject(QStringLiteral("keep"));
    QTest::mouseClick(m_view->findChild<QPushButton *>(QStringLiteral("undeployButton")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(confirmation() != nullptr, 5000);
    QMessageBox *box = confirmation();
    QVERIFY(box->text().contains(QStringLiteral("'keep'")));
    // Nothing happens while the question is open.
    QCOMPARE(m_model->findRow(QStringLiteral("keep")) >= 0, true);
    QPushButton *button = nullptr;
    for (QAbstractButton *b : box->buttons())
        if (box->buttonRole(b) == (confirm ? QMessageBox::DestructiveRole : QMessageBox::RejectRole))
            button = qobject_cast<QPushButton *>(b);
    QVERIFY(button);
    QTest::mouseClick(button, Qt::LeftButton);
    if (confirm) {
        QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("keep")) < 0, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!messages.isEmpty(), 5000);
        QCOMPARE(messages.last().at(0).toString(), QStringLiteral("keep undeployed"));
        QCOMPARE(
            m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("keep")}})
                .value(QStringLiteral("error"))
                .toObject()
                .value(QStringLiteral("code"))
                .toInt(),
            1003);
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(confirmation() == nullptr, 5000);
        QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.get"),
                                   {{QStringLiteral("name"), QStringLiteral("keep")}})));
        QCOMPARE(m_model->findRow(QStringLiteral("keep")) >= 0, true);
    }
}

void TestProjectsView::restartAndLogs() {
    QTRY_COMPARE_WITH_TIMEOUT(m_model->project(m_model->findRow(QStringLiteral("proc"))).state,
                              QStringLiteral("active"), 10000);
    const qint64 pid = m_model->project(m_model->findRow(QStringLiteral("proc"))).pid;
    QVERIFY(pid > 0);
    m_view->selectProject(QStringLiteral("proc"));
    QSignalSpy messages(m_actions.get(), &ProjectActions::message);
    QTest::mouseClick(m_view->findChild<QPushButton *>(QStringLiteral("restartButton")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!messages.isEmpty(), 5000);
    QCOMPARE(messages.first().at(0).toString(), QStringLiteral("restarting proc"));
    // A new process: project.deployed does not come for a restart, so the pid is read
    // again when the state says it is back (projects.get after project.state).
    QTRY_VERIFY_WITH_TIMEOUT(m_model->project(m_model->findRow(QStringLiteral("proc"))).pid != pid, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_model->project(m_model->findRow(QStringLiteral("proc"))).state,
                              QStringLiteral("active"), 15000);

    QSignalSpy opened(m_view.get(), &ProjectsView::openProject);
    QTest::mouseClick(m_view->findChild<QPushButton *>(QStringLiteral("logsButton")), Qt::LeftButton);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(opened.first().at(0).toString(), QStringLiteral("proc"));
    QCOMPARE(opened.first().at(1).toBool(), true); // on its logs
}

QTEST_MAIN(TestProjectsView)
#include "tst_projectsview.moc"

// The whole window against a real porticod: started before the daemon (the overlay says
// where it looks and why nothing answers, everything is disabled), first data, the
// daemon going away (overlay, rates cleared, actions off) and coming back (everything
// reloaded), a manifest dropped anywhere on it, keyboard shortcuts, a layout that gives
// the tables the rows they have, remembered settings, and --screenshot's rendering.

#include "dashboardtest.h"
#include "models/auditmodel.h"
#include "models/daemonstatus.h"
#include "models/format.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "threadedbackend.h"
#include "widgets/connectionstatus.h"
#include "widgets/deploydialog.h"
#include "widgets/disconnectedoverlay.h"
#include "widgets/logpanel.h"
#include "widgets/mainwindow.h"
#include "widgets/overviewpage.h"
#include "widgets/projectpage.h"
#include "widgets/screenshot.h"
#include "widgets/trafficchart.h"

#include <QAction>
#include <QApplication>
#include <QChartView>
#include <QGroupBox>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMimeData>
#include <QScrollBar>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QUrl>
#include <QWindow>

using namespace portico;
using namespace portico::test;

class TestMainWindow final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void startsWithoutADaemon();
    void showsFirstData();
    void overviewGivesTablesTheirRows();
    void survivesTheDaemonGoingAwayAndReconnects();
    void dropsAManifestAnywhere_data();
    void dropsAManifestAnywhere();
    void refusesWhatIsNoManifest();
    void shortcuts();
    void remembersItsLayout();
    void screenshotRendersTheWindow();
    void cleanupTestCase();

private:
    // A drag of these URLs entering the window over `over` and dropped there, as the
    // platform delivers it (to the window, which finds the widget under the cursor).
    bool drag(QWidget *over, const QList<QUrl> &urls, bool drop);
    QList<QAction *> daemonActions() const;

    std::unique_ptr<QTemporaryDir> m_settings;
    QTemporaryDir m_files;
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::initTestCase() {
    m_settings = isolateSettings();
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    // As main.cpp does, but the daemon is not there yet.
    m_client = std::make_unique<AdminClient>();
    m_client->setSocketPath(m_daemon.socketPath());
    m_client->setAutoReconnect(true, 100, 500);
    m_window = std::make_unique<MainWindow>(m_client.get());
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_client->connectToDaemon();
}

void TestMainWindow::cleanupTestCase() {
    m_window.reset();
    m_client.reset();
    m_daemon.stop();
}

QList<QAction *> TestMainWindow::daemonActions() const {
    return {m_window->deployAction(), m_window->refreshAction(), m_window->logsAction()};
}

namespace {

// How many pixels of the widget, as it is drawn now, are (about) that colour: text is
// anti-aliased at its edges, the cores of its strokes are the colour itself.
int pixelsOfColour(QWidget *widget, const QColor &colour) {
    const QImage image = widget->grab().toImage().convertToFormat(QImage::Format_RGB32);
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x)
            count += qAbs(qRed(line[x]) - colour.red()) + qAbs(qGreen(line[x]) - colour.green()) +
                                 qAbs(qBlue(line[x]) - colour.blue()) <
                             30
                         ? 1
                         : 0;
    }
    return count;
}

} // namespace

bool TestMainWindow::drag(QWidget *over, const QList<QUrl> &urls, bool drop) {
    QMimeData mime;
    mime.setUrls(urls);
    const QPoint at = over->mapTo(m_window.get(), over->rect().center());
    QWindow *window = m_window->windowHandle();
    QDragEnterEvent enter(at, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &enter);
    QDragMoveEvent move(at, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &move);
    const bool accepted = move.isAccepted();
    if (drop && accepted) {
        QDropEvent dropEvent(at, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &dropEvent);
    } else {
        QDragLeaveEvent leave;
        QCoreApplication::sendEvent(window, &leave);
    }
    return accepted;
}

void TestMainWindow::startsWithoutADaemon() {
    // Not empty tables: the overlay says where porticod is looked for and why it is not
    // found, and nothing can be done meanwhile.
    const QString expected =
        QStringLiteral("porticod is not running at %1 — retrying").arg(m_daemon.socketPath());
    QTRY_COMPARE_WITH_TIMEOUT(m_window->overlay()->headline(), expected, 5000);
    QVERIFY(m_window->overlay()->isVisible());
    QVERIFY2(m_window->overlay()->detail().contains(QStringLiteral("is porticod running")),
             qPrintable(m_window->overlay()->detail()));
    QCOMPARE(m_window->overlay()->geometry(), m_window->centralWidget()->rect());
    QVERIFY(!m_window->content()->isEnabled());
    for (QAction *a : daemonActions())
        QVERIFY2(!a->isEnabled(), qPrintable(a->text()));
    QCOMPARE(m_window->connectionStatus()->connectionText(), QStringLiteral("● disconnected — retrying"));
    // Nothing is measured, so the chart claims no "No traffic" either.
    QCOMPARE(m_window->trafficChart()->title(), QString());
    // A drop is refused too: nobody could deploy it.
    const QString manifest = writeFile(m_files.filePath(QStringLiteral("early/portico.json")),
                                       upstreamManifest(QStringLiteral("early"), 1));
    QVERIFY(!drag(m_window->content(), {QUrl::fromLocalFile(manifest)}, false));

    // The daemon comes: the window finds it by itself and shows what it has.
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("site"), m_http->port()))));
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->overlay()->isVisible(), 10000);
    QVERIFY(m_window->content()->isEnabled());
    for (QAction *a : daemonActions())
        QVERIFY(a->isEnabled());
}

void TestMainWindow::showsFirstData() {
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasData(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->projectsModel()->rowCount(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->routesModel()->rowCount(), 2, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->daemonStatus()->hasInfo(), 5000);
    QCOMPARE(m_window->daemonStatus()->ingressPort(), int(m_daemon.ingressPort()));
    QCOMPARE(m_window->connectionStatus()->connectionText(), QStringLiteral("● connected"));
    QVERIFY(
        m_window->connectionStatus()->infoText().contains(QStringLiteral(":%1").arg(m_daemon.ingressPort())));
    QVERIFY(m_window->connectionStatus()->infoText().startsWith(QStringLiteral("porticod ")));
    // The sidebar lists the project.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->sidebar()->projectList()->model()->rowCount(), 1, 5000);
}

void TestMainWindow::overviewGivesTablesTheirRows() {
    m_window->showPage(Sidebar::Page::Overview);
    OverviewPage *page = m_window->overviewPage();
    const auto *projects = m_window->findChild<QTableView *>(QStringLiteral("projectsTable"));
    const auto *routes = page->findChild<QTableView *>(QStringLiteral("routesTable"));
    QVERIFY(projects && routes);
    // Few rows: the tables take what they need and the chart gets the rest of the page.
    QTRY_VERIFY_WITH_TIMEOUT(page->splitter()->sizes().value(2) > page->height() / 2, 5000);

    // Eight routes: every one is on screen (no scrolling) while the chart keeps its space.
    QList<quint16> ports;
    for (int i = 0; i < 6; ++i) {
        ports << freePort();
        QVERIFY(isOk(
            m_daemon.deploy(upstreamManifest(QStringLiteral("p%1").arg(i), m_http->port(), ports.last()))));
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_window->routesModel()->rowCount(), 8, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->projectsModel()->rowCount(), 7, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(routes->height() >= OverviewPage::contentHeight(routes), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!routes->verticalScrollBar()->isVisible(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(projects->height() >= OverviewPage::contentHeight(projects), 5000);
    QVERIFY(page->splitter()->sizes().value(2) >= OverviewPage::kChartMinHeight);

    // A person who drags a handle keeps the sizes they chose.
    QVERIFY(page->isFittedToContent());
    page->splitter()->setSizes({100, 100, page->splitter()->height() - 200});
    Q_EMIT page->splitter()->splitterMoved(100, 1);
    QVERIFY(!page->isFittedToContent());
    page->fitToContent();
    QVERIFY(page->isFittedToContent());
    for (int i = 0; i < 6; ++i)
        QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                                   {{QStringLiteral("name"), QStringLiteral("p%1").arg(i)}})));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->projectsModel()->rowCount(), 1, 10000);
}

void TestMainWindow::survivesTheDaemonGoingAwayAndReconnects() {
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasData(), 10000);
    // Traffic, so that there are rates to clear: requests until a tick carries a rate (the
    // daemon samples rates and sends ticks on timers of their own, so one request's rate
    // can fall between two ticks).
    const int siteRow = m_window->routesModel()->findRow(QStringLiteral("site"), m_daemon.ingressPort());
    QVERIFY(siteRow >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(DaemonFixture::httpGet(m_daemon.ingressPort(), "/site/x").status == 200 &&
                                 m_window->routesModel()->rates(siteRow).requestsPerSec > 0,
                             15000);
    // Alive, the states are in colour: "active" in green, in the tables and on its page.
    const QColor green = dash::stateColor(QStringLiteral("active"));
    auto *projectsTable = m_window->findChild<QTableView *>(QStringLiteral("projectsTable"));
    auto *routesTable = m_window->overviewPage()->findChild<QTableView *>(QStringLiteral("routesTable"));
    QVERIFY(projectsTable && routesTable);
    m_window->showPage(Sidebar::Page::Overview);
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOfColour(projectsTable, green) > 0, 5000);
    QVERIFY(pixelsOfColour(routesTable, green) > 0);
    m_window->projectPage()->setProject(QStringLiteral("site"));
    auto *stateLabel = m_window->projectPage()->findChild<QLabel *>(QStringLiteral("state"));
    QVERIFY(stateLabel);
    QTRY_VERIFY_WITH_TIMEOUT(stateLabel->styleSheet().contains(green.name()), 5000);

    const quint16 oldIngress = m_daemon.ingressPort();
    m_daemon.stop();

    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->connection(), DaemonStatus::Connection::Retrying,
                              10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->overlay()->isVisible(), 3000);
    QVERIFY(m_window->overlay()->headline().contains(m_daemon.socketPath()));
    QVERIFY(!m_window->content()->isEnabled());
    for (QAction *a : daemonActions())
        QVERIFY(!a->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionStatus()->connectionText(),
                              QStringLiteral("● disconnected — retrying"), 3000);
    QVERIFY(m_window->connectionStatus()->infoText().startsWith(QStringLiteral("last seen: ")));
    // Nobody measures now: no rate is left on screen.
    for (int r = 0; r < m_window->routesModel()->rowCount(); ++r)
        QCOMPARE(m_window->routesModel()->rates(r), RoutesModel::Rates{});
    // And no state says alive: the last-seen rows are grey, not green.
    QCOMPARE(pixelsOfColour(projectsTable, green), 0);
    QCOMPARE(pixelsOfColour(routesTable, green), 0);
    QVERIFY2(!stateLabel->styleSheet().contains(QStringLiteral("color")),
             qPrintable(stateLabel->styleSheet()));
    // The window keeps handling events (it is not blocked on the socket): a few reconnect
    // attempts go by.
    QSignalSpy attempts(m_client.get(), &AdminClient::connectError);
    QTRY_VERIFY_WITH_TIMEOUT(attempts.count() >= 2, 10000);
    QVERIFY(!m_window->grab().isNull());

    // Back, on another ingress port (the fixture picks a new one): everything is reloaded.
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(m_daemon.ingressPort() != oldIngress);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->connection(), DaemonStatus::Connection::Connected,
                              10000);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->overlay()->isVisible(), 3000);
    QVERIFY(m_window->content()->isEnabled());
    for (QAction *a : daemonActions())
        QVERIFY(a->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(pixelsOfColour(projectsTable, green) > 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->routesModel()->findRow({}, m_daemon.ingressPort()) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        m_window->routesModel()->findRow(QStringLiteral("site"), m_daemon.ingressPort()) >= 0, 10000);
    QCOMPARE(m_window->routesModel()->findRow({}, oldIngress), -1);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->ingressPort(), int(m_daemon.ingressPort()), 5000);
    QCOMPARE(m_window->connectionStatus()->connectionText(), QStringLiteral("● connected"));
    // Events flow again: the subscription was renewed on the new connection.
    const quint16 port = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("after"), m_http->port(), port))));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->routesModel()->findRow(QStringLiteral("after"), port) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->projectsModel()->findRow(QStringLiteral("after")) >= 0, 10000);
    // And the audit trail is the new daemon's, with that deploy on top.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->auditModel()->entry(0).project, QStringLiteral("after"), 10000);
    QCOMPARE(m_window->auditModel()->entry(0).method, QStringLiteral("projects.deploy"));
}

void TestMainWindow::dropsAManifestAnywhere_data() {
    QTest::addColumn<QString>("over"); // object name of the widget the drop lands on
    QTest::addColumn<bool>("folder");
    QTest::newRow("a file on the routing table") << QStringLiteral("routesTable") << false;
    QTest::newRow("a folder on the traffic chart") << QStringLiteral("chart") << true;
    QTest::newRow("a file on the sidebar") << QStringLiteral("sidebarProjects") << false;
    QTest::newRow("a folder on a project's log search") << QStringLiteral("logSearch") << true;
}

void TestMainWindow::dropsAManifestAnywhere() {
    QFETCH(QString, over);
    QFETCH(bool, folder);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->content()->isEnabled(), 10000);
    QWidget *target = nullptr;
    if (over == QLatin1String("logSearch")) {
        m_window->showProject(QStringLiteral("site"));
    } else {
        m_window->showPage(Sidebar::Page::Overview);
    }
    // The one on the page shown (the project page has a routes table of its own).
    QWidget *page = over == QLatin1String("logSearch") ? static_cast<QWidget *>(m_window->projectPage())
                                                       : static_cast<QWidget *>(m_window->overviewPage());
    target = over == QLatin1String("chart")             ? m_window->trafficChart()->view()->viewport()
             : over == QLatin1String("sidebarProjects") ? m_window->findChild<QWidget *>(over)
                                                        : page->findChild<QWidget *>(over);
    QVERIFY(target && target->isVisible());

    const quint16 port = freePort();
    const QString dir = m_files.filePath(QStringLiteral("drop-%1").arg(port));
    const QString file = writeFile(dir + QStringLiteral("/portico.json"),
                                   upstreamManifest(QStringLiteral("dropped"), m_http->port(), port));
    QVERIFY(!file.isEmpty());
    QVERIFY(drag(target, {QUrl::fromLocalFile(folder ? dir : file)}, true));

    // The deploy dialog opens with that manifest and runs its dry run.
    QTRY_VERIFY_WITH_TIMEOUT(m_window->deployDialog() && m_window->deployDialog()->isVisible(), 5000);
    DeployDialog *dialog = m_window->deployDialog();
    QCOMPARE(dialog->manifestPath(), file);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->isDeployEnabled(), 10000);
    QVERIFY(dialog->shownLines().contains(QStringLiteral("+ bind port %1/http").arg(port)));
    dialog->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->deployDialog(), 5000); // deleted on close
}

void TestMainWindow::refusesWhatIsNoManifest() {
    m_window->showPage(Sidebar::Page::Overview);
    QWidget *target = m_window->overviewPage()->findChild<QWidget *>(QStringLiteral("routesTable"));
    const QString text = writeFile(m_files.filePath(QStringLiteral("notes.txt")), "hello");
    const QString emptyDir = m_files.filePath(QStringLiteral("empty"));
    QVERIFY(QDir().mkpath(emptyDir));
    QVERIFY(!drag(target, {QUrl::fromLocalFile(text)}, false));
    QVERIFY(!drag(target, {QUrl::fromLocalFile(emptyDir)}, false));
    QVERIFY(!drag(target, {QUrl(QStringLiteral("https://example.com/portico.json"))}, false));
    QVERIFY(!m_window->deployDialog());
}

void TestMainWindow::shortcuts() {
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    m_window->showPage(Sidebar::Page::Overview);
    // Ctrl+D: deploy.
    QTest::keySequence(m_window.get(), QKeySequence(Qt::CTRL | Qt::Key_D));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->deployDialog() && m_window->deployDialog()->isVisible(), 5000);
    m_window->deployDialog()->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->deployDialog(), 5000);
    // The dialog was the active window; offscreen nobody gives it back (a window manager would).
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));

    // F5: everything is read again (the audit trail among the rest).
    QSignalSpy audit(m_client.get(), &AdminClient::replyReceived);
    QTest::keySequence(m_window.get(), QKeySequence(Qt::Key_F5));
    QTRY_VERIFY_WITH_TIMEOUT(audit.count() >= 5, 5000); // routes, stats, projects, audit, info, ...
    QCOMPARE(m_window->statusBar()->currentMessage(), QStringLiteral("refreshed"));

    // Ctrl+L: the logs of the project selected in the overview, search field ready.
    QTRY_VERIFY_WITH_TIMEOUT(m_window->projectsModel()->findRow(QStringLiteral("site")) >= 0, 5000);
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("projectsTable"));
    const QModelIndexList site =
        table->model()->match(table->model()->index(0, 0), ProjectsModel::NameRole, QStringLiteral("site"));
    QVERIFY(!site.isEmpty());
    table->selectRow(site.first().row());
    QTest::keySequence(m_window.get(), QKeySequence(Qt::CTRL | Qt::Key_L));
    QCOMPARE(m_window->currentPage(), Sidebar::Page::Project);
    QCOMPARE(m_window->projectPage()->project(), QStringLiteral("site"));
    QVERIFY(m_window->projectPage()->logPanel()->isVisible());
    QCOMPARE(m_window->sidebar()->project(), QStringLiteral("site"));
}

void TestMainWindow::remembersItsLayout() {
    m_window->showPage(Sidebar::Page::Ports);
    m_window->resize(760, 560); // within the offscreen screen: restoreGeometry fits a window to its screen
    m_window->trafficChart()->setMetric(TrafficHistory::Metric::Errors);
    m_window->saveSettings();

    MainWindow again(m_client.get());
    QCOMPARE(again.currentPage(), Sidebar::Page::Ports);
    QCOMPARE(again.size(), QSize(760, 560));
    QCOMPARE(again.trafficChart()->metric(), TrafficHistory::Metric::Errors);

    m_window->showProject(QStringLiteral("site"));
    m_window->saveSettings();
    MainWindow onProject(m_client.get());
    QCOMPARE(onProject.currentPage(), Sidebar::Page::Project);
    QCOMPARE(onProject.projectPage()->project(), QStringLiteral("site"));
    m_window->showPage(Sidebar::Page::Overview);
}

void TestMainWindow::screenshotRendersTheWindow() {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("dash.png"));
    bool done = false, written = false;
    screenshotWhenReady(m_window.get(), file, 5000, 0, [&](bool ok) {
        done = true;
        written = ok;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QVERIFY(written);
    const QImage image(file);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size() / image.devicePixelRatio(), m_window->size());

    // With the deploy dialog open, the picture shows it over the window.
    const QImage plain = renderWithDialogs(m_window.get());
    m_window->openDeployDialog();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->deployDialog()->isVisible(), 5000);
    const QImage withDialog = renderWithDialogs(m_window.get());
    QCOMPARE(withDialog.size(), plain.size());
    QVERIFY(withDialog != plain);
    m_window->deployDialog()->reject();
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"

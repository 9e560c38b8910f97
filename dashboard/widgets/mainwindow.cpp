#include "mainwindow.h"

#include "adminclient.h"
#include "auditview.h"
#include "connectionstatus.h"
#include "deploydialog.h"
#include "disconnectedoverlay.h"
#include "elidedelegate.h"
#include "models/auditmodel.h"
#include "models/daemonstatus.h"
#include "models/eventlogmodel.h"
#include "models/healthmonitor.h"
#include "models/logmodel.h"
#include "models/manifestfile.h"
#include "models/portsmodel.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "models/traffichistory.h"
#include "overviewpage.h"
#include "portsview.h"
#include "projectactions.h"
#include "projectpage.h"
#include "projectsview.h"
#include "routesview.h"
#include "trafficchart.h"
#include "trayicon.h"

#include <QAction>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QListView>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

namespace portico {

MainWindow::MainWindow(AdminClient *client, QWidget *parent) : QMainWindow(parent), m_client(client) {
    setWindowTitle(tr("Portico"));
    resize(1280, 820);
    setAcceptDrops(true);
    // Every kind: the models pick what they need. Connected before the models are made,
    // so the subscription goes out before their first requests and no event falls in
    // between; the client renews it by itself on every reconnect.
    if (m_client->isConnected())
        m_client->subscribe();
    else
        connect(
            m_client, &AdminClient::connected, this, [this] { m_client->subscribe(); },
            Qt::SingleShotConnection);
    m_routes = new RoutesModel(client, this);
    m_projects = new ProjectsModel(client, this);
    m_events = new EventLogModel(client, 500, this);
    m_traffic = new TrafficHistory(client, TrafficHistory::kDefaultSamples, this);
    m_status = new DaemonStatus(client, this);
    m_audit = new AuditModel(client, this);
    m_ports = new PortsModel(m_routes, this);
    m_health = new HealthMonitor(client, m_status, m_projects, m_routes, this);
    m_actions = new ProjectActions(client, this);

    m_projectsView = new ProjectsView(m_projects, m_actions);
    m_chart = new TrafficChart(m_traffic);
    m_overview = new OverviewPage(m_projectsView, new RoutesView(m_routes), m_chart);
    m_projectPage = new ProjectPage(client, m_projects, m_routes, m_actions);
    m_portsView = new PortsView(m_ports);
    m_auditView = new AuditView(m_audit);
    m_eventsView = new QListView;
    m_eventsView->setModel(m_events);
    m_eventsView->setItemDelegate(new ElideDelegate({}, m_eventsView)); // grey while offline
    m_eventsView->setUniformItemSizes(true);
    m_eventsView->setWordWrap(false);
    m_stack = new QStackedWidget;
    // In the order of Sidebar::Page.
    for (QWidget *page :
         {static_cast<QWidget *>(m_overview), static_cast<QWidget *>(m_portsView), m_auditView,
          static_cast<QWidget *>(m_eventsView), static_cast<QWidget *>(m_projectPage)})
        m_stack->addWidget(page);

    m_sidebar = new Sidebar(m_projects);
    m_content = new QSplitter(Qt::Horizontal);
    m_content->setObjectName(QStringLiteral("contentSplitter"));
    m_content->addWidget(m_sidebar);
    m_content->addWidget(m_stack);
    m_content->setStretchFactor(0, 0);
    m_content->setStretchFactor(1, 1);
    m_content->setSizes({190, 1090});
    m_content->setChildrenCollapsible(false);
    // The content fills the central widget; the overlay lies on top of it, following its size.
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_content);
    m_overlay = new DisconnectedOverlay(m_status, central);
    setCentralWidget(central);

    buildActions();
    m_connectionStatus = new ConnectionStatus(m_status);
    statusBar()->addPermanentWidget(m_connectionStatus);
    m_tray = new TrayIcon(m_health, this, m_deployAction, this);

    connect(m_sidebar, &Sidebar::pageChosen, this, &MainWindow::showPage);
    connect(m_projectsView, &ProjectsView::openProject, this, &MainWindow::showProject);
    connect(m_actions, &ProjectActions::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    connect(m_health, &HealthMonitor::alert, this, [this](const QString &title, const QString &text) {
        // A crash's reason carries the tail of its stderr, one line each: the status bar
        // has room for the first (the notification and the project's logs show the rest).
        const QString first = text.section(QLatin1Char('\n'), 0, 0);
        statusBar()->showMessage(title + QStringLiteral(": ") + first +
                                     (first.size() < text.size() ? QStringLiteral(" …") : QString()),
                                 15'000);
    });
    connect(m_routes, &RoutesModel::loaded, this, &MainWindow::checkReady);
    connect(m_projects, &ProjectsModel::loaded, this, &MainWindow::checkReady);
    connect(m_status, &DaemonStatus::changed, this, &MainWindow::onConnectionChanged);
    connect(m_chart, &TrafficChart::settingsChanged, this, &MainWindow::saveSettings);
    restoreSettings();
    onConnectionChanged();
}

MainWindow::~MainWindow() = default;

QWidget *MainWindow::content() const {
    return m_content;
}

void MainWindow::buildActions() {
    m_deployAction = new QAction(tr("&Deploy…"), this);
    m_deployAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_D), QKeySequence::Open});
    m_deployAction->setToolTip(
        tr("Deploy a manifest after its dry run (Ctrl+D; or drop a portico.json here)"));
    connect(m_deployAction, &QAction::triggered, this, [this] { openDeployDialog(); });
    m_refreshAction = new QAction(tr("&Refresh"), this);
    m_refreshAction->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_R)});
    m_refreshAction->setToolTip(tr("Read everything from the daemon again (F5)"));
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshAll);
    m_logsAction = new QAction(tr("&Logs"), this);
    m_logsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_logsAction->setToolTip(tr("The selected project's output (Ctrl+L)"));
    connect(m_logsAction, &QAction::triggered, this, &MainWindow::showLogs);

    QToolBar *toolbar = addToolBar(tr("Actions"));
    toolbar->setObjectName(QStringLiteral("actionsToolbar"));
    toolbar->setMovable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolbar->addActions({m_deployAction, m_refreshAction, m_logsAction});

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_deployAction);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addActions({m_refreshAction, m_logsAction});
    view->addSeparator();
    const std::pair<Sidebar::Page, const char *> pages[] = {
        {Sidebar::Page::Overview, QT_TR_NOOP("&Overview")},
        {Sidebar::Page::Ports, QT_TR_NOOP("&Ports")},
        {Sidebar::Page::Audit, QT_TR_NOOP("&Audit trail")},
        {Sidebar::Page::Events, QT_TR_NOOP("&Events")}};
    int key = Qt::Key_1;
    for (const auto &[page, name] : pages) {
        const Sidebar::Page p = page;
        view->addAction(tr(name), QKeySequence(Qt::CTRL | key++), this, [this, p] { showPage(p); });
    }
    view->addSeparator();
    view->addAction(tr("&Fit panes to content"), this, [this] { m_overview->fitToContent(); });
}

bool MainWindow::hasData() const {
    return m_routes->isLoaded() && m_projects->isLoaded();
}

void MainWindow::checkReady() {
    if (hasData())
        Q_EMIT dataReady();
}

void MainWindow::onConnectionChanged() {
    // Nothing can be done without the daemon, and nothing shown is current: the overlay
    // says why, the views are greyed and the actions off until it answers again.
    const bool up = m_status->connection() == DaemonStatus::Connection::Connected;
    m_content->setEnabled(up);
    for (QAction *a : {m_deployAction, m_refreshAction, m_logsAction})
        a->setEnabled(up);
    if (m_deployDialog && !up)
        m_deployDialog->reject();
}

void MainWindow::refreshAll() {
    m_routes->refresh();
    m_projects->refresh();
    m_audit->refresh();
    m_status->refresh();
    m_ports->refresh();
    m_projectPage->logModel()->reload();
    statusBar()->showMessage(tr("refreshed"), 3000);
}

void MainWindow::showPage(Sidebar::Page page, const QString &project) {
    if (page == Sidebar::Page::Project) {
        if (project.isEmpty())
            return;
        m_projectPage->setProject(project);
    }
    m_stack->setCurrentIndex(int(page));
    m_sidebar->showPage(page, project);
}

Sidebar::Page MainWindow::currentPage() const {
    return Sidebar::Page(m_stack->currentIndex());
}

void MainWindow::showProject(const QString &name, bool logs) {
    showPage(Sidebar::Page::Project, name);
    if (logs)
        m_projectPage->showTab(ProjectPage::Tab::Logs);
}

void MainWindow::showLogs() {
    // The project on screen, else the one selected in the overview.
    QString name = currentPage() == Sidebar::Page::Project ? m_projectPage->project() : QString();
    if (name.isEmpty())
        name = m_projectsView->selectedProject();
    if (name.isEmpty() && m_projects->rowCount() == 1)
        name = m_projects->project(0).name;
    if (name.isEmpty()) {
        statusBar()->showMessage(tr("Pick a project first: its logs are on its page"), 5000);
        return;
    }
    showProject(name, true);
}

void MainWindow::openDeployDialog(const QString &manifest) {
    if (!m_deployDialog) {
        m_deployDialog = new DeployDialog(m_client, this);
        m_deployDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_deployDialog, &DeployDialog::deployed, this, [this](const QString &name) {
            statusBar()->showMessage(tr("%1 deployed").arg(name), 8000);
            showProject(name);
        });
    }
    if (!manifest.isEmpty())
        m_deployDialog->setManifestPath(manifest);
    m_deployDialog->open();
    m_deployDialog->raise();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event) {
    if (m_status->connection() == DaemonStatus::Connection::Connected &&
        !manifestFromMimeData(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void MainWindow::dragMoveEvent(QDragMoveEvent *event) {
    if (m_status->connection() == DaemonStatus::Connection::Connected &&
        !manifestFromMimeData(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void MainWindow::dropEvent(QDropEvent *event) {
    const QString manifest = manifestFromMimeData(event->mimeData());
    if (manifest.isEmpty() || m_status->connection() != DaemonStatus::Connection::Connected) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    openDeployDialog(manifest);
}

void MainWindow::restoreSettings() {
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_content->restoreState(s.value(QStringLiteral("window/sidebar")).toByteArray());
    m_overview->restoreSizes(s.value(QStringLiteral("window/overview")).toByteArray());
    m_chart->setMetric(TrafficHistory::Metric(s.value(QStringLiteral("traffic/metric"), 0).toInt()));
    m_chart->setSpanMinutes(s.value(QStringLiteral("traffic/span"), 5).toInt());
    const auto page = Sidebar::pageFromKey(s.value(QStringLiteral("window/page")).toString());
    const QString project = s.value(QStringLiteral("window/project")).toString();
    if (page && (*page != Sidebar::Page::Project || !project.isEmpty()))
        showPage(*page, project);
}

void MainWindow::saveSettings() const {
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/sidebar"), m_content->saveState());
    s.setValue(QStringLiteral("window/overview"), m_overview->savedSizes());
    s.setValue(QStringLiteral("window/page"), Sidebar::pageKey(currentPage()));
    s.setValue(QStringLiteral("window/project"), m_projectPage->project());
    s.setValue(QStringLiteral("traffic/metric"), int(m_chart->metric()));
    s.setValue(QStringLiteral("traffic/span"), m_chart->spanMinutes());
}

void MainWindow::closeEvent(QCloseEvent *event) {
    saveSettings();
    QMainWindow::closeEvent(event);
}

} // namespace portico

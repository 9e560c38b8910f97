#include "mainwindow.h"

#include "adminclient.h"
#include "connectionstatus.h"
#include "deploydialog.h"
#include "models/daemonstatus.h"
#include "models/eventlogmodel.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "models/traffichistory.h"
#include "projectsview.h"
#include "routesview.h"
#include "trafficchart.h"

#include <QAction>
#include <QGroupBox>
#include <QListView>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>

namespace portico {

namespace {

QGroupBox *framed(const QString &title, QWidget *content, QWidget *parent) {
    auto *box = new QGroupBox(title, parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 6, 6, 6);
    content->setParent(box);
    layout->addWidget(content);
    return box;
}

} // namespace

MainWindow::MainWindow(AdminClient *client, QWidget *parent) : QMainWindow(parent), m_client(client) {
    setWindowTitle(tr("Portico"));
    resize(1280, 800);
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
    m_traffic = new TrafficHistory(client, 120, this);
    m_status = new DaemonStatus(client, this);

    m_routesView = new RoutesView(m_routes);
    m_projectsView = new ProjectsView(m_projects, m_client);
    m_chart = new TrafficChart(m_traffic);
    auto *eventsView = new QListView;
    eventsView->setModel(m_events);
    eventsView->setUniformItemSizes(true);
    eventsView->setWordWrap(false);

    auto *tabs = new QTabWidget;
    tabs->addTab(m_chart, tr("Traffic (bytes/s)"));
    tabs->addTab(eventsView, tr("Events"));

    auto *bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(framed(tr("Projects"), m_projectsView, bottom));
    bottom->addWidget(tabs);
    bottom->setStretchFactor(0, 1);
    bottom->setStretchFactor(1, 1);
    bottom->setSizes({660, 620});
    auto *central = new QSplitter(Qt::Vertical, this);
    central->addWidget(framed(tr("Routing table"), m_routesView, central));
    central->addWidget(bottom);
    central->setStretchFactor(0, 1);
    central->setStretchFactor(1, 1);
    central->setChildrenCollapsible(false);
    setCentralWidget(central);

    QToolBar *toolbar = addToolBar(tr("Actions"));
    toolbar->setMovable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    QAction *deploy = toolbar->addAction(tr("Deploy…"), this, &MainWindow::openDeployDialog);
    deploy->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    toolbar->addAction(tr("Refresh"), this, [this] {
        m_routes->refresh();
        m_projects->refresh();
    });

    m_connectionStatus = new ConnectionStatus(m_status);
    statusBar()->addPermanentWidget(m_connectionStatus);
    connect(m_projectsView, &ProjectsView::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    connect(m_routes, &RoutesModel::loaded, this, &MainWindow::checkReady);
    connect(m_projects, &ProjectsModel::loaded, this, &MainWindow::checkReady);
}

bool MainWindow::hasData() const {
    return m_routes->isLoaded() && m_projects->isLoaded();
}

void MainWindow::checkReady() {
    if (hasData())
        Q_EMIT dataReady();
}

void MainWindow::openDeployDialog() {
    auto *dialog = new DeployDialog(m_client, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DeployDialog::deployed, this,
            [this](const QString &name) { statusBar()->showMessage(tr("%1 deployed").arg(name), 8000); });
    dialog->open();
}

} // namespace portico

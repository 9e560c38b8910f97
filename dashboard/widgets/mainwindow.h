#pragma once

#include "deploydialog.h"
#include "sidebar.h"

#include <QMainWindow>
#include <QPointer>

class QAction;
class QListView;
class QSplitter;
class QStackedWidget;

namespace portico {

class AdminClient;
class AuditModel;
class ConnectionStatus;
class DaemonStatus;
class DisconnectedOverlay;
class EventLogModel;
class HealthMonitor;
class OverviewPage;
class PortsModel;
class PortsView;
class ProjectActions;
class ProjectPage;
class ProjectsModel;
class ProjectsView;
class RoutesModel;
class TrafficChart;
class TrafficHistory;
class TrayIcon;

// The dashboard's window: it only composes. The models speak to the daemon through the
// client it is given (which should reconnect by itself); the widgets show the models.
// A sidebar picks the page (overview, ports, audit trail, events, or a project's own);
// while there is no daemon an overlay says so and every view and action is disabled. A
// manifest or its folder dropped anywhere on the window opens the deploy dialog with
// it. Sizes, the page and the chart's choices are remembered (QSettings).
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    explicit MainWindow(AdminClient *client, QWidget *parent = nullptr);
    ~MainWindow() override;

    RoutesModel *routesModel() const { return m_routes; }
    ProjectsModel *projectsModel() const { return m_projects; }
    DaemonStatus *daemonStatus() const { return m_status; }
    TrafficHistory *trafficHistory() const { return m_traffic; }
    AuditModel *auditModel() const { return m_audit; }
    PortsModel *portsModel() const { return m_ports; }
    HealthMonitor *health() const { return m_health; }
    ConnectionStatus *connectionStatus() const { return m_connectionStatus; }
    ProjectsView *projectsView() const { return m_projectsView; }
    ProjectPage *projectPage() const { return m_projectPage; }
    OverviewPage *overviewPage() const { return m_overview; }
    PortsView *portsView() const { return m_portsView; }
    TrafficChart *trafficChart() const { return m_chart; }
    Sidebar *sidebar() const { return m_sidebar; }
    DisconnectedOverlay *overlay() const { return m_overlay; }
    TrayIcon *trayIcon() const { return m_tray; }
    QWidget *content() const; // what the overlay covers and disables
    QAction *deployAction() const { return m_deployAction; }
    QAction *refreshAction() const { return m_refreshAction; }
    QAction *logsAction() const { return m_logsAction; }
    bool hasData() const; // routes and projects arrived since the last (re)connect

    // Opens the deploy dialog (the open one, if there is one), checking that manifest.
    void openDeployDialog(const QString &manifest = {});
    DeployDialog *deployDialog() const { return m_deployDialog; }
    void showPage(Sidebar::Page page, const QString &project = {});
    Sidebar::Page currentPage() const;
    // The project's page; on its logs (search field focused) when logs is true.
    void showProject(const QString &name, bool logs = false);
    void refreshAll();
    void saveSettings() const;

Q_SIGNALS:
    void dataReady(); // routes and projects arrived after a (re)connect

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void restoreSettings();
    void onConnectionChanged();
    void checkReady();
    void showLogs();

    AdminClient *m_client;
    RoutesModel *m_routes;
    ProjectsModel *m_projects;
    EventLogModel *m_events;
    TrafficHistory *m_traffic;
    DaemonStatus *m_status;
    AuditModel *m_audit;
    PortsModel *m_ports;
    HealthMonitor *m_health;
    ProjectActions *m_actions;
    Sidebar *m_sidebar = nullptr;
    QSplitter *m_content = nullptr;
    QStackedWidget *m_stack = nullptr;
    OverviewPage *m_overview = nullptr;
    ProjectsView *m_projectsView = nullptr;
    TrafficChart *m_chart = nullptr;
    ProjectPage *m_projectPage = nullptr;
    PortsView *m_portsView = nullptr;
    QWidget *m_auditView = nullptr;
    QListView *m_eventsView = nullptr;
    DisconnectedOverlay *m_overlay = nullptr;
    ConnectionStatus *m_connectionStatus = nullptr;
    TrayIcon *m_tray = nullptr;
    QAction *m_deployAction = nullptr;
    QAction *m_refreshAction = nullptr;
    QAction *m_logsAction = nullptr;
    QPointer<DeployDialog> m_deployDialog;
};

} // namespace portico

#pragma once

#include <QMainWindow>

namespace portico {

class AdminClient;
class ConnectionStatus;
class DaemonStatus;
class EventLogModel;
class ProjectsModel;
class ProjectsView;
class RoutesModel;
class RoutesView;
class TrafficChart;
class TrafficHistory;

// The dashboard's window: it only composes. The models speak to the daemon through the
// client it is given (which should reconnect by itself); the widgets show the models.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    explicit MainWindow(AdminClient *client, QWidget *parent = nullptr);

    RoutesModel *routesModel() const { return m_routes; }
    ProjectsModel *projectsModel() const { return m_projects; }
    DaemonStatus *daemonStatus() const { return m_status; }
    TrafficHistory *trafficHistory() const { return m_traffic; }
    ConnectionStatus *connectionStatus() const { return m_connectionStatus; }
    ProjectsView *projectsView() const { return m_projectsView; }
    bool hasData() const; // routes and projects arrived since the last (re)connect

    void openDeployDialog();

Q_SIGNALS:
    void dataReady(); // routes and projects arrived after a (re)connect

private:
    void checkReady();

    AdminClient *m_client;
    RoutesModel *m_routes;
    ProjectsModel *m_projects;
    EventLogModel *m_events;
    TrafficHistory *m_traffic;
    DaemonStatus *m_status;
    RoutesView *m_routesView;
    ProjectsView *m_projectsView;
    TrafficChart *m_chart;
    ConnectionStatus *m_connectionStatus;
};

} // namespace portico

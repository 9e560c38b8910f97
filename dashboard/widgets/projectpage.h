#pragma once

#include <QWidget>

class QFormLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;

namespace portico {

class AdminClient;
class LogModel;
class LogPanel;
class ProjectActions;
class ProjectsModel;
class RoutesModel;
class RoutesView;

// One project's own page: its state with the reason, process facts (PID, uptime,
// restarts, last exit), env names (never values), its routes live from the routing
// table, its manifest (env values hidden) and its output with time, stream, search and
// follow. Everything comes from the models (the uptime moves on with the projects
// model's clock); the page only shows one row of them.
class ProjectPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectPage)
public:
    enum class Tab { Logs, Manifest };
    ProjectPage(AdminClient *client, ProjectsModel *projects, RoutesModel *routes, ProjectActions *actions,
                QWidget *parent = nullptr);

    void setProject(const QString &name);
    QString project() const { return m_name; }
    void showTab(Tab tab);
    LogPanel *logPanel() const { return m_logs; }
    LogModel *logModel() const { return m_logModel; }
    RoutesView *routesView() const { return m_routes; }
    // What a value label shows, by its field name ("state", "reason", "pid", "uptime",
    // "restarts", "last_exit", "env", "backend", "source"), for tests.
    QString field(const QString &name) const;
    QString manifestText() const;

protected:
    void changeEvent(QEvent *event) override;

private:
    QLabel *addField(QFormLayout *form, const QString &label, const QString &name);
    void update();

    ProjectsModel *m_projects;
    QString m_name;
    LogModel *m_logModel;
    QLabel *m_title;
    QLabel *m_state;
    QLabel *m_reason;
    QPushButton *m_restart;
    QPushButton *m_undeploy;
    RoutesView *m_routes;
    QTabWidget *m_tabs;
    LogPanel *m_logs;
    QPlainTextEdit *m_manifest;
};

} // namespace portico

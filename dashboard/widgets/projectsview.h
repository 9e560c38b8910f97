#pragma once

#include <QWidget>

class QPushButton;
class QTableView;

namespace portico {

class AdminClient;
class ProjectsModel;

// The projects with what an operator does to one: restart, undeploy (after a
// confirmation) and read its logs.
class ProjectsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectsView)
public:
    ProjectsView(ProjectsModel *model, AdminClient *client, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }
    QString selectedProject() const;
    void selectProject(const QString &name);

    void restartSelected();
    void undeploySelected(); // asks first
    void undeploy(const QString &name);
    void showLogs(const QString &name);

Q_SIGNALS:
    // A line for the status bar: what an action did or why it failed.
    void message(const QString &text);

private:
    void updateButtons();

    ProjectsModel *m_model;
    AdminClient *m_client;
    QTableView *m_table;
    QPushButton *m_restart;
    QPushButton *m_undeploy;
    QPushButton *m_logs;
};

} // namespace portico

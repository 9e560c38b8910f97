#pragma once

#include <QWidget>

class QPushButton;
class QTableView;

namespace portico {

class ProjectActions;
class ProjectsModel;

// The projects with what an operator does to one: restart, undeploy (after a
// confirmation) and open its page (its details and logs; also on a double click).
class ProjectsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectsView)
public:
    ProjectsView(ProjectsModel *model, ProjectActions *actions, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }
    QString selectedProject() const;
    void selectProject(const QString &name);

    void restartSelected();
    void undeploySelected(); // asks first

Q_SIGNALS:
    // The operator asked for that project's page (its logs when logs is true).
    void openProject(const QString &name, bool logs);

private:
    void updateButtons();

    ProjectsModel *m_model;
    ProjectActions *m_actions;
    QTableView *m_table;
    QPushButton *m_restart;
    QPushButton *m_undeploy;
    QPushButton *m_logs;
};

} // namespace portico

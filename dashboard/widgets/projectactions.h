#pragma once

#include <QObject>

class QWidget;

namespace portico {

class AdminClient;

// What an operator does to one project, from wherever it is shown (the projects table,
// the project's page): restart, and undeploy after a confirmation (asked without a
// nested event loop). Each reports what it did or why it failed through message().
class ProjectActions final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectActions)
public:
    explicit ProjectActions(AdminClient *client, QObject *parent = nullptr);

    void restart(const QString &name);
    // Asks in a box over `over` first; undeploys only when the answer is Undeploy.
    void confirmUndeploy(const QString &name, QWidget *over);
    void undeploy(const QString &name);

Q_SIGNALS:
    // A line for the status bar: "restarting site", "undeploy of x failed: …".
    void message(const QString &text);

private:
    AdminClient *m_client;
};

} // namespace portico

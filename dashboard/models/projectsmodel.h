#pragma once

#include "projectinfo.h"

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QTimer>

namespace portico {

class AdminClient;

// The deployed projects: projects.list on every (re)connect, then kept live by
// `project.state` (state and reason in place at once, then projects.get for the new
// backend address, pid and counts), `project.deployed` (projects.get of that project),
// `project.undeployed` (row removed) and `routes.changed` (the routes column). The
// uptime column moves on by itself. Whoever owns the AdminClient subscribes it to events.
class ProjectsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectsModel)
public:
    enum Column { Name, Runtime, State, Uptime, Restarts, Routes, Backend, Reason, ColumnCount };
    enum Role { NameRole = Qt::UserRole + 1, StateRole, StateColorRole };
    using Project = ProjectInfo;

    explicit ProjectsModel(AdminClient *client, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void refresh();
    bool isLoaded() const { return m_loaded; }
    int findRow(const QString &name) const;
    Project project(int row) const { return m_rows.value(row); }
    // The project of that name, or an empty one.
    Project project(const QString &name) const { return m_rows.value(findRow(name)); }

    // A whole list (projects.list) or one project object (projects.get).
    void applyList(const QJsonArray &projects);
    void applyProject(const QJsonObject &project);

Q_SIGNALS:
    void loaded();

private:
    void onEvent(const QString &kind, const QJsonObject &data);
    void fetch(const QString &name);
    void setRow(int row, const Project &p);
    void applyRoutes(const QJsonArray &routes);

    AdminClient *m_client;
    QList<Project> m_rows;
    bool m_loaded = false;
    QTimer m_clock; // the uptime column
};

} // namespace portico

#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>

namespace portico {

class AdminClient;

// The deployed projects: projects.list on every (re)connect, then kept live by
// `project.state` (state and reason in place at once, then projects.get for the new
// backend address and pid), `project.deployed` (projects.get of that
// project), `project.undeployed` (row removed) and `routes.changed` (the routes column).
// Whoever owns the AdminClient subscribes it to events.
class ProjectsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectsModel)
public:
    enum Column { Name, Runtime, State, Routes, Backend, Reason, ColumnCount };
    enum Role { NameRole = Qt::UserRole + 1, StateRole };

    struct Project {
        QString name;
        QString runtime;
        QString state;
        QString reason;
        QString backend;
        qint64 pid = 0;
        QStringList routes; // "/site/ on :8080", "3000/http"
        friend bool operator==(const Project &, const Project &) = default;
    };

    explicit ProjectsModel(AdminClient *client, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void refresh();
    bool isLoaded() const { return m_loaded; }
    int findRow(const QString &name) const;
    Project project(int row) const { return m_rows.value(row); }

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
};

} // namespace portico

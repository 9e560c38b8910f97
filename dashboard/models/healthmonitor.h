#pragma once

#include <QHash>
#include <QObject>

namespace portico {

class AdminClient;
class DaemonStatus;
class ProjectsModel;
class RoutesModel;

// Whether everything is up, in one word for the tray icon's colour, and alerts for the
// moments a person wants to hear about: a project crashing or failing, and a port
// conflict (a route that cannot get its port, a deploy refused for one). Alerts come from
// events only, never from the state found at (re)connect.
class HealthMonitor final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HealthMonitor)
public:
    enum class Health { Unknown, Ok, Busy, Degraded, Failing };
    static constexpr qint64 kRealertMs = 5 * 60 * 1000;
    HealthMonitor(AdminClient *client, DaemonStatus *status, ProjectsModel *projects, RoutesModel *routes,
                  QObject *parent = nullptr);

    Health health() const { return m_health; }
    // "3 projects up", "site crashed: …", "porticod is not running".
    QString summary() const { return m_summary; }

Q_SIGNALS:
    void changed();
    void alert(const QString &title, const QString &text);

private:
    void recompute();
    void onEvent(const QString &kind, const QJsonObject &data);

    DaemonStatus *m_status;
    ProjectsModel *m_projects;
    RoutesModel *m_routes;
    Health m_health = Health::Unknown;
    QString m_summary;
    QHash<QString, qint64> m_alertedAt; // when a project's crash was last told
};

} // namespace portico

#include "healthmonitor.h"

#include "adminclient.h"
#include "daemonstatus.h"
#include "format.h"
#include "projectsmodel.h"
#include "protocol.h"
#include "routesmodel.h"

#include <QDateTime>
#include <QJsonArray>

namespace portico {

HealthMonitor::HealthMonitor(AdminClient *client, DaemonStatus *status, ProjectsModel *projects,
                             RoutesModel *routes, QObject *parent)
    : QObject(parent), m_status(status), m_projects(projects), m_routes(routes) {
    connect(m_status, &DaemonStatus::changed, this, &HealthMonitor::recompute);
    for (QAbstractItemModel *m :
         {static_cast<QAbstractItemModel *>(projects), static_cast<QAbstractItemModel *>(routes)}) {
        connect(m, &QAbstractItemModel::rowsInserted, this, &HealthMonitor::recompute);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &HealthMonitor::recompute);
        connect(m, &QAbstractItemModel::dataChanged, this, &HealthMonitor::recompute);
        connect(m, &QAbstractItemModel::modelReset, this, &HealthMonitor::recompute);
    }
    connect(client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) { onEvent(kind, data); });
    recompute();
}

void HealthMonitor::onEvent(const QString &kind, const QJsonObject &data) {
    const QString project = data.value(QStringLiteral("project")).toString();
    if (kind == QLatin1String(protocol::event::ProjectState)) {
        const QString state = data.value(QStringLiteral("state")).toString();
        // One alert per trouble: while supervision retries, a crash loop goes through
        // backoff, starting, even active for a moment, and crashed again. A project that
        // falls again within kRealertMs of its alert is the same trouble.
        if (state == QLatin1String("crashed") || state == QLatin1String("failed")) {
            const auto last = m_alertedAt.constFind(project);
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            if (last != m_alertedAt.cend() && now - *last < kRealertMs)
                return;
            m_alertedAt.insert(project, now);
            const QString reason = data.value(QStringLiteral("reason")).toString();
            Q_EMIT alert(tr("%1 %2").arg(project, state),
                         reason.isEmpty() ? tr("%1 is %2").arg(project, state) : reason);
        }
    } else if (kind == QLatin1String(protocol::event::Conflict)) {
        Q_EMIT alert(tr("Port conflict: %1").arg(project),
                     tr("port %1/%2: %3")
                         .arg(data.value(QStringLiteral("port")).toInt())
                         .arg(data.value(QStringLiteral("transport")).toString(),
                              data.value(QStringLiteral("reason")).toString()));
    } else if (kind == QLatin1String(protocol::event::DeployRefused) &&
               data.contains(QStringLiteral("conflicts"))) {
        QStringList lines;
        for (const QJsonValue &v : data.value(QStringLiteral("conflicts")).toArray())
            lines << v.toObject().value(QStringLiteral("message")).toString();
        Q_EMIT alert(tr("Deploy of %1 refused: port conflict").arg(project), lines.join(QLatin1Char('\n')));
    } else if (kind == QLatin1String(protocol::event::ProjectUndeployed)) {
        m_alertedAt.remove(project);
    }
}

void HealthMonitor::recompute() {
    Health health = Health::Ok;
    QString summary;
    if (m_status->connection() != DaemonStatus::Connection::Connected) {
        health = Health::Unknown;
        summary = tr("porticod is not running at %1").arg(m_status->socketPath());
    } else {
        int worst = 0;
        QStringList troubled;
        for (int i = 0; i < m_projects->rowCount(); ++i) {
            const auto p = m_projects->project(i);
            const int severity = dash::stateSeverity(p.state);
            if (severity > 0)
                troubled << QStringLiteral("%1 %2").arg(p.name, p.state);
            worst = qMax(worst, severity);
        }
        for (int i = 0; i < m_routes->rowCount(); ++i) {
            const RouteInfo r = m_routes->route(i);
            if (r.state == QLatin1String("conflict")) {
                worst = 3;
                troubled << tr("%1: port %2 in conflict").arg(r.project).arg(r.hostPort);
            }
        }
        health = worst == 0   ? Health::Ok
                 : worst == 1 ? Health::Busy
                 : worst == 2 ? Health::Degraded
                              : Health::Failing;
        summary = troubled.isEmpty() ? tr("%n project(s), all up", nullptr, m_projects->rowCount())
                                     : troubled.join(QStringLiteral("; "));
    }
    if (health == m_health && summary == m_summary)
        return;
    m_health = health;
    m_summary = summary;
    Q_EMIT changed();
}

} // namespace portico

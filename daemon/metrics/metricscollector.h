#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

namespace portico {

class AdminApi;

// What the control plane did since the daemon started, counted from the events the admin
// socket publishes (protocol.h event::), so that no second counting path exists.
struct DeployCounts {
    QHash<QByteArray, quint64> deploys; // by outcome: deployed, invalid, conflict, failed
    quint64 undeploys = 0;
    quint64 conflicts = 0; // route.conflict: a deployed project could not bind a port

    // Counts one event (kind and data as in AdminApi::event).
    void count(const QString &kind, const QJsonObject &data);
    static QList<QByteArray> outcomes();
};

// The whole /metrics page, from what stats.get, projects.list and daemon.info answer.
// startTimeSeconds: the daemon's start, seconds since the epoch.
QByteArray collectMetrics(const AdminApi &api, const DeployCounts &counts, double startTimeSeconds);

} // namespace portico

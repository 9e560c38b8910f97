#include "traffichistory.h"

#include "adminclient.h"
#include "protocol.h"
#include "route.h"

#include <QJsonArray>
#include <QSet>

namespace portico {

TrafficHistory::TrafficHistory(AdminClient *client, int maxSamples, QObject *parent)
    : QObject(parent), m_max(qMax(2, maxSamples)) {
    connect(client, &AdminClient::eventReceived, this, [this](const QString &kind, const QJsonObject &data) {
        if (kind == QLatin1String(protocol::event::StatsTick))
            addTick(data);
    });
}

static QString routeLabel(const RouteInfo &r) {
    if (r.project.isEmpty())
        return QStringLiteral("ingress :%1").arg(r.hostPort);
    if (!r.path.isEmpty())
        return QStringLiteral("%1 %2").arg(r.project, r.path);
    return QStringLiteral("%1 %2/%3").arg(r.project).arg(r.hostPort).arg(r.protocol);
}

void TrafficHistory::addTick(const QJsonObject &stats) {
    QDateTime time = QDateTime::fromString(stats.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    const qint64 t = time.isValid() ? time.toMSecsSinceEpoch() : QDateTime::currentMSecsSinceEpoch();
    QSet<QString> present;
    for (const QJsonValue &v : stats.value(QStringLiteral("routes")).toArray()) {
        const QJsonObject o = v.toObject();
        const RouteInfo r = RouteInfo::fromJson(o);
        if (r.state == QLatin1String("draining"))
            continue;
        const QString label = routeLabel(r);
        if (!m_series.contains(label) && m_series.size() >= kMaxSeries)
            continue;
        const QJsonObject rates = o.value(QStringLiteral("rates")).toObject();
        const double bps = rates.value(QStringLiteral("bytes_in_per_s")).toDouble() +
                           rates.value(QStringLiteral("bytes_out_per_s")).toDouble();
        QList<Sample> &s = m_series[label];
        s.append({t, bps});
        if (s.size() > m_max)
            s.remove(0, s.size() - m_max);
        present.insert(label);
    }
    // A route that went away leaves the chart.
    for (auto it = m_series.begin(); it != m_series.end();)
        it = present.contains(it.key()) ? std::next(it) : m_series.erase(it);
    Q_EMIT updated();
}

double TrafficHistory::peak() const {
    double p = 0;
    for (const auto &s : m_series)
        for (const Sample &x : s)
            p = qMax(p, x.bytesPerSec);
    return p;
}

} // namespace portico

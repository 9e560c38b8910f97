#include "traffichistory.h"

#include "adminclient.h"
#include "protocol.h"
#include "route.h"

#include <QDateTime>
#include <QJsonArray>
#include <QMap>
#include <QSet>

namespace portico {

namespace {

QString routeKey(const RouteInfo &r) {
    return QStringLiteral("%1/%2/%3/%4").arg(r.hostPort).arg(r.protocol, r.project, r.path);
}

QString routeLabel(const RouteInfo &r) {
    if (!r.path.isEmpty())
        return QStringLiteral("%1 on :%2").arg(r.path).arg(r.hostPort);
    return QStringLiteral("%1/%2").arg(r.hostPort).arg(r.protocol);
}

QList<QPointF> toPoints(const QMap<qint64, double> &sums) {
    QList<QPointF> points;
    points.reserve(sums.size());
    for (auto it = sums.cbegin(); it != sums.cend(); ++it)
        points.append(QPointF(double(it.key()), it.value()));
    return points;
}

} // namespace

TrafficHistory::TrafficHistory(AdminClient *client, int maxSamples, QObject *parent)
    : QObject(parent), m_max(qMax(2, maxSamples)) {
    connect(client, &AdminClient::eventReceived, this, [this](const QString &kind, const QJsonObject &data) {
        if (kind == QLatin1String(protocol::event::StatsTick))
            addTick(data);
    });
}

QString TrafficHistory::ingressLabel(int port) {
    return tr("ingress :%1, not routed").arg(port);
}

QString TrafficHistory::totalLabel() {
    return tr("total");
}

void TrafficHistory::addTick(const QJsonObject &stats) {
    const QDateTime time =
        QDateTime::fromString(stats.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    const qint64 t = time.isValid() ? time.toMSecsSinceEpoch() : QDateTime::currentMSecsSinceEpoch();
    QSet<QString> present;
    for (const QJsonValue &v : stats.value(QStringLiteral("routes")).toArray()) {
        const QJsonObject o = v.toObject();
        const RouteInfo r = RouteInfo::fromJson(o);
        if (r.state == QLatin1String("draining"))
            continue;
        const QString key = routeKey(r);
        auto it = m_routes.find(key);
        if (it == m_routes.end()) {
            if (m_routes.size() >= kMaxRoutes)
                continue;
            Route route;
            route.project = r.project;
            route.label = routeLabel(r);
            route.path = r.path;
            route.port = r.hostPort;
            route.lastErrors = r.counters.errors;
            route.lastTimeMs = t;
            it = m_routes.insert(key, route);
        }
        Route &route = *it;
        const QJsonObject rates = o.value(QStringLiteral("rates")).toObject();
        // A counter that went down belongs to a restarted daemon: nothing to subtract.
        const double secs = double(t - route.lastTimeMs) / 1000.0;
        // Protocol 2 sends errors_per_s; before, the counter's growth tells the same.
        const double errors = rates.contains(QStringLiteral("errors_per_s"))
                                  ? rates.value(QStringLiteral("errors_per_s")).toDouble()
                              : secs > 0 && r.counters.errors >= route.lastErrors
                                  ? double(r.counters.errors - route.lastErrors) / secs
                                  : 0.0;
        route.lastErrors = r.counters.errors;
        route.lastTimeMs = t;
        route.samples.append({t,
                              rates.value(QStringLiteral("bytes_in_per_s")).toDouble() +
                                  rates.value(QStringLiteral("bytes_out_per_s")).toDouble(),
                              rates.value(QStringLiteral("requests_per_s")).toDouble(), errors});
        if (route.samples.size() > m_max)
            route.samples.remove(0, route.samples.size() - m_max);
        present.insert(key);
    }
    // A route that went away leaves the chart.
    for (auto it = m_routes.begin(); it != m_routes.end();)
        it = present.contains(it.key()) ? std::next(it) : m_routes.erase(it);
    Q_EMIT updated();
}

void TrafficHistory::clear() {
    m_routes.clear();
    Q_EMIT updated();
}

double TrafficHistory::value(const Sample &s, Metric metric) {
    switch (metric) {
    case Metric::Bytes:
        return s.bytes;
    case Metric::Requests:
        return s.requests;
    case Metric::Errors:
        return s.errors;
    }
    return 0;
}

QStringList TrafficHistory::projects() const {
    QSet<QString> names;
    for (const Route &r : m_routes)
        if (!r.project.isEmpty())
            names.insert(r.project);
    QStringList out(names.cbegin(), names.cend());
    out.sort();
    return out;
}

QList<TrafficHistory::Line> TrafficHistory::lines(Metric metric, const QString &project) const {
    QList<Line> out;
    if (!project.isEmpty()) {
        QList<const Route *> routes;
        for (const Route &r : m_routes)
            if (r.project == project)
                routes.append(&r);
        std::sort(routes.begin(), routes.end(),
                  [](const Route *a, const Route *b) { return a->label < b->label; });
        for (const Route *r : routes) {
            Line line{r->label, {}, false};
            for (const Sample &s : r->samples)
                line.points.append(QPointF(double(s.timeMs), value(s, metric)));
            out.append(line);
        }
        return out;
    }

    QMap<QString, QMap<qint64, double>> perProject;
    QMap<int, QMap<qint64, double>> ingress;    // by port: what the ingress carried
    QMap<int, QMap<qint64, double>> pathRouted; // by port: what its path routes carried
    for (const Route &r : m_routes) {
        for (const Sample &s : r.samples) {
            const double v = value(s, metric);
            if (r.project.isEmpty()) {
                ingress[r.port][s.timeMs] += v;
                continue;
            }
            perProject[r.project][s.timeMs] += v;
            if (!r.path.isEmpty())
                pathRouted[r.port][s.timeMs] += v;
        }
    }
    QMap<qint64, double> total;
    for (auto it = perProject.cbegin(); it != perProject.cend(); ++it) {
        out.append({it.key(), toPoints(it.value()), false});
        for (auto s = it.value().cbegin(); s != it.value().cend(); ++s)
            total[s.key()] += s.value();
    }
    for (auto it = ingress.cbegin(); it != ingress.cend(); ++it) {
        QMap<qint64, double> own = it.value();
        const QMap<qint64, double> routed = pathRouted.value(it.key());
        for (auto s = own.begin(); s != own.end(); ++s) {
            s.value() = qMax(0.0, s.value() - routed.value(s.key()));
            total[s.key()] += s.value();
        }
        out.append({ingressLabel(it.key()), toPoints(own), false});
    }
    if (!out.isEmpty())
        out.append({totalLabel(), toPoints(total), true});
    return out;
}

qint64 TrafficHistory::firstTimeMs() const {
    qint64 first = 0;
    for (const Route &r : m_routes)
        if (!r.samples.isEmpty())
            first = first == 0 ? r.samples.first().timeMs : qMin(first, r.samples.first().timeMs);
    return first;
}

qint64 TrafficHistory::lastTimeMs() const {
    qint64 last = 0;
    for (const Route &r : m_routes)
        if (!r.samples.isEmpty())
            last = qMax(last, r.samples.last().timeMs);
    return last;
}

} // namespace portico

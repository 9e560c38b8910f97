#include "metricscollector.h"

#include "admin/adminapi.h"
#include "exposition.h"
#include "protocol.h"
#include "route.h"

#include <QDateTime>
#include <QJsonArray>

#include <map>
#include <tuple>

namespace portico {

namespace {

using Type = Exposition::Type;
using Labels = Exposition::Labels;

// Every word a route's or project's state can be (routeState() and buildRouteTable()): each
// gets a series, 1 for the current one and 0 for the others, so that a state change is a
// value change and not a series appearing.
const char *const kRouteStates[] = {"active",  "starting", "unhealthy", "backoff", "crashed",
                                    "stopped", "failed",   "conflict",  "draining"};
const char *const kProjectStates[] = {"active",  "starting", "unhealthy", "backoff",
                                      "crashed", "stopped",  "failed"};

QByteArray utf8(const QJsonValue &v) {
    return v.toString().toUtf8();
}

// Rows of the same port, protocol and project (a listener draining while its successor
// binds the same port) are one series: Prometheus refuses a page that repeats one.
struct RouteKey {
    quint16 port;
    QString protocol;
    QString project;
    bool operator<(const RouteKey &o) const {
        return std::tie(port, protocol, project) < std::tie(o.port, o.protocol, o.project);
    }
};

Labels routeLabels(const RouteKey &k) {
    return {{"port", QByteArray::number(k.port)},
            {"protocol", k.protocol.toUtf8()},
            {"project", k.project.toUtf8()}};
}

void writeRoutes(Exposition &e, const QJsonArray &rows) {
    std::map<RouteKey, RouteInfo> merged;
    for (const auto &v : rows) {
        const RouteInfo r = RouteInfo::fromJson(v.toObject());
        const RouteKey key{r.hostPort, r.protocol, r.project};
        auto [it, fresh] = merged.try_emplace(key, r);
        if (fresh)
            continue;
        RouteCounters &c = it->second.counters;
        c.connectionsOpen += r.counters.connectionsOpen;
        c.connectionsTotal += r.counters.connectionsTotal;
        c.bytesIn += r.counters.bytesIn;
        c.bytesOut += r.counters.bytesOut;
        c.requests += r.counters.requests;
        c.errors += r.counters.errors;
        for (size_t i = 0; i < c.errorsByKind.size(); ++i)
            c.errorsByKind[i] += r.counters.errorsByKind[i];
        // The serving row's state wins over a draining one's.
        if (it->second.state == QLatin1String("draining"))
            it->second.state = r.state;
    }

    e.family("portico_route_requests_total", Type::Counter,
             "HTTP requests, or UDP datagrams from visitors, taken by a route (project=\"\" is the "
             "ingress itself: requests no project took).");
    e.family("portico_route_received_bytes_total", Type::Counter, "Bytes from visitors towards the backend.");
    e.family("portico_route_sent_bytes_total", Type::Counter, "Bytes from the backend to visitors.");
    e.family("portico_route_connections_total", Type::Counter, "Connections (or UDP sessions) accepted.");
    e.family("portico_route_open_connections", Type::Gauge, "Connections (or UDP sessions) open now.");
    e.family("portico_route_errors_total", Type::Counter,
             "Requests answered by the daemon with an error, and refused connections, by kind: client "
             "(400, 403, 404, 405, 413, 414, 431), timeout (408, 504), backend (502), unavailable (503), "
             "limit (a connection refused at a limit), loop (508).");
    e.family("portico_route_state", Type::Gauge, "1 for the route's current state, 0 for the others.");
    for (const auto &[key, r] : merged) {
        const Labels l = routeLabels(key);
        const RouteCounters &c = r.counters;
        e.sample("portico_route_requests_total", l, c.requests);
        e.sample("portico_route_received_bytes_total", l, c.bytesIn);
        e.sample("portico_route_sent_bytes_total", l, c.bytesOut);
        e.sample("portico_route_connections_total", l, c.connectionsTotal);
        e.sample("portico_route_open_connections", l, c.connectionsOpen);
        for (size_t i = 0; i < c.errorsByKind.size(); ++i) {
            Labels kl = l;
            kl.emplaceBack("kind", errorKindName(ErrorKind(i)));
            e.sample("portico_route_errors_total", kl, c.errorsByKind[i]);
        }
        for (const char *s : kRouteStates) {
            Labels sl = l;
            sl.emplaceBack("state", s);
            e.sample("portico_route_state", sl, quint64(r.state == QLatin1String(s)));
        }
    }
}

void writeProjects(Exposition &e, const QJsonArray &projects) {
    e.family("portico_project_state", Type::Gauge, "1 for the project's current state, 0 for the others.");
    e.family("portico_project_restarts_total", Type::Counter,
             "Times the daemon restarted the project's backend process (projects.get restarts).");
    e.family("portico_project_up", Type::Gauge, "1 while the project's backend process runs (it has a pid).");
    e.family("portico_project_last_exit_code", Type::Gauge,
             "Exit status of the backend process's last exit, when it exited by itself.");
    e.family("portico_project_last_exit_signal", Type::Gauge,
             "Signal number that ended the backend process the last time, when a signal did.");
    e.family("portico_project_last_exit_timestamp_seconds", Type::Gauge,
             "When the backend process last exited, seconds since the epoch.");
    for (const auto &v : projects) {
        const QJsonObject p = v.toObject();
        const Labels l{{"project", utf8(p.value(QStringLiteral("name")))}};
        const QString state = p.value(QStringLiteral("state")).toString();
        for (const char *s : kProjectStates) {
            Labels sl = l;
            sl.emplaceBack("state", s);
            e.sample("portico_project_state", sl, quint64(state == QLatin1String(s)));
        }
        e.sample("portico_project_restarts_total", l,
                 quint64(p.value(QStringLiteral("restarts")).toDouble()));
        e.sample("portico_project_up", l, quint64(p.value(QStringLiteral("pid")).isDouble()));
        const QJsonObject exit = p.value(QStringLiteral("last_exit")).toObject();
        if (exit.isEmpty())
            continue;
        if (exit.contains(QStringLiteral("signal")))
            e.sample("portico_project_last_exit_signal", l, exit.value(QStringLiteral("signal")).toDouble());
        else
            e.sample("portico_project_last_exit_code", l, exit.value(QStringLiteral("code")).toDouble());
        const QDateTime at =
            QDateTime::fromString(exit.value(QStringLiteral("at")).toString(), Qt::ISODateWithMs);
        if (at.isValid())
            e.sample("portico_project_last_exit_timestamp_seconds", l,
                     double(at.toMSecsSinceEpoch()) / 1000.0);
    }
}

void writeDataPlane(Exposition &e, const QJsonObject &dp) {
    struct Figure {
        const char *key;
        const char *name;
        Type type;
        const char *help;
    };
    static const Figure kFigures[] = {
        {"workers", "portico_data_plane_workers", Type::Gauge, "Data-plane worker threads."},
        {"buffers_in_use", "portico_data_plane_buffers_in_use", Type::Gauge,
         "Relay buffers held by connections now."},
        {"buffers_cached", "portico_data_plane_buffers_cached", Type::Gauge,
         "Relay buffers kept free for reuse."},
        {"buffers_peak", "portico_data_plane_buffers_peak", Type::Gauge,
         "Most relay buffers in use at once since start."},
        {"buffer_bytes", "portico_data_plane_buffer_bytes", Type::Gauge, "Size of one relay buffer."},
        {"descriptors_in_use", "portico_data_plane_descriptors_in_use", Type::Gauge,
         "File descriptors the data plane holds now."},
        {"descriptor_budget", "portico_data_plane_descriptor_budget", Type::Gauge,
         "File descriptors the data plane may hold (from RLIMIT_NOFILE)."},
    };
    for (const auto &f : kFigures) {
        const QJsonValue v = dp.value(QLatin1String(f.key));
        if (!v.isDouble())
            continue;
        e.family(f.name, f.type, f.help);
        e.sample(f.name, {}, v.toDouble());
    }
    if (const QJsonValue w = dp.value(QStringLiteral("wakeups")); w.isDouble()) {
        e.family("portico_data_plane_wakeups_total", Type::Counter,
                 "Times the workers' event loops woke up.");
        e.sample("portico_data_plane_wakeups_total", {}, quint64(w.toDouble()));
    }
}

} // namespace

QList<QByteArray> DeployCounts::outcomes() {
    return {"deployed", "invalid", "conflict", "failed"};
}

void DeployCounts::count(const QString &kind, const QJsonObject &data) {
    if (kind == QLatin1String(protocol::event::ProjectDeployed)) {
        ++deploys[QByteArrayLiteral("deployed")];
    } else if (kind == QLatin1String(protocol::event::DeployRefused)) {
        // deploy.refused carries the manifest's errors, the port conflicts, or neither
        // (the backend did not start, the state could not be written, ...).
        if (data.contains(QStringLiteral("errors")))
            ++deploys[QByteArrayLiteral("invalid")];
        else if (data.contains(QStringLiteral("conflicts")))
            ++deploys[QByteArrayLiteral("conflict")];
        else
            ++deploys[QByteArrayLiteral("failed")];
    } else if (kind == QLatin1String(protocol::event::ProjectUndeployed)) {
        ++undeploys;
    } else if (kind == QLatin1String(protocol::event::Conflict)) {
        ++conflicts;
    }
}

QByteArray collectMetrics(const AdminApi &api, const DeployCounts &counts, double startTimeSeconds) {
    Exposition e;
    const QJsonObject info = api.info();
    e.family("portico_build_info", Type::Gauge, "Always 1; the labels tell the daemon's version.");
    e.sample(
        "portico_build_info",
        {{"version", utf8(info.value(QStringLiteral("version")))},
         {"protocol_version", QByteArray::number(info.value(QStringLiteral("protocol_version")).toInt())}},
        quint64(1));
    e.family("portico_process_start_time_seconds", Type::Gauge,
             "When the daemon started, seconds since the epoch.");
    e.sample("portico_process_start_time_seconds", {}, startTimeSeconds);
    e.family("portico_projects", Type::Gauge, "Projects deployed (whatever their state).");
    e.sample("portico_projects", {}, info.value(QStringLiteral("projects")).toDouble());

    e.family("portico_deploys_total", Type::Counter,
             "Deploys since start by outcome: deployed, or refused as invalid (the manifest), conflict "
             "(a port is taken) or failed (the backend did not start, the state could not be written).");
    for (const QByteArray &o : DeployCounts::outcomes())
        e.sample("portico_deploys_total", {{"outcome", o}}, counts.deploys.value(o));
    e.family("portico_undeploys_total", Type::Counter, "Projects undeployed since start.");
    e.sample("portico_undeploys_total", {}, counts.undeploys);
    e.family(
        "portico_port_conflicts_total", Type::Counter,
        "Ports a deployed project could not bind since start (it runs without them until they are free).");
    e.sample("portico_port_conflicts_total", {}, counts.conflicts);

    const QJsonObject stats = api.stats();
    writeRoutes(e, stats.value(QStringLiteral("routes")).toArray());
    writeProjects(e, api.projects());
    writeDataPlane(e, stats.value(QStringLiteral("data_plane")).toObject());
    return e.text();
}

} // namespace portico

#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <array>

namespace portico {

// Live counters of one route, summed over the worker threads when asked.
// Why the daemon answered or ended something with an error (the `errors` of a route, by
// kind): client (a malformed or refused request: 400, 403, 404, 405, 413, 414, 431),
// timeout (408, 504, a connect timeout), backend (refused, closed or answered wrongly:
// 502), unavailable (no serving backend: 503), limit (a connection refused at a port's
// or a client address's limit), loop (508).
enum class ErrorKind : quint8 { Client, Timeout, Backend, Unavailable, Limit, Loop, Count };
const char *errorKindName(ErrorKind kind);

struct RouteCounters {
    quint64 connectionsOpen = 0;
    quint64 connectionsTotal = 0;
    quint64 bytesIn = 0;  // visitor -> backend
    quint64 bytesOut = 0; // backend -> visitor
    quint64 requests = 0; // HTTP requests, or UDP datagrams from visitors
    quint64 errors = 0;   // requests answered by the daemon with an error, refused connections
    std::array<quint64, size_t(ErrorKind::Count)> errorsByKind{}; // sums to errors
    QJsonObject toJson() const;
    static RouteCounters fromJson(const QJsonObject &o);
    friend bool operator==(const RouteCounters &, const RouteCounters &) = default;
};

// One row of the routing table. /_api/routes, routes.list, porticoctl routes and the
// dashboard all render these rows.
struct RouteInfo {
    quint16 hostPort = 0;
    QString protocol; // http, tcp, udp
    QString project;  // empty for the ingress row
    QString backend;  // "127.0.0.1:20001", "static /srv/site", "path-based routing", ...
    QString path;     // "/<project>/" for ingress routes, empty otherwise
    QString state;    // active, conflict, draining, starting, backoff, crashed, stopped, unhealthy
    QString reason;   // why, when the state is not active
    QString runtime;  // the project's runtime, empty for the ingress row
    RouteCounters counters;

    QJsonObject toJson() const;
    static RouteInfo fromJson(const QJsonObject &o);
    friend bool operator==(const RouteInfo &, const RouteInfo &) = default;
};

QJsonArray routesToJson(const QList<RouteInfo> &routes);
QList<RouteInfo> routesFromJson(const QJsonArray &a);

} // namespace portico

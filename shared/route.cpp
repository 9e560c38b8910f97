#include "route.h"

namespace portico {

const char *errorKindName(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::Client:
        return "client";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::Backend:
        return "backend";
    case ErrorKind::Unavailable:
        return "unavailable";
    case ErrorKind::Limit:
        return "limit";
    case ErrorKind::Loop:
        return "loop";
    case ErrorKind::Count:
        break;
    }
    return "other";
}

QJsonObject RouteCounters::toJson() const {
    QJsonObject kinds;
    for (size_t i = 0; i < errorsByKind.size(); ++i)
        kinds.insert(QLatin1String(errorKindName(ErrorKind(i))), double(errorsByKind[i]));
    return {{QStringLiteral("connections_open"), double(connectionsOpen)},
            {QStringLiteral("connections_total"), double(connectionsTotal)},
            {QStringLiteral("bytes_in"), double(bytesIn)},
            {QStringLiteral("bytes_out"), double(bytesOut)},
            {QStringLiteral("requests"), double(requests)},
            {QStringLiteral("errors"), double(errors)},
            {QStringLiteral("errors_by_kind"), kinds}};
}

RouteCounters RouteCounters::fromJson(const QJsonObject &o) {
    RouteCounters c;
    c.connectionsOpen = quint64(o.value(QStringLiteral("connections_open")).toDouble());
    c.connectionsTotal = quint64(o.value(QStringLiteral("connections_total")).toDouble());
    c.bytesIn = quint64(o.value(QStringLiteral("bytes_in")).toDouble());
    c.bytesOut = quint64(o.value(QStringLiteral("bytes_out")).toDouble());
    c.requests = quint64(o.value(QStringLiteral("requests")).toDouble());
    c.errors = quint64(o.value(QStringLiteral("errors")).toDouble());
    const QJsonObject kinds = o.value(QStringLiteral("errors_by_kind")).toObject();
    for (size_t i = 0; i < c.errorsByKind.size(); ++i)
        c.errorsByKind[i] = quint64(kinds.value(QLatin1String(errorKindName(ErrorKind(i)))).toDouble());
    return c;
}

QJsonObject RouteInfo::toJson() const {
    QJsonObject o{
        {QStringLiteral("host_port"), int(hostPort)},
        {QStringLiteral("protocol"), protocol},
        {QStringLiteral("project"), project.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(project)},
        {QStringLiteral("backend"), backend},
        {QStringLiteral("state"), state},
        {QStringLiteral("counters"), counters.toJson()}};
    if (!path.isEmpty())
        o.insert(QStringLiteral("path"), path);
    if (!reason.isEmpty())
        o.insert(QStringLiteral("reason"), reason);
    if (!runtime.isEmpty())
        o.insert(QStringLiteral("runtime"), runtime);
    return o;
}

RouteInfo RouteInfo::fromJson(const QJsonObject &o) {
    RouteInfo r;
    r.hostPort = quint16(o.value(QStringLiteral("host_port")).toInt());
    r.protocol = o.value(QStringLiteral("protocol")).toString();
    r.project = o.value(QStringLiteral("project")).toString();
    r.backend = o.value(QStringLiteral("backend")).toString();
    r.path = o.value(QStringLiteral("path")).toString();
    r.state = o.value(QStringLiteral("state")).toString();
    r.reason = o.value(QStringLiteral("reason")).toString();
    r.runtime = o.value(QStringLiteral("runtime")).toString();
    r.counters = RouteCounters::fromJson(o.value(QStringLiteral("counters")).toObject());
    return r;
}

QJsonArray routesToJson(const QList<RouteInfo> &routes) {
    QJsonArray a;
    for (const auto &r : routes)
        a.append(r.toJson());
    return a;
}

QList<RouteInfo> routesFromJson(const QJsonArray &a) {
    QList<RouteInfo> out;
    for (const auto &v : a)
        out.append(RouteInfo::fromJson(v.toObject()));
    return out;
}

} // namespace portico

#include "router.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <http_parser.h>

namespace portico::http {

QByteArray errorBody(int status, const QString &message, const QJsonObject &extra) {
    QJsonObject o = extra;
    o.insert(QStringLiteral("error"), message);
    o.insert(QStringLiteral("status"), status);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

namespace {

Decision local(int status, const QString &message, const QJsonObject &extra = {}) {
    Decision d;
    d.status = status;
    d.body = errorBody(status, message, extra);
    return d;
}

bool viaHasUs(const Fields &fields, QByteArrayView us) {
    if (us.isEmpty())
        return false;
    for (const Field &f : fields) {
        if (!nameIs(f.name, "via"))
            continue;
        // "1.1 portico-1a2b, 1.0 other": our pseudonym as a whole word.
        for (qsizetype at = f.value.indexOf(us); at >= 0; at = f.value.indexOf(us, at + 1)) {
            const qsizetype end = at + us.size();
            const bool startOk = at == 0 || f.value.at(at - 1) == ' ';
            const bool endOk = end == f.value.size() || f.value.at(end) == ',' || f.value.at(end) == ' ';
            if (startOk && endOk)
                return true;
        }
    }
    return false;
}

QByteArray ingressPage(const RouteTable &table, bool list) {
    QJsonArray out;
    if (!list)
        return QJsonDocument(table.toJson()).toJson(QJsonDocument::Compact);
    QStringList names;
    for (auto it = table.projects.cbegin(); it != table.projects.cend(); ++it) {
        if (it.value() && it.value()->pathRouted)
            names.append(it.key());
    }
    names.sort();
    for (const QString &name : std::as_const(names)) {
        const ProjectRoute *p = table.project(name);
        out.append(QJsonObject{{QStringLiteral("project"), name},
                               {QStringLiteral("path"), QLatin1Char('/') + name + QLatin1Char('/')},
                               {QStringLiteral("state"), p->state},
                               {QStringLiteral("backend"), p->target.describe()}});
    }
    return QJsonDocument(out).toJson(QJsonDocument::Compact);
}

// The project a path segment names, without allocating: project names are at most 63
// bytes of [a-z0-9-], so the key is built in place and looked up as it is.
const ProjectRoute *lookupProject(const RouteTable &table, QByteArrayView segment) {
    if (segment.isEmpty() || segment.size() > 63)
        return nullptr;
    char16_t key[64];
    for (qsizetype i = 0; i < segment.size(); ++i) {
        const char c = segment.at(i);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return nullptr;
        key[i] = char16_t(c);
    }
    return table.project(QString::fromRawData(reinterpret_cast<const QChar *>(key), segment.size()));
}

} // namespace

Decision route(const RouteInput &in) {
    const ParsedHead &req = in.request;
    if (req.method == HTTP_CONNECT) {
        Decision d = local(405, QStringLiteral("CONNECT is not supported"));
        d.allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";
        d.close = true;
        return d;
    }
    if (viaHasUs(req.fields, in.listener.via))
        return local(508, QStringLiteral("request loop: this request already passed through this daemon"));

    const QByteArrayView target = req.target;
    const qsizetype q = target.indexOf('?');
    const QByteArrayView path = q < 0 ? target : target.first(q);
    const QByteArrayView query = q < 0 ? QByteArrayView() : target.sliced(q);
    const ProjectRoute *route = nullptr;
    Decision d;

    if (in.listener.project.isEmpty()) {
        if ((path == "/_api/routes" || path == "/") && in.listener.ingressApi != IngressApi::Off) {
            if (in.listener.ingressApi == IngressApi::Loopback && !in.peerIsLoopback)
                return local(403, QStringLiteral("the routing table is shown to local clients only "
                                                 "(ingress_api is \"loopback\")"));
            if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
                Decision d405 = local(405, QStringLiteral("method not allowed"));
                d405.allow = "GET, HEAD";
                return d405;
            }
            Decision page;
            page.status = 200;
            page.body = ingressPage(in.table, path == "/");
            return page;
        }
        const qsizetype slash = path.indexOf('/', 1);
        const QByteArrayView segment =
            path.isEmpty() ? path : path.sliced(1, (slash < 0 ? path.size() : slash) - 1);
        route = lookupProject(in.table, segment);
        if (!route || !route->pathRouted) {
            const QString name = QString::fromUtf8(segment);
            Decision d404 =
                local(404, QStringLiteral("unknown project"), {{QStringLiteral("project"), name}});
            d404.project = name;
            return d404;
        }
        d.project = route->name;
        if (slash < 0) {
            Decision d308;
            d308.status = 308;
            d308.project = d.project;
            d308.location = QByteArray("/") + QByteArray(segment.data(), segment.size()) + "/" +
                            QByteArray(query.data(), query.size());
            d308.body =
                QJsonDocument(QJsonObject{{QStringLiteral("location"), QString::fromUtf8(d308.location)}})
                    .toJson(QJsonDocument::Compact);
            return d308;
        }
        d.prefix = path.first(slash);
        d.backendTarget = target.sliced(slash);
    } else {
        d.project = in.listener.project;
        route = in.table.project(d.project);
        d.backendTarget = target;
        if (!route) {
            Decision d503 = local(503, QStringLiteral("project is not deployed"),
                                  {{QStringLiteral("project"), d.project}});
            d503.project = d.project;
            return d503;
        }
    }
    d.route = route;
    d.target = in.listener.project.isEmpty() ? &route->target : &route->targetFor(in.listener.port);
    switch (d.target->kind) {
    case BackendTarget::Kind::None: {
        Decision d503 = local(503, QStringLiteral("backend not available"),
                              {{QStringLiteral("project"), route->name},
                               {QStringLiteral("state"), route->state},
                               {QStringLiteral("reason"), route->reason}});
        d503.project = d.project;
        d503.route = route;
        return d503;
    }
    case BackendTarget::Kind::Static:
        d.kind = Decision::Kind::Static;
        return d;
    case BackendTarget::Kind::Tcp:
    case BackendTarget::Kind::Unix:
        d.kind = Decision::Kind::Proxy;
        return d;
    }
    return d;
}

} // namespace portico::http

#pragma once

// Header-only on purpose: it needs the daemon's headers, which only the test
// executables (linked with portico_daemon) see; portico_testsupport does not.

#include "config/config.h"
#include "net/accesslog.h"
#include "net/http/httpserver.h"
#include "routing/routetable.h"

#include "contextthread.h"

#include <QTcpServer>
#include <QTcpSocket>

#include <memory>

namespace portico::test {

// An HTTP listener as a worker runs it: a QTcpServer on 127.0.0.1:0 in its own thread
// (with a worker index), calling startHttpSession for each accepted connection.
class HttpProxyHarness {
public:
    // project empty: the ingress (path-prefix routing); else a dedicated port of project.
    explicit HttpProxyHarness(const Config &config, const QString &project = {}, bool accessLog = false)
        : m_config(config), m_accessLog(accessLog) {
        auto ctx = std::make_shared<HttpListenerContext>();
        ctx->config = &m_config;
        ctx->routes = &m_routes;
        ctx->accessLog = &m_accessLog;
        ctx->project = project;
        m_worker.run([this, ctx] {
            setCurrentWorkerIndex(1);
            auto *server = new QTcpServer(m_worker.context());
            m_server = server;
            server->listen(QHostAddress::LocalHost, 0);
            m_port = server->serverPort();
            ctx->port = m_port;
            if (ctx->project.isEmpty())
                ctx->stats = nullptr; // ingress: table->ingressStats of the current table
            else
                ctx->stats = m_dedicatedStats;
            std::shared_ptr<const HttpListenerContext> shared = ctx;
            QObject::connect(server, &QTcpServer::newConnection, server, [server, shared] {
                while (QTcpSocket *s = server->nextPendingConnection())
                    startHttpSession(s, shared, server);
            });
        });
    }
    ~HttpProxyHarness() { m_worker.stop(); }
    HttpProxyHarness(const HttpProxyHarness &) = delete;
    HttpProxyHarness &operator=(const HttpProxyHarness &) = delete;

    quint16 port() const { return m_port; }

    // drainHttpSessions / httpSessionCount on the listener, run in its thread.
    int drain() {
        int remaining = 0;
        m_worker.run([&] { remaining = drainHttpSessions(m_server); });
        return remaining;
    }
    int sessionCount() {
        int alive = 0;
        m_worker.run([&] { alive = httpSessionCount(m_server); });
        return alive;
    }
    RouteTableHolder &routes() { return m_routes; }
    std::shared_ptr<RouteStats> dedicatedStats() const { return m_dedicatedStats; }

    // A table with the ingress row and one row per project, each reachable by path.
    struct Project {
        Project(QString n, BackendTarget t, bool routed = true, QString st = QStringLiteral("active"),
                QString why = {})
            : name(std::move(n)), target(std::move(t)), pathRouted(routed), state(std::move(st)),
              reason(std::move(why)) {}
        QString name;
        BackendTarget target;
        bool pathRouted = true;
        QString state = QStringLiteral("active");
        QString reason;
    };
    std::shared_ptr<const RouteTable> publish(const QList<Project> &projects) {
        auto table = std::make_shared<RouteTable>();
        table->ingressPort = m_port;
        table->ingressStats = std::make_shared<RouteStats>();
        RouteInfo ingress;
        ingress.hostPort = m_port;
        ingress.protocol = QStringLiteral("http");
        ingress.backend = QStringLiteral("path-based routing");
        ingress.state = QStringLiteral("active");
        table->rows.append(ingress);
        table->rowStats.append(table->ingressStats);
        for (const Project &p : projects) {
            auto route = std::make_shared<ProjectRoute>();
            route->name = p.name;
            route->target = p.target;
            route->pathRouted = p.pathRouted;
            route->state = p.state;
            route->reason = p.reason;
            route->ingressStats = std::make_shared<RouteStats>();
            table->projects.insert(p.name, route);
            if (p.pathRouted) {
                RouteInfo row;
                row.hostPort = m_port;
                row.protocol = QStringLiteral("http");
                row.project = p.name;
                row.backend = p.target.describe();
                row.path = QLatin1Char('/') + p.name + QLatin1Char('/');
                row.state = p.state;
                row.reason = p.reason;
                row.runtime = QStringLiteral("upstream");
                table->rows.append(row);
                table->rowStats.append(route->ingressStats);
            }
        }
        m_routes.publish(table);
        return table;
    }

    static BackendTarget tcp(quint16 port) {
        BackendTarget t;
        t.kind = BackendTarget::Kind::Tcp;
        t.host = QStringLiteral("127.0.0.1");
        t.port = port;
        return t;
    }

private:
    Config m_config;
    RouteTableHolder m_routes;
    AccessLog m_accessLog;
    std::shared_ptr<RouteStats> m_dedicatedStats = std::make_shared<RouteStats>();
    ContextThread m_worker;
    QObject *m_server = nullptr;
    quint16 m_port = 0;
};

} // namespace portico::test

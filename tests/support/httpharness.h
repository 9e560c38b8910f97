#pragma once

// Header-only on purpose: it needs the daemon's headers, which only the test
// executables (linked with portico_daemon) see; portico_testsupport does not.

#include "config/config.h"
#include "net/accesslog.h"
#include "net/listenermanager.h"
#include "net/tcp/tcplistener.h"
#include "net/workerpool.h"
#include "routing/routetable.h"

#include <QDebug>

#include <memory>

namespace portico::test {

// An HTTP listener exactly as the daemon runs it: a ListenerManager opening an http port
// on 127.0.0.1:0, served by a real worker thread (its epoll EventLoop) of a WorkerPool.
class HttpProxyHarness {
public:
    // project empty: the ingress (path-prefix routing); else a dedicated port of project.
    explicit HttpProxyHarness(const Config &config = Config(), const QString &project = {},
                              bool accessLog = false)
        : m_config(config), m_accessLog(accessLog), m_workers(std::make_unique<WorkerPool>(1)),
          m_manager(std::make_unique<ListenerManager>(m_config, &m_routes, m_workers.get(), &m_accessLog)) {
        ListenerOptions o;
        o.address = QHostAddress(QHostAddress::LocalHost);
        o.port = 0;
        o.protocol = Protocol::Http;
        o.project = project;
        o.stats = project.isEmpty() ? nullptr : m_dedicatedStats; // ingress: table->ingressStats
        QString error;
        m_id = m_manager->open(o, &error);
        if (!m_id)
            qWarning() << "harness listener:" << error;
        m_port = m_manager->boundPort(m_id);
    }
    ~HttpProxyHarness() {
        m_manager.reset(); // closes the listener (posted to the worker) ...
        m_workers.reset(); // ... which runs it before it stops
    }
    HttpProxyHarness(const HttpProxyHarness &) = delete;
    HttpProxyHarness &operator=(const HttpProxyHarness &) = delete;

    quint16 port() const { return m_port; }
    ListenerManager *manager() const { return m_manager.get(); }
    ListenerId id() const { return m_id; }
    WorkerPool *workers() const { return m_workers.get(); }

    // Runs fn(listener) in the worker thread for each of its TcpListeners, and waits.
    template <typename Fn> void inWorker(Fn fn) {
        QObject *context = m_workers->context(0);
        QMetaObject::invokeMethod(
            context,
            [&] {
                for (TcpListener *l : context->findChildren<TcpListener *>())
                    fn(l);
            },
            Qt::BlockingQueuedConnection);
    }
    // Graceful drain of the listener's HTTP connections; how many remain.
    int drain() {
        int remaining = 0;
        inWorker([&](TcpListener *l) { remaining += l->drainHttp(); });
        return remaining;
    }
    // HTTP connections alive (tunnels are not HTTP connections any more).
    int sessionCount() {
        int alive = 0;
        inWorker([&](TcpListener *l) { alive += l->httpConnectionCount(); });
        return alive;
    }
    int connectionCount() {
        int alive = 0;
        inWorker([&](TcpListener *l) { alive += l->connectionCount(); });
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
    std::unique_ptr<WorkerPool> m_workers;
    std::unique_ptr<ListenerManager> m_manager;
    ListenerId m_id = 0;
    quint16 m_port = 0;
};

} // namespace portico::test

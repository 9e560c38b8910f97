#pragma once

// Header-only (it needs the daemon's headers, which only the test executables see): the
// pieces every listener/relay test builds by hand. The test thread plays the control
// thread; a real WorkerPool with two workers carries the data plane.
#include "config/config.h"
#include "net/listenermanager.h"
#include "net/workerpool.h"
#include "routing/routetable.h"

#include <QDebug>
#include <QHash>

#include <list>
#include <memory>

namespace portico::test {

inline BackendTarget tcpTarget(const QString &host, quint16 port) {
    BackendTarget t;
    t.kind = BackendTarget::Kind::Tcp;
    t.host = host;
    t.port = port;
    return t;
}

class RelayFixture {
public:
    RelayFixture() : m_workers(std::make_unique<WorkerPool>(2)) { publish(); }
    ~RelayFixture() {
        m_managers.clear(); // closes every listener (posted to the workers) ...
        m_workers.reset();  // ... which run it before they stop
    }

    WorkerPool *workers() const { return m_workers.get(); }
    RouteTableHolder *routes() { return &m_routes; }

    // Sets (or, with kind None, clears the target of) a project and publishes a new table.
    void setTarget(const QString &project, const BackendTarget &target) {
        m_targets.insert(project, target);
        publish();
    }
    void removeProject(const QString &project) {
        m_targets.remove(project);
        publish();
    }

    // A manager with its own copy of the config; both live as long as the fixture.
    ListenerManager *manager(const Config &config = Config()) {
        m_configs.push_back(config);
        m_managers.push_back(
            std::make_unique<ListenerManager>(m_configs.back(), &m_routes, m_workers.get(), nullptr));
        return m_managers.back().get();
    }

    // Opens o on a new manager with config: the bound port, or 0 (with a warning).
    quint16 openListener(const ListenerOptions &o, const Config &config) {
        ListenerManager *m = manager(config);
        QString error;
        const ListenerId id = m->open(o, &error);
        if (id == 0)
            qWarning() << "open failed:" << error;
        return m->boundPort(id);
    }

    static ListenerOptions options(Protocol protocol, const QString &project, quint16 port = 0,
                                   const QHostAddress &address = QHostAddress(QHostAddress::LocalHost)) {
        ListenerOptions o;
        o.address = address;
        o.port = port;
        o.protocol = protocol;
        o.project = project;
        o.stats = std::make_shared<RouteStats>();
        return o;
    }

private:
    void publish() {
        auto table = std::make_shared<RouteTable>();
        for (auto it = m_targets.cbegin(); it != m_targets.cend(); ++it) {
            auto route = std::make_shared<ProjectRoute>();
            route->name = it.key();
            route->target = it.value();
            route->state = it.value().isValid() ? QStringLiteral("active") : QStringLiteral("stopped");
            table->projects.insert(it.key(), route);
        }
        m_routes.publish(table);
    }

    std::unique_ptr<WorkerPool> m_workers;
    RouteTableHolder m_routes;
    QHash<QString, BackendTarget> m_targets;
    std::list<Config> m_configs;
    std::list<std::unique_ptr<ListenerManager>> m_managers;
};

} // namespace portico::test

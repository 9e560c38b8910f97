#pragma once

#include "net/listenermanager.h"
#include "routing/planner.h"
#include "routing/routetable.h"
#include "runtime/backend.h"
#include "store/projectstore.h"

#include <QList>
#include <QString>

#include <map>
#include <memory>

namespace portico {

// Backends are destroyed with deleteLater(): never synchronously inside one of their signals.
struct DeleteLater {
    void operator()(QObject *o) const {
        if (o)
            o->deleteLater();
    }
};
using BackendPtr = std::unique_ptr<Backend, DeleteLater>;

// One listen entry of a deployed project.
struct Binding {
    ListenSpec spec;
    ListenerId id = 0; // 0: not bound (see conflict)
    std::shared_ptr<RouteStats> stats;
    Conflict conflict; // set when id == 0
};

// A deployed project: what was persisted, what runs and what listens.
struct Project {
    StoredProject stored;
    BackendPtr backend;
    QList<Binding> bindings;
    std::shared_ptr<RouteStats> ingressStats;
    QString failure; // the backend did not come up (at load); shown as the route's reason
};

// A listener of a version that is gone, finishing its connections.
struct Draining {
    QString project;
    ListenSpec spec;
    std::shared_ptr<RouteStats> stats;
    QString backend;
};

// The daemon's live deploy state, on the control thread: the projects, the listeners
// still draining, and the ports that deploys in progress have claimed but not yet
// published. Plain data, so that a test can build one.
struct ProjectSet {
    std::map<QString, Project> projects;
    std::map<ListenerId, Draining> draining;
    // A deploy reserves the ports it adds when it plans and holds them until it publishes
    // or unwinds, so that a concurrent deploy of another project claiming one of them
    // loses with a clear conflict instead of racing it to the bind.
    std::map<QString, QList<ListenSpec>> reserved;

    // Ports held by deployed projects, then ports reserved by deploys in progress.
    QList<PortClaim> claims() const;
    const Project *find(const QString &name) const;
};

// The words of the routes for a project's state (active, starting, failed, ...), with the
// reason when there is one.
QString routeState(const Project &p, QString *reason);
// Is the project's backend taking traffic?
bool serving(const Project &p);
// "127.0.0.1:20001" or the runtime's name while there is no address.
QString backendText(const Project &p);

// The routing table of the whole set: the ingress row, each project's path route, and
// every dedicated port (live, in conflict or draining) sorted by port.
std::shared_ptr<RouteTable> buildRouteTable(const ProjectSet &set, quint16 ingressPort,
                                            const std::shared_ptr<RouteStats> &ingressStats);

// Stops a backend that no longer serves once nothing in the data plane uses it (requests
// in flight, relays, tunnels, UDP sessions), at the latest after delayMs (at once when
// <= 0), and deletes it once it has stopped. Its signals no longer reach `watcher`.
void stopBackendLater(BackendPtr backend, int delayMs, const QObject *watcher);

} // namespace portico

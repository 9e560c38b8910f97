#include "project.h"

#include <QElapsedTimer>
#include <QTimer>

namespace portico {

QList<PortClaim> ProjectSet::claims() const {
    QList<PortClaim> out;
    for (const auto &[name, p] : projects) {
        for (const auto &b : p.bindings)
            out.append({b.spec.port, b.spec.transport(), name});
    }
    for (const auto &[name, specs] : reserved) {
        for (const auto &s : specs)
            out.append({s.port, s.transport(), name, true});
    }
    return out;
}

const Project *ProjectSet::find(const QString &name) const {
    const auto it = projects.find(name);
    return it == projects.end() ? nullptr : &it->second;
}

QString routeState(const Project &p, QString *reason) {
    if (!p.failure.isEmpty()) {
        *reason = p.failure;
        return QStringLiteral("failed");
    }
    if (!p.backend)
        return QStringLiteral("stopped");
    *reason = p.backend->stateReason();
    switch (p.backend->state()) {
    case BackendState::Running:
        reason->clear(); // "pid 123 serving on …" is in projects.get; an active route needs no reason
        return QStringLiteral("active");
    case BackendState::Unhealthy:
        return QStringLiteral("unhealthy");
    case BackendState::Starting:
        return QStringLiteral("starting");
    case BackendState::Backoff:
        return QStringLiteral("backoff");
    case BackendState::Crashed:
        return QStringLiteral("crashed");
    case BackendState::Stopped:
        return QStringLiteral("stopped");
    }
    return {};
}

bool serving(const Project &p) {
    return p.failure.isEmpty() && p.backend &&
           (p.backend->state() == BackendState::Running || p.backend->state() == BackendState::Unhealthy);
}

QString backendText(const Project &p) {
    return p.backend && p.backend->target().isValid() ? p.backend->target().describe()
                                                      : runtimeName(p.stored.manifest.runtime);
}

std::shared_ptr<RouteTable> buildRouteTable(const ProjectSet &set, quint16 ingressPort,
                                            const std::shared_ptr<RouteStats> &ingressStats) {
    auto table = std::make_shared<RouteTable>();
    table->ingressPort = ingressPort;
    table->ingressStats = ingressStats;

    RouteInfo ingress;
    ingress.hostPort = ingressPort;
    ingress.protocol = QStringLiteral("http");
    ingress.backend = QStringLiteral("path-based routing");
    ingress.path = QStringLiteral("/");
    ingress.state = QStringLiteral("active");
    table->rows.append(ingress);
    table->rowStats.append(ingressStats);

    QList<QPair<RouteInfo, std::shared_ptr<RouteStats>>> dedicated;
    for (const auto &[name, p] : set.projects) {
        auto pr = std::make_shared<ProjectRoute>();
        pr->name = name;
        pr->pathRouted = p.stored.manifest.isPathRouted();
        pr->state = routeState(p, &pr->reason);
        pr->target = serving(p) ? p.backend->target() : BackendTarget{};
        if (pr->target.isValid()) {
            const QHash<quint16, quint16> ports = p.backend->backendPorts();
            for (auto it = ports.cbegin(); it != ports.cend(); ++it) {
                BackendTarget t = pr->target;
                t.port = it.value();
                pr->portTargets.insert(it.key(), t);
            }
        }
        pr->ingressStats = p.ingressStats;
        pr->inflight = p.backend ? p.backend->inflight() : nullptr;
        const QString backend = backendText(p);
        if (pr->pathRouted) {
            RouteInfo r;
            r.hostPort = ingressPort;
            r.protocol = QStringLiteral("http");
            r.project = name;
            r.backend = backend;
            r.path = QLatin1Char('/') + name + QLatin1Char('/');
            r.state = pr->state;
            r.reason = pr->reason;
            r.runtime = runtimeName(p.stored.manifest.runtime);
            table->rows.append(r);
            table->rowStats.append(p.ingressStats);
        }
        for (const auto &b : p.bindings) {
            RouteInfo r;
            r.hostPort = b.spec.port;
            r.protocol = protocolName(b.spec.protocol);
            r.project = name;
            r.backend = pr->portTargets.contains(b.spec.port) ? pr->portTargets.value(b.spec.port).describe()
                                                              : backend;
            r.runtime = runtimeName(p.stored.manifest.runtime);
            if (b.id == 0) {
                r.state = QStringLiteral("conflict");
                r.reason = b.conflict.message;
            } else {
                r.state = pr->state;
                r.reason = pr->reason;
            }
            dedicated.append({r, b.stats});
        }
        table->projects.insert(name, pr);
    }
    for (const auto &[id, dr] : set.draining) {
        RouteInfo r;
        r.hostPort = dr.spec.port;
        r.protocol = protocolName(dr.spec.protocol);
        r.project = dr.project;
        r.backend = dr.backend;
        r.state = QStringLiteral("draining");
        dedicated.append({r, dr.stats});
    }
    std::stable_sort(dedicated.begin(), dedicated.end(), [](const auto &a, const auto &b) {
        return std::tie(a.first.hostPort, a.first.protocol) < std::tie(b.first.hostPort, b.first.protocol);
    });
    for (const auto &[r, s] : dedicated) {
        table->rows.append(r);
        table->rowStats.append(s);
    }
    return table;
}

void stopBackendLater(BackendPtr backend, int delayMs, const QObject *watcher) {
    if (!backend)
        return;
    Backend *raw = backend.release();
    if (watcher)
        raw->disconnect(watcher);
    const auto stopIt = [raw] {
        QObject::connect(raw, &Backend::stopped, raw, &QObject::deleteLater);
        raw->stop();
    };
    if (delayMs <= 0) {
        stopIt();
        return;
    }
    // The old version finishes what it carries, and no more: it stops as soon as nothing
    // uses it (no request in flight, no relay, tunnel or UDP session; idle keep-alive
    // connections do not count), at the latest after delayMs. The data plane counts
    // without telling the control thread, so the count is looked at every few ms; the
    // first look comes after one interval, so that a request that took the previous
    // routing snapshot an instant ago has counted itself.
    const std::shared_ptr<std::atomic<int>> inflight = raw->inflight();
    auto *poll = new QTimer(raw);
    poll->setInterval(25);
    QElapsedTimer clock;
    clock.start();
    QObject::connect(poll, &QTimer::timeout, raw, [poll, inflight, clock, delayMs, stopIt] {
        if (inflight->load(std::memory_order_relaxed) > 0 && clock.elapsed() < delayMs)
            return;
        poll->stop();
        poll->deleteLater();
        stopIt();
    });
    poll->start();
}

} // namespace portico

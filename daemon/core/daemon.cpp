#include "daemon.h"

#include "admin/adminserver.h"
#include "net/accesslog.h"
#include "net/listenermanager.h"
#include "net/workerpool.h"
#include "protocol.h"
#include "routing/planner.h"
#include "routing/routetable.h"
#include "runtime/backend.h"
#include "runtime/portallocator.h"
#include "store/projectstore.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <map>

Q_LOGGING_CATEGORY(lcDaemon, "portico.daemon", QtInfoMsg)

namespace portico {

namespace {

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

// The conflict the plan found for this listen entry, if any.
const Conflict *conflictFor(const Plan &plan, const ListenSpec &spec) {
    for (const auto &c : plan.conflicts) {
        if (c.port == spec.port && c.transport == spec.transport())
            return &c;
    }
    return nullptr;
}

int refusalCode(const QString &runtimeError) {
    return runtimeError.contains(QStringLiteral("Docker engine")) ? protocol::error::RuntimeUnavailable
                                                                  : protocol::error::BackendFailed;
}

} // namespace

struct Daemon::Impl {
    Daemon *q = nullptr;
    Config config;
    ProjectStore store;
    RouteTableHolder routes;
    std::unique_ptr<WorkerPool> workers;
    std::unique_ptr<AccessLog> accessLog;
    std::unique_ptr<ListenerManager> listeners;
    std::unique_ptr<AdminServer> admin;
    std::unique_ptr<PortAllocator> ports;
    RuntimeContext runtime;
    QElapsedTimer uptime;
    ListenerId ingressId = 0;
    quint16 ingressPort = 0;
    std::shared_ptr<RouteStats> ingressStats = std::make_shared<RouteStats>();
    std::map<QString, Project> projects;
    std::map<ListenerId, Draining> draining;
    QTimer retryTimer;
    QTimer statsTimer;
    bool shuttingDown = false;

    // Deploys, undeploys and restarts run one at a time, in order.
    using Done = std::function<void()>;
    std::deque<std::function<void(Done)>> queue;
    bool busy = false;

    // Rates, sampled at 1 Hz.
    struct Sample {
        RouteCounters counters;
        qint64 atMs = 0;
    };
    QHash<QString, Sample> lastSample;
    QHash<QString, QJsonObject> rates;
    qint64 lastTickMs = 0;

    Impl(Daemon *daemon, const Config &c) : q(daemon), config(c), store(c.stateDir) {}

    PlannerLimits limits() const {
        return {ingressPort, config.reservedPorts, config.allowedPortMin, config.allowedPortMax};
    }

    QList<PortClaim> claims() const {
        QList<PortClaim> out;
        for (const auto &[name, p] : projects) {
            for (const auto &b : p.bindings)
                out.append({b.spec.port, b.spec.transport(), name});
        }
        return out;
    }

    void enqueue(std::function<void(Done)> op) {
        queue.push_back(std::move(op));
        pump();
    }

    void pump() {
        if (busy || queue.empty())
            return;
        busy = true;
        auto op = std::move(queue.front());
        queue.pop_front();
        op([this] {
            busy = false;
            QTimer::singleShot(0, q, [this] { pump(); });
        });
    }

    // ---- routing table ------------------------------------------------------------

    void publish() {
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
        for (const auto &[name, p] : projects) {
            auto pr = std::make_shared<ProjectRoute>();
            pr->name = name;
            pr->pathRouted = p.stored.manifest.isPathRouted();
            pr->state = routeState(p, &pr->reason);
            pr->target = serving(p) ? p.backend->target() : BackendTarget{};
            pr->ingressStats = p.ingressStats;
            const QString backend = p.backend && p.backend->target().isValid()
                                        ? p.backend->target().describe()
                                        : runtimeName(p.stored.manifest.runtime);
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
                r.backend = backend;
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
        for (const auto &[id, dr] : draining) {
            RouteInfo r;
            r.hostPort = dr.spec.port;
            r.protocol = protocolName(dr.spec.protocol);
            r.project = dr.project;
            r.backend = dr.backend;
            r.state = QStringLiteral("draining");
            dedicated.append({r, dr.stats});
        }
        std::stable_sort(dedicated.begin(), dedicated.end(), [](const auto &a, const auto &b) {
            return std::tie(a.first.hostPort, a.first.protocol) <
                   std::tie(b.first.hostPort, b.first.protocol);
        });
        for (const auto &[r, s] : dedicated) {
            table->rows.append(r);
            table->rowStats.append(s);
        }
        routes.publish(table);
        Q_EMIT q->event(QString::fromLatin1(protocol::event::RoutesChanged),
                        {{QStringLiteral("routes"), table->toJson()}});
    }

    // ---- listeners ----------------------------------------------------------------

    ListenerId openListener(const QString &project, const ListenSpec &spec,
                            const std::shared_ptr<RouteStats> &stats, QString *error) {
        ListenerOptions o;
        o.address = config.bind;
        o.port = spec.port;
        o.protocol = spec.protocol;
        o.project = project;
        o.proxyProtocol = spec.proxyProtocol;
        o.stats = stats;
        return listeners->open(o, error);
    }

    // Stops accepting on a listener and lets its connections finish.
    void drainListener(const QString &project, const Binding &b, const QString &backend) {
        if (b.id == 0)
            return;
        draining[b.id] = {project, b.spec, b.stats, backend};
        listeners->drain(b.id, config.drainTimeoutMs);
    }

    void stopBackendLater(BackendPtr backend, int delayMs) {
        if (!backend)
            return;
        Backend *raw = backend.release();
        raw->disconnect(q);
        const auto stopIt = [raw] {
            QObject::connect(raw, &Backend::stopped, raw, &QObject::deleteLater);
            raw->stop();
        };
        if (delayMs <= 0)
            stopIt();
        else
            QTimer::singleShot(delayMs, raw, stopIt);
    }

    void watchBackend(const QString &name, Backend *backend) {
        QObject::connect(backend, &Backend::stateChanged, q, [this, name, backend] {
            auto it = projects.find(name);
            if (it == projects.end() || it->second.backend.get() != backend)
                return;
            it->second.failure.clear();
            publish();
            // The words of the routes and projects.get: active, backoff, ...
            QString why;
            const QString state = routeState(it->second, &why);
            Q_EMIT q->event(QString::fromLatin1(protocol::event::ProjectState),
                            {{QStringLiteral("project"), name},
                             {QStringLiteral("state"), state},
                             {QStringLiteral("reason"), why}});
        });
        QObject::connect(backend, &Backend::targetChanged, q, [this, name, backend] {
            auto it = projects.find(name);
            if (it != projects.end() && it->second.backend.get() == backend)
                publish();
        });
        QObject::connect(backend, &Backend::logLine, q, [this, name](const QString &line) {
            Q_EMIT q->event(QString::fromLatin1(protocol::event::Log),
                            {{QStringLiteral("project"), name}, {QStringLiteral("line"), line}});
        });
    }

    // ---- deploy -------------------------------------------------------------------

    struct DeployRequest {
        Manifest manifest;
        QString sourceDir;
        bool atStartup = false; // conflicts and a failed backend do not refuse; they show in the route
    };

    std::optional<ApiResult> checkSourceDir(const Manifest &m, QString *sourceDir) const {
        if (sourceDir->isEmpty()) {
            // deno, static and dockerfile read their entry from the manifest's folder; a
            // process runs from PATH or an absolute command.
            const bool needsFiles = m.runtime != RuntimeKind::Upstream && m.runtime != RuntimeKind::Process;
            if (needsFiles)
                return ApiResult::failure(
                    protocol::error::InvalidParams,
                    QStringLiteral("source_dir is needed: the %1 runtime reads files relative to "
                                   "the manifest's folder")
                        .arg(runtimeName(m.runtime)));
            return std::nullopt;
        }
        const QFileInfo fi(*sourceDir);
        if (!fi.isAbsolute())
            return ApiResult::failure(
                protocol::error::InvalidParams,
                QStringLiteral("source_dir: '%1' is not an absolute path").arg(*sourceDir));
        if (!fi.isDir())
            return ApiResult::failure(protocol::error::InvalidParams,
                                      QStringLiteral("source_dir: '%1' is not a directory").arg(*sourceDir));
        *sourceDir = fi.canonicalFilePath();
        return std::nullopt;
    }

    // Plans a deploy and tests every new port on the host. Changes nothing.
    Plan planWithHost(const Manifest &m) const {
        auto it = projects.find(m.name);
        const Manifest *previous = it == projects.end() ? nullptr : &it->second.stored.manifest;
        Plan plan = planDeploy(claims(), m, previous, limits());
        for (const auto &spec : plan.diff.added) {
            if (conflictFor(plan, spec))
                continue;
            // The same port in the same transport, held by this project's current version with
            // another protocol, is released at the swap; the OS would refuse the test bind.
            QString error;
            if (!ListenerManager::probe(config.bind, spec.port, spec.transport(), &error)) {
                const bool ownOld =
                    previous &&
                    std::any_of(previous->listen.begin(), previous->listen.end(), [&](const ListenSpec &o) {
                        return o.port == spec.port && o.transport() == spec.transport();
                    });
                if (!ownOld)
                    plan.conflicts.append(hostConflict(spec, error));
            }
        }
        return plan;
    }

    static ApiResult conflictResult(const QString &project, const Plan &plan) {
        QString message = plan.conflicts.first().message;
        if (plan.conflicts.size() > 1)
            message += QStringLiteral(" (and %1 more)").arg(plan.conflicts.size() - 1);
        return ApiResult::failure(protocol::error::Conflict, message,
                                  {{QStringLiteral("project"), project},
                                   {QStringLiteral("conflicts"), plan.conflictsJson()},
                                   {QStringLiteral("diff"), plan.diff.toJson()}});
    }

    void refused(const QString &project, const ApiResult &r) {
        QJsonObject data = r.errorData;
        data.insert(QStringLiteral("project"), project);
        data.insert(QStringLiteral("message"), r.errorMessage);
        Q_EMIT q->event(QString::fromLatin1(protocol::event::DeployRefused), data);
    }

    void runDeploy(DeployRequest req, ApiReply reply, Done done) {
        const Manifest m = req.manifest;
        const QString name = m.name;
        const auto finish = [this, reply, done, name](const ApiResult &r) {
            if (!r.ok())
                refused(name, r);
            reply(r);
            done();
        };

        if (req.atStartup && !req.sourceDir.isEmpty() && !QFileInfo(req.sourceDir).isDir()) {
            // A moved or re-cloned checkout: nothing of this project can run, so it keeps
            // no port; it stays listed (failed, with the reason) until deployed again.
            const QString reason =
                QStringLiteral("its source folder %1 no longer exists (moved or deleted?); not started, "
                               "its ports are free. Deploy it again from where it is now, or undeploy it")
                    .arg(req.sourceDir);
            registerFailed(req, {}, reason, false);
            finish(ApiResult::failure(protocol::error::BackendFailed, reason));
            return;
        }

        Plan plan = planWithHost(m);
        if (!plan.ok() && !req.atStartup) {
            finish(conflictResult(name, plan));
            return;
        }

        QString error;
        BackendPtr backend(createBackend(m, req.sourceDir, runtime, &error).release());
        if (!backend) {
            if (req.atStartup) {
                registerFailed(req, plan, error);
                finish(ApiResult::failure(refusalCode(error), error));
                return;
            }
            finish(ApiResult::failure(refusalCode(error), error, {{QStringLiteral("project"), name}}));
            return;
        }

        // Bind the new ports first: once bound they are ours, whatever the backend does.
        QList<Binding> opened;
        for (const auto &spec : plan.diff.added) {
            Binding b;
            b.spec = spec;
            b.stats = std::make_shared<RouteStats>();
            if (const Conflict *conflict = conflictFor(plan, spec)) {
                b.conflict = *conflict; // only at startup
                opened.append(b);
                continue;
            }
            QString bindError;
            b.id = openListener(name, spec, b.stats, &bindError);
            if (b.id == 0) {
                b.conflict = hostConflict(spec, bindError);
                if (!req.atStartup) {
                    for (const auto &o : opened)
                        if (o.id)
                            listeners->close(o.id);
                    Plan failed = plan;
                    failed.conflicts = {b.conflict};
                    finish(conflictResult(name, failed));
                    return;
                }
            }
            opened.append(b);
        }

        Backend *raw = backend.get();
        auto pending = std::make_shared<BackendPtr>(std::move(backend));
        auto settled = std::make_shared<bool>(false);
        auto guard = new QTimer(raw);
        guard->setSingleShot(true);

        const auto unwind = [this, pending, opened, req, plan, finish, name](const QString &reason) {
            for (const auto &o : opened)
                if (o.id)
                    listeners->close(o.id);
            QStringList tail = (*pending) ? (*pending)->logTail(20) : QStringList();
            stopBackendLater(std::move(*pending), 0);
            if (req.atStartup)
                registerFailed(req, plan, reason);
            finish(ApiResult::failure(protocol::error::BackendFailed,
                                      QStringLiteral("project '%1' did not start: %2").arg(name, reason),
                                      {{QStringLiteral("project"), name},
                                       {QStringLiteral("log"), QJsonArray::fromStringList(tail)}}));
        };

        QObject::connect(raw, &Backend::ready, q, [=, this] {
            if (std::exchange(*settled, true))
                return;
            guard->stop();
            commitDeploy(req, plan, std::move(*pending), opened, finish, unwind);
        });
        QObject::connect(raw, &Backend::failed, q, [=](const QString &reason) {
            if (std::exchange(*settled, true))
                return;
            guard->stop();
            unwind(reason);
        });
        QObject::connect(guard, &QTimer::timeout, q, [=, this] {
            if (std::exchange(*settled, true))
                return;
            unwind(QStringLiteral("not ready after %1 ms").arg(config.readyTimeoutMs + 5000));
        });
        guard->start(config.readyTimeoutMs + 5000);
        raw->start();
    }

    // A persisted project that could not come up at start: it keeps its place (and the
    // ports it could bind) and shows why in its routes.
    void registerFailed(const DeployRequest &req, const Plan &plan, const QString &reason,
                        bool holdPorts = true) {
        Project p;
        p.stored = {req.manifest, req.sourceDir};
        p.ingressStats = std::make_shared<RouteStats>();
        p.failure = reason;
        for (const auto &spec : holdPorts ? req.manifest.listen : QList<ListenSpec>{}) {
            Binding b;
            b.spec = spec;
            b.stats = std::make_shared<RouteStats>();
            if (const Conflict *conflict = conflictFor(plan, spec)) {
                b.conflict = *conflict;
            } else {
                QString err;
                b.id = openListener(req.manifest.name, spec, b.stats, &err);
                if (!b.id)
                    b.conflict = hostConflict(spec, err);
            }
            p.bindings.append(b);
        }
        projects[req.manifest.name] = std::move(p);
        publish();
    }

    template <typename Finish, typename Unwind>
    void commitDeploy(const DeployRequest &req, const Plan &plan, BackendPtr backend,
                      const QList<Binding> &opened, const Finish &finish, const Unwind &unwind) {
        const QString name = req.manifest.name;
        const StoredProject stored{req.manifest, req.sourceDir};
        auto it = projects.find(name);
        const bool changed = it == projects.end() || !(it->second.stored == stored);
        if (changed) {
            QString error;
            if (!store.save(stored, &error)) {
                // Put the backend back so unwind can stop it.
                unwind(QStringLiteral("cannot persist the manifest: %1").arg(error));
                stopBackendLater(std::move(backend), 0);
                return;
            }
        }

        Project next;
        next.stored = stored;
        next.backend = std::move(backend);
        next.ingressStats = std::make_shared<RouteStats>();
        BackendPtr oldBackend;
        QString oldBackendText;
        if (it != projects.end()) {
            Project &prev = it->second;
            next.ingressStats = prev.ingressStats; // counters carry over a redeploy
            oldBackend = std::move(prev.backend);
            oldBackendText =
                oldBackend && oldBackend->target().isValid() ? oldBackend->target().describe() : QString();
            for (const auto &b : prev.bindings) {
                const bool kept = plan.diff.kept.contains(b.spec);
                if (kept) {
                    next.bindings.append(b);
                } else if (b.id) {
                    drainListener(name, b, oldBackendText);
                }
            }
        }
        for (const auto &b : opened)
            next.bindings.append(b);
        // Keep the manifest's order of listen entries.
        std::stable_sort(next.bindings.begin(), next.bindings.end(), [&](const Binding &a, const Binding &b) {
            return req.manifest.listen.indexOf(a.spec) < req.manifest.listen.indexOf(b.spec);
        });
        // A kept binding that was in conflict gets another chance with the new version.
        watchBackend(name, next.backend.get());
        projects[name] = std::move(next);
        publish();
        // The old version finishes what it carries before it stops.
        const int oldStopDelay = oldBackend ? config.drainTimeoutMs : 0;
        stopBackendLater(std::move(oldBackend), oldStopDelay);

        QJsonObject data{{QStringLiteral("project"), name}, {QStringLiteral("diff"), plan.diff.toJson()}};
        Q_EMIT q->event(QString::fromLatin1(protocol::event::ProjectDeployed), data);
        for (const auto &b : projects[name].bindings) {
            if (b.id == 0)
                Q_EMIT q->event(QString::fromLatin1(protocol::event::Conflict),
                                {{QStringLiteral("project"), name},
                                 {QStringLiteral("port"), int(b.spec.port)},
                                 {QStringLiteral("transport"), transportName(b.spec.transport())},
                                 {QStringLiteral("reason"), b.conflict.message}});
        }
        finish(ApiResult::success(projectJson(name, projects[name], plan.diff.toJson())));
    }

    QJsonObject projectJson(const QString &name, const Project &p, const QJsonObject &diff = {}) const {
        QString reason;
        const QString state = routeState(p, &reason);
        QJsonArray routeRows;
        const auto table = routes.current();
        for (const auto &r : table->rowsWithCounters()) {
            if (r.project == name)
                routeRows.append(r.toJson());
        }
        QJsonObject o{{QStringLiteral("name"), name},
                      {QStringLiteral("runtime"), runtimeName(p.stored.manifest.runtime)},
                      {QStringLiteral("state"), state},
                      {QStringLiteral("manifest"), p.stored.manifest.toJson()},
                      {QStringLiteral("source_dir"), p.stored.sourceDir},
                      {QStringLiteral("routes"), routeRows}};
        if (!reason.isEmpty())
            o.insert(QStringLiteral("reason"), reason);
        if (p.backend) {
            o.insert(QStringLiteral("backend"), p.backend->target().describe());
            if (p.backend->pid() > 0)
                o.insert(QStringLiteral("pid"), double(p.backend->pid()));
        }
        if (!diff.isEmpty())
            o.insert(QStringLiteral("diff"), diff);
        return o;
    }

    // ---- undeploy -----------------------------------------------------------------

    void runUndeploy(const QString &name, const ApiReply &reply, const Done &done) {
        auto it = projects.find(name);
        if (it == projects.end()) {
            reply(ApiResult::failure(protocol::error::NotFound,
                                     QStringLiteral("no project named '%1'").arg(name),
                                     {{QStringLiteral("project"), name}}));
            done();
            return;
        }
        QString error;
        if (!store.remove(name, &error)) {
            reply(ApiResult::failure(protocol::error::InternalError, error));
            done();
            return;
        }
        Project p = std::move(it->second);
        projects.erase(it);
        const QString backendText =
            p.backend && p.backend->target().isValid() ? p.backend->target().describe() : QString();
        bool hasListeners = false;
        for (const auto &b : p.bindings) {
            if (b.id) {
                drainListener(name, b, backendText);
                hasListeners = true;
            }
        }
        publish();
        // In-flight requests on the ingress and draining listeners may still use the backend.
        const int stopDelay = hasListeners || p.stored.manifest.isPathRouted() ? config.drainTimeoutMs : 0;
        stopBackendLater(std::move(p.backend), stopDelay);
        Q_EMIT q->event(QString::fromLatin1(protocol::event::ProjectUndeployed),
                        {{QStringLiteral("project"), name}});
        reply(ApiResult::success(
            QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("undeployed"), true}}));
        done();
    }

    // ---- periodic -----------------------------------------------------------------

    // Projects whose ports were busy at start get them as soon as they are free.
    void retryConflicts() {
        bool changed = false;
        for (auto &[name, p] : projects) {
            for (auto &b : p.bindings) {
                if (b.id != 0 || b.conflict.holder != QLatin1String("host"))
                    continue;
                QString error;
                b.id = openListener(name, b.spec, b.stats, &error);
                if (b.id) {
                    qCInfo(lcDaemon).noquote()
                        << QStringLiteral("project '%1' now holds port %2").arg(name, b.spec.portLabel());
                    b.conflict = {};
                    changed = true;
                }
            }
        }
        if (changed)
            publish();
    }

    void sampleRates() {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const auto table = routes.current();
        const auto rows = table->rowsWithCounters();
        QHash<QString, QJsonObject> next;
        QHash<QString, Sample> samples;
        for (const auto &r : rows) {
            const QString key = QStringLiteral("%1/%2/%3").arg(r.hostPort).arg(r.protocol, r.project);
            const auto prev = lastSample.constFind(key);
            QJsonObject rate{{QStringLiteral("bytes_in_per_s"), 0},
                             {QStringLiteral("bytes_out_per_s"), 0},
                             {QStringLiteral("requests_per_s"), 0}};
            // A route new since the last tick counts from zero at that tick, so its first
            // second of traffic shows as a rate too.
            const Sample previous = prev != lastSample.cend() ? *prev : Sample{RouteCounters{}, lastTickMs};
            if (previous.atMs > 0 && now > previous.atMs) {
                const double secs = double(now - previous.atMs) / 1000.0;
                const auto delta = [&](quint64 a, quint64 b) { return a >= b ? double(a - b) / secs : 0.0; };
                rate = {
                    {QStringLiteral("bytes_in_per_s"), delta(r.counters.bytesIn, previous.counters.bytesIn)},
                    {QStringLiteral("bytes_out_per_s"),
                     delta(r.counters.bytesOut, previous.counters.bytesOut)},
                    {QStringLiteral("requests_per_s"),
                     delta(r.counters.requests, previous.counters.requests)}};
            }
            next.insert(key, rate);
            samples.insert(key, {r.counters, now});
        }
        rates = next;
        lastSample = samples;
        lastTickMs = now;
    }
};

Daemon::Daemon(const Config &config, QObject *parent)
    : AdminApi(parent), d(std::make_unique<Impl>(this, config)) {}

Daemon::~Daemon() {
    // Workers go first: their connections use the access log, the route table and the
    // listener manager's contexts.
    if (d->listeners)
        d->listeners->closeAll();
    d->workers.reset();
    for (auto &[name, p] : d->projects) {
        if (p.backend)
            p.backend->stop();
    }
}

bool Daemon::start(QString *error) {
    d->uptime.start();
    if (!QDir().mkpath(d->config.stateDir)) {
        *error = QStringLiteral("cannot create the state directory %1").arg(d->config.stateDir);
        return false;
    }
    QDir().mkpath(d->config.stateDir + QStringLiteral("/logs"));
    d->workers = std::make_unique<WorkerPool>(d->config.workers);
    d->accessLog = std::make_unique<AccessLog>(d->config.accessLog);
    d->listeners =
        std::make_unique<ListenerManager>(d->config, &d->routes, d->workers.get(), d->accessLog.get());
    d->ports = std::make_unique<PortAllocator>(d->config.backendPortMin, d->config.backendPortMax);
    d->runtime.config = &d->config;
    d->runtime.ports = d->ports.get();
    d->runtime.logDir = d->config.stateDir + QStringLiteral("/logs");
    d->runtime.resourcesDir = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/portico");

    connect(d->listeners.get(), &ListenerManager::drained, this, [this](ListenerId id) {
        d->listeners->close(id);
        if (d->draining.erase(id))
            d->publish();
    });

    // The ingress first: without it the daemon has no reason to run.
    ListenerOptions ingress;
    ingress.address = d->config.bind;
    ingress.port = d->config.ingressPort;
    ingress.protocol = Protocol::Http;
    ingress.stats = d->ingressStats;
    QString bindError;
    d->ingressId = d->listeners->open(ingress, &bindError);
    if (!d->ingressId) {
        *error = QStringLiteral("cannot listen on %1:%2 for the HTTP ingress: %3")
                     .arg(d->config.bind.toString())
                     .arg(d->config.ingressPort)
                     .arg(bindError);
        return false;
    }
    d->ingressPort = d->listeners->boundPort(d->ingressId);
    d->publish();

    d->admin = std::make_unique<AdminServer>(d->config, this);
    if (!d->admin->listen(error)) {
        d->listeners->closeAll();
        return false;
    }

    // Persisted projects: each comes up on its own; none can stop the daemon.
    QStringList problems;
    const auto stored = d->store.loadAll(&problems);
    auto startupLeft = std::make_shared<qsizetype>(stored.size());
    for (const auto &sp : stored) {
        Impl::DeployRequest req{sp.manifest, sp.sourceDir, true};
        d->enqueue([this, req, startupLeft](Impl::Done done) {
            d->runDeploy(
                req,
                [name = req.manifest.name](const ApiResult &r) {
                    if (!r.ok())
                        qCWarning(lcDaemon).noquote()
                            << QStringLiteral("project '%1': %2").arg(name, r.errorMessage);
                },
                [this, done, startupLeft] {
                    done();
                    if (--*startupLeft == 0)
                        Q_EMIT startupComplete();
                });
        });
    }
    if (stored.isEmpty())
        QTimer::singleShot(0, this, [this] { Q_EMIT startupComplete(); });

    d->retryTimer.setInterval(d->config.conflictRetryMs);
    connect(&d->retryTimer, &QTimer::timeout, this, [this] { d->retryConflicts(); });
    d->retryTimer.start();
    d->statsTimer.setInterval(1000);
    connect(&d->statsTimer, &QTimer::timeout, this, [this] { d->sampleRates(); });
    d->statsTimer.start();

    qCInfo(lcDaemon).noquote()
        << QStringLiteral("porticod %1: ingress on %2:%3, admin socket %4, state in %5, %6 project(s)")
               .arg(QStringLiteral(PORTICO_VERSION), d->config.bind.toString())
               .arg(d->ingressPort)
               .arg(d->admin->socketPath(), d->config.stateDir)
               .arg(stored.size());
    return true;
}

void Daemon::shutdown(const std::function<void()> &done) {
    if (d->shuttingDown)
        return;
    d->shuttingDown = true;
    d->retryTimer.stop();
    d->statsTimer.stop();
    if (d->admin)
        d->admin->close();
    if (d->listeners)
        d->listeners->closeAll();
    // Stop every backend; give up waiting after the grace period plus a margin.
    auto remaining = std::make_shared<int>(0);
    auto finished = std::make_shared<bool>(false);
    auto finish = [done, finished] {
        if (!std::exchange(*finished, true))
            done();
    };
    for (auto &[name, p] : d->projects) {
        if (!p.backend)
            continue;
        ++*remaining;
        connect(p.backend.get(), &Backend::stopped, this, [remaining, finish] {
            if (--*remaining == 0)
                finish();
        });
        p.backend->stop();
    }
    if (*remaining == 0) {
        QTimer::singleShot(0, this, finish);
        return;
    }
    QTimer::singleShot(d->config.stopGraceMs + 2000, this, finish);
}

const Config &Daemon::config() const {
    return d->config;
}
quint16 Daemon::ingressPort() const {
    return d->ingressPort;
}
QString Daemon::adminSocketPath() const {
    return d->admin ? d->admin->socketPath() : d->config.adminSocket;
}

QJsonObject Daemon::info() const {
    return {{QStringLiteral("version"), QStringLiteral(PORTICO_VERSION)},
            {QStringLiteral("protocol_version"), protocol::kVersion},
            {QStringLiteral("pid"), double(QCoreApplication::applicationPid())},
            {QStringLiteral("uptime_ms"), double(d->uptime.elapsed())},
            {QStringLiteral("bind"), d->config.bind.toString()},
            {QStringLiteral("ingress_port"), int(d->ingressPort)},
            {QStringLiteral("admin_socket"), adminSocketPath()},
            {QStringLiteral("state_dir"), d->config.stateDir},
            {QStringLiteral("workers"), d->workers ? d->workers->size() : 0},
            {QStringLiteral("projects"), int(d->projects.size())},
            {QStringLiteral("listeners"), routesToJson(d->routes.current()->rows)}};
}

QList<RouteInfo> Daemon::routes() const {
    return d->routes.current()->rowsWithCounters();
}

QJsonArray Daemon::projects() const {
    QJsonArray a;
    for (const auto &[name, p] : d->projects)
        a.append(d->projectJson(name, p));
    return a;
}

std::optional<QJsonObject> Daemon::project(const QString &name) const {
    auto it = d->projects.find(name);
    if (it == d->projects.end())
        return std::nullopt;
    return d->projectJson(name, it->second);
}

void Daemon::validate(const QJsonValue &manifest, const QString &sourceDir, const ApiReply &reply) {
    const auto parsed = Manifest::parse(manifest);
    if (!parsed.ok()) {
        reply(ApiResult::failure(
            protocol::error::ValidationFailed,
            QStringLiteral("the manifest is invalid: %1").arg(parsed.errors.first().toString()),
            {{QStringLiteral("errors"), parsed.errorsJson()}}));
        return;
    }
    QString dir = sourceDir;
    if (auto bad = d->checkSourceDir(*parsed.manifest, &dir)) {
        reply(*bad);
        return;
    }
    const Plan plan = d->planWithHost(*parsed.manifest);
    if (!plan.ok()) {
        reply(Impl::conflictResult(parsed.manifest->name, plan));
        return;
    }
    reply(ApiResult::success(QJsonObject{{QStringLiteral("ok"), true},
                                         {QStringLiteral("project"), parsed.manifest->name},
                                         {QStringLiteral("diff"), plan.diff.toJson()}}));
}

void Daemon::deploy(const QJsonValue &manifest, const QString &sourceDir, const PeerInfo &,
                    const ApiReply &reply) {
    const auto parsed = Manifest::parse(manifest);
    if (!parsed.ok()) {
        const ApiResult r = ApiResult::failure(
            protocol::error::ValidationFailed,
            QStringLiteral("the manifest is invalid: %1").arg(parsed.errors.first().toString()),
            {{QStringLiteral("errors"), parsed.errorsJson()}});
        d->refused(manifest.toObject().value(QStringLiteral("name")).toString(), r);
        reply(r);
        return;
    }
    QString dir = sourceDir;
    if (auto bad = d->checkSourceDir(*parsed.manifest, &dir)) {
        reply(*bad);
        return;
    }
    Impl::DeployRequest req{*parsed.manifest, dir, false};
    d->enqueue([this, req, reply](Impl::Done done) { d->runDeploy(req, reply, done); });
}

void Daemon::undeploy(const QString &name, const PeerInfo &, const ApiReply &reply) {
    d->enqueue([this, name, reply](Impl::Done done) { d->runUndeploy(name, reply, done); });
}

void Daemon::restart(const QString &name, const PeerInfo &, const ApiReply &reply) {
    d->enqueue([this, name, reply](Impl::Done done) {
        auto it = d->projects.find(name);
        if (it == d->projects.end()) {
            reply(ApiResult::failure(protocol::error::NotFound,
                                     QStringLiteral("no project named '%1'").arg(name),
                                     {{QStringLiteral("project"), name}}));
            done();
            return;
        }
        Project &p = it->second;
        if (!p.failure.isEmpty() || !p.backend) {
            // It never came up: deploy the same manifest again; if it fails again it stays
            // listed as failed (as at start), since its manifest is still persisted.
            const Impl::DeployRequest req{p.stored.manifest, p.stored.sourceDir, true};
            for (const auto &b : p.bindings)
                if (b.id)
                    d->listeners->close(b.id);
            d->projects.erase(it);
            d->publish();
            d->runDeploy(req, reply, done);
            return;
        }
        p.backend->restart();
        reply(ApiResult::success(
            QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("restarting"), true}}));
        done();
    });
}

ApiResult Daemon::logs(const QString &name, int lines) const {
    auto it = d->projects.find(name);
    if (it == d->projects.end())
        return ApiResult::failure(protocol::error::NotFound,
                                  QStringLiteral("no project named '%1'").arg(name),
                                  {{QStringLiteral("project"), name}});
    const QStringList tail = it->second.backend ? it->second.backend->logTail(lines) : QStringList();
    return ApiResult::success(QJsonObject{{QStringLiteral("project"), name},
                                          {QStringLiteral("lines"), QJsonArray::fromStringList(tail)}});
}

QJsonObject Daemon::stats() const {
    QJsonArray rows;
    for (const auto &r : d->routes.current()->rowsWithCounters()) {
        QJsonObject o = r.toJson();
        const QString key = QStringLiteral("%1/%2/%3").arg(r.hostPort).arg(r.protocol, r.project);
        o.insert(QStringLiteral("rates"), d->rates.value(key));
        rows.append(o);
    }
    return {{QStringLiteral("time"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
            {QStringLiteral("uptime_ms"), double(d->uptime.elapsed())},
            {QStringLiteral("routes"), rows}};
}

void Daemon::reload(const PeerInfo &, const ApiReply &reply) {
    // Re-reads the project store and brings the running projects in line with it: a file
    // changed by hand is redeployed, a removed one undeployed, a new one deployed.
    d->enqueue([this, reply](Impl::Done done) {
        QStringList problems;
        const auto stored = d->store.loadAll(&problems);
        QSet<QString> names;
        int changed = 0;
        for (const auto &sp : stored) {
            names.insert(sp.manifest.name);
            auto it = d->projects.find(sp.manifest.name);
            if (it != d->projects.end() && it->second.stored == sp)
                continue;
            ++changed;
            const Impl::DeployRequest req{sp.manifest, sp.sourceDir, true};
            d->queue.push_back([this, req](Impl::Done next) {
                d->runDeploy(
                    req, [](const ApiResult &) {}, next);
            });
        }
        QStringList gone;
        for (const auto &[name, p] : d->projects)
            if (!names.contains(name))
                gone << name;
        for (const auto &name : gone) {
            ++changed;
            d->queue.push_back([this, name](Impl::Done next) {
                d->runUndeploy(
                    name, [](const ApiResult &) {}, next);
            });
        }
        reply(ApiResult::success(
            QJsonObject{{QStringLiteral("changed"), changed},
                        {QStringLiteral("problems"), QJsonArray::fromStringList(problems)}}));
        done();
    });
}

} // namespace portico

#include "daemon.h"

#include "admin/adminserver.h"
#include "deploytransaction.h"
#include "metrics/metricsserver.h"
#include "net/accesslog.h"
#include "net/filelimit.h"
#include "net/listenermanager.h"
#include "net/loop/bufferpool.h"
#include "net/loop/fdbudget.h"
#include "net/workerpool.h"
#include "operationqueue.h"
#include "projectlogs.h"
#include "protocol.h"
#include "routing/planner.h"
#include "routing/routetable.h"
#include "runtime/backend.h"
#include "runtime/backendaccount.h"
#include "runtime/containment.h"
#include "runtime/portallocator.h"
#include "statetree.h"
#include "store/projectstore.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPointer>
#include <QTimer>

#include <cstring>
#include <map>

Q_LOGGING_CATEGORY(lcDaemon, "portico.daemon", QtInfoMsg)

namespace portico {

namespace {

QJsonValue exitJson(const std::optional<ProcessExit> &e) {
    if (!e)
        return QJsonValue::Null;
    QJsonObject o{{QStringLiteral("at"), e->at.toString(Qt::ISODateWithMs)}};
    if (e->signal == 0) {
        o.insert(QStringLiteral("code"), e->code);
    } else {
        o.insert(QStringLiteral("signal"), e->signal);
        const char *abbrev = ::sigabbrev_np(e->signal);
        o.insert(QStringLiteral("signal_name"), abbrev ? QStringLiteral("SIG") + QLatin1String(abbrev)
                                                       : QStringLiteral("signal %1").arg(e->signal));
    }
    return o;
}

// A route's rates before a tick measured any: zeros, in the shape of a measured one.
QJsonObject zeroRates() {
    return {{QStringLiteral("bytes_in_per_s"), 0},
            {QStringLiteral("bytes_out_per_s"), 0},
            {QStringLiteral("requests_per_s"), 0},
            {QStringLiteral("errors_per_s"), 0}};
}

} // namespace

struct Daemon::Impl final : DeployPorts, BackendMaker, StateWriter, DeploySink {
    Daemon *q = nullptr;
    Config config;
    ProjectStore store;
    RouteTableHolder routes;
    std::unique_ptr<WorkerPool> workers;
    std::unique_ptr<AccessLog> accessLog;
    std::unique_ptr<ListenerManager> listeners;
    std::unique_ptr<AdminServer> admin;
    std::unique_ptr<MetricsServer> metrics; // only with metrics_listen
    std::unique_ptr<PortAllocator> ports;
    std::unique_ptr<BackendAccount> account;
    std::unique_ptr<Containment> containment;
    RuntimeContext runtime;
    QElapsedTimer uptime;
    ListenerId ingressId = 0;
    quint16 ingressPort = 0;
    std::shared_ptr<RouteStats> ingressStats = std::make_shared<RouteStats>();
    ProjectSet state;
    ProjectLogs logs;
    QTimer retryTimer;
    QTimer statsTimer;
    bool shuttingDown = false;

    // Changes of one project run in order; different projects' run at once.
    OperationQueue operations;
    // The deploy in progress of each project (at most one: see operations).
    std::map<QString, std::unique_ptr<DeployTransaction>> inFlight;

    // Rates, sampled at 1 Hz.
    struct Sample {
        RouteCounters counters;
        qint64 atMs = 0;
    };
    QHash<QString, Sample> lastSample;
    QHash<QString, QJsonObject> rates;
    qint64 lastTickMs = 0;

    Impl(Daemon *daemon, const Config &c) : q(daemon), config(c), store(c.stateDir), logs(c.logRingLines) {}

    DeployEnv deployEnv() {
        DeployEnv env;
        env.state = &state;
        env.ports = this;
        env.backends = this;
        env.store = this;
        env.sink = this;
        env.limits = {ingressPort, config.reservedPorts, config.allowedPortMin, config.allowedPortMax};
        env.readyTimeoutMs = config.readyTimeoutMs;
        env.drainTimeoutMs = config.drainTimeoutMs;
        return env;
    }

    // ---- what a deploy asks of the daemon ------------------------------------------

    bool probe(const ListenSpec &spec, QString *error) override {
        return ListenerManager::probe(config.bind, spec.port, spec.transport(), error);
    }
    ListenerId open(const QString &project, const ListenSpec &spec, const std::shared_ptr<RouteStats> &stats,
                    QString *error) override {
        ListenerOptions o;
        o.address = config.bind;
        o.port = spec.port;
        o.protocol = spec.protocol;
        o.project = project;
        o.proxyProtocol = spec.proxyProtocol;
        o.stats = stats;
        return listeners->open(o, error);
    }
    void close(ListenerId id) override { listeners->close(id); }
    void drain(ListenerId id) override { listeners->drain(id, config.drainTimeoutMs); }
    std::unique_ptr<Backend> create(const Manifest &m, const QString &sourceDir, QString *error,
                                    RefusalKind *kind) override {
        auto backend = createBackend(m, sourceDir, runtime, error, kind);
        if (backend)
            captureOutput(m.name, backend.get());
        return backend;
    }
    bool save(const StoredProject &project, QString *error) override { return store.save(project, error); }
    void event(const QString &kind, const QJsonObject &data) override { Q_EMIT q->event(kind, data); }

    void publish() override {
        auto table = buildRouteTable(state, ingressPort, ingressStats);
        const QJsonArray rows = table->toJson();
        routes.publish(std::move(table));
        event(QString::fromLatin1(protocol::event::RoutesChanged), {{QStringLiteral("routes"), rows}});
    }

    void watch(const QString &name, Backend *backend) override {
        QObject::connect(backend, &Backend::stateChanged, q, [this, name, backend] {
            auto it = state.projects.find(name);
            if (it == state.projects.end() || it->second.backend.get() != backend)
                return;
            it->second.failure.clear();
            publish();
            // The words of the routes and projects.get: active, backoff, ...
            QString why;
            const QString s = routeState(it->second, &why);
            event(QString::fromLatin1(protocol::event::ProjectState), {{QStringLiteral("project"), name},
                                                                       {QStringLiteral("state"), s},
                                                                       {QStringLiteral("reason"), why}});
        });
        QObject::connect(backend, &Backend::targetChanged, q, [this, name, backend] {
            auto it = state.projects.find(name);
            if (it != state.projects.end() && it->second.backend.get() == backend)
                publish();
        });
    }
    void unwatch(Backend *backend) override { backend->disconnect(q); }

    // Every line a backend prints, from its first (before it is ready, and when its deploy
    // is refused): kept by name and sent as an event.
    void captureOutput(const QString &name, Backend *backend) {
        QObject::connect(backend, &Backend::logLine, q, [this, name](const QString &text, LogStream stream) {
            QJsonObject data = logs.append(name, stream, text).toJson();
            data.insert(QStringLiteral("project"), name);
            event(QString::fromLatin1(protocol::event::Log), data);
        });
    }

    // Exactly this manifest from this folder runs now. (A project that did not come up is
    // not "running": deploying it again is how it gets another chance.)
    bool runsAlready(const Manifest &m, const QString &sourceDir) const {
        const Project *p = state.find(m.name);
        return p && p->failure.isEmpty() && p->backend && p->stored == StoredProject{m, sourceDir};
    }

    // The answer to a deploy of what runs already: nothing to do, and nothing is changed.
    std::optional<ApiResult> unchanged(const DeployRequest &req) {
        if (!runsAlready(req.manifest, req.sourceDir))
            return std::nullopt;
        const Project &p = state.projects.at(req.manifest.name);
        const Plan plan = planDeploy(state.claims(), req.manifest, &p.stored.manifest, deployEnv().limits);
        QJsonObject o = projectJson(req.manifest.name, p, plan.diff.toJson());
        o.insert(QStringLiteral("unchanged"), true);
        return ApiResult::success(o);
    }

    // ---- deploy -------------------------------------------------------------------

    std::optional<ApiResult> checkSourceDir(const Manifest &m, QString *sourceDir) const {
        if (sourceDir->isEmpty()) {
            // deno, static and dockerfile read their entry from the manifest's folder; a
            // process runs from PATH or an absolute command; a static root given as an
            // absolute path needs no base.
            const bool absoluteStatic = m.runtime == RuntimeKind::Static && QFileInfo(m.entry).isAbsolute();
            const bool needsFiles =
                m.runtime != RuntimeKind::Upstream && m.runtime != RuntimeKind::Process && !absoluteStatic;
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

    // Runs a deploy as the project's current operation; done() when it has answered.
    void runDeploy(const DeployRequest &req, const ApiReply &reply, const OperationQueue::Done &done) {
        const QString name = req.manifest.name;
        auto t = std::make_unique<DeployTransaction>(
            deployEnv(), req, [this, name, reply, done](const ApiResult &r) {
                // It may be calling us from its own stack: delete it later.
                if (auto it = inFlight.find(name); it != inFlight.end()) {
                    it->second.release()->deleteLater();
                    inFlight.erase(it);
                }
                if (r.ok()) {
                    const auto p = state.projects.find(name);
                    reply(ApiResult::success(projectJson(
                        name, p->second, r.result.toObject().value(QStringLiteral("diff")).toObject())));
                } else {
                    // What a refused new project printed stays readable by its name.
                    if (state.projects.count(name) == 0)
                        logs.keepRefused(name);
                    reply(r);
                }
                done();
            });
        DeployTransaction *raw = t.get();
        inFlight[name] = std::move(t);
        raw->run();
    }

    QJsonObject projectJson(const QString &name, const Project &p, const QJsonObject &diff = {}) const {
        QString reason;
        const QString s = routeState(p, &reason);
        QJsonArray routeRows;
        const auto table = routes.current();
        for (const auto &r : table->rowsWithCounters()) {
            if (r.project == name)
                routeRows.append(r.toJson());
        }
        QJsonObject o{{QStringLiteral("name"), name},
                      {QStringLiteral("runtime"), runtimeName(p.stored.manifest.runtime)},
                      {QStringLiteral("state"), s},
                      {QStringLiteral("manifest"), p.stored.manifest.toJson()},
                      {QStringLiteral("source_dir"), p.stored.sourceDir},
                      {QStringLiteral("routes"), routeRows}};
        if (!reason.isEmpty())
            o.insert(QStringLiteral("reason"), reason);
        if (p.backend)
            o.insert(QStringLiteral("backend"), p.backend->target().describe());
        const ProcessStatus ps = p.backend ? p.backend->processStatus() : ProcessStatus{};
        o.insert(QStringLiteral("pid"), ps.pid > 0 ? QJsonValue(double(ps.pid)) : QJsonValue::Null);
        o.insert(QStringLiteral("started_at"), ps.startedAt.isValid()
                                                   ? QJsonValue(ps.startedAt.toString(Qt::ISODateWithMs))
                                                   : QJsonValue::Null);
        o.insert(QStringLiteral("uptime_ms"),
                 ps.uptimeMs >= 0 ? QJsonValue(double(ps.uptimeMs)) : QJsonValue::Null);
        o.insert(QStringLiteral("restarts"), ps.restarts);
        o.insert(QStringLiteral("last_exit"), exitJson(ps.lastExit));
        o.insert(QStringLiteral("env_names"), QJsonArray::fromStringList(p.stored.manifest.env.keys()));
        if (!diff.isEmpty())
            o.insert(QStringLiteral("diff"), diff);
        return o;
    }

    // ---- undeploy -----------------------------------------------------------------

    void runUndeploy(const QString &name, const ApiReply &reply, const OperationQueue::Done &done) {
        auto it = state.projects.find(name);
        if (it == state.projects.end()) {
            reply(ApiResult::failure(protocol::error::NotFound,
                                     QStringLiteral("no project named '%1'").arg(name),
                                     {{QStringLiteral("project"), name}}));
            done();
            return;
        }
        QString error;
        if (!store.remove(name, &error)) {
            reply(ApiResult::failure(protocol::error::StateWriteFailed,
                                     QStringLiteral("cannot save project state: %1").arg(error),
                                     {{QStringLiteral("project"), name}}));
            done();
            return;
        }
        Project p = std::move(it->second);
        state.projects.erase(it);
        logs.drop(name);
        const QString text =
            p.backend && p.backend->target().isValid() ? p.backend->target().describe() : QString();
        bool hasListeners = false;
        for (const auto &b : p.bindings) {
            if (b.id) {
                state.draining[b.id] = {name, b.spec, b.stats, text};
                drain(b.id);
                hasListeners = true;
            }
        }
        publish();
        // In-flight requests on the ingress and draining listeners may still use the backend.
        const int stopDelay = hasListeners || p.stored.manifest.isPathRouted() ? config.drainTimeoutMs : 0;
        if (p.backend)
            unwatch(p.backend.get());
        stopBackendLater(std::move(p.backend), stopDelay, nullptr);
        event(QString::fromLatin1(protocol::event::ProjectUndeployed), {{QStringLiteral("project"), name}});
        reply(ApiResult::success(
            QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("undeployed"), true}}));
        done();
    }

    // ---- periodic -----------------------------------------------------------------

    // Projects whose ports were busy at start get them as soon as they are free.
    void retryConflicts() {
        bool changed = false;
        for (auto &[name, p] : state.projects) {
            for (auto &b : p.bindings) {
                if (b.id != 0 || b.conflict.holder != QLatin1String("host"))
                    continue;
                QString error;
                b.id = open(name, b.spec, b.stats, &error);
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
            QJsonObject rate = zeroRates();
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
                     delta(r.counters.requests, previous.counters.requests)},
                    {QStringLiteral("errors_per_s"), delta(r.counters.errors, previous.counters.errors)}};
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
    // Deploys in progress let go of their ports and backends.
    d->inFlight.clear();
    // Workers go first: their connections use the access log, the route table and the
    // listener manager's contexts.
    if (d->listeners)
        d->listeners->closeAll();
    d->workers.reset();
    for (auto &[name, p] : d->state.projects) {
        if (p.backend)
            p.backend->stop();
    }
}

bool Daemon::start(QString *error) {
    d->uptime.start();
    statetree::restrictNewFiles();
    QStringList loose;
    if (!statetree::secure(d->config.stateDir, &loose, error))
        return false;
    for (const QString &w : std::as_const(loose))
        qCWarning(lcDaemon).noquote() << w;
    {
        // The data plane's descriptor budget leaves room for every admin client allowed.
        const qint64 nofile = softFileLimit();
        if (FdBudget::reserveCapped(nofile, d->config.adminMaxClients))
            qCWarning(lcDaemon).noquote()
                << QStringLiteral("admin_max_clients %1 does not fit the descriptor limit %2: under a "
                                  "flood of connections some admin clients may be refused; raise "
                                  "LimitNOFILE or lower admin_max_clients")
                       .arg(d->config.adminMaxClients)
                       .arg(nofile);
        d->workers = std::make_unique<WorkerPool>(d->config.workers, nullptr,
                                                  FdBudget::forFileLimit(nofile, d->config.adminMaxClients));
    }
    d->accessLog = std::make_unique<AccessLog>(d->config.accessLog);
    d->listeners =
        std::make_unique<ListenerManager>(d->config, &d->routes, d->workers.get(), d->accessLog.get());
    d->ports = std::make_unique<PortAllocator>(d->config.backendPortMin, d->config.backendPortMax);
    d->account = std::make_unique<BackendAccount>(d->config);
    d->containment = std::make_unique<Containment>();
    d->containment->setUp(d->config.backendCgroup);
    qCInfo(lcDaemon).noquote() << d->account->describe() << QStringLiteral("; descendants contained by")
                               << d->containment->describe();
    d->runtime.config = &d->config;
    d->runtime.ports = d->ports.get();
    d->runtime.account = d->account.get();
    d->runtime.containment = d->containment.get();
    d->runtime.logDir = d->config.stateDir + QStringLiteral("/logs");
    d->runtime.resourcesDir = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/portico");

    connect(d->listeners.get(), &ListenerManager::drained, this, [this](ListenerId id) {
        d->listeners->close(id);
        if (d->state.draining.erase(id))
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

    // Before the persisted projects start, so that their deploys are counted.
    if (!d->config.metricsListen.isEmpty()) {
        QHostAddress address;
        quint16 port = 0;
        QString why;
        d->metrics = std::make_unique<MetricsServer>(this);
        if (!parseListenAddress(d->config.metricsListen, &address, &port, &why) ||
            !d->metrics->listen(address, port, &why)) {
            *error = QStringLiteral("cannot listen on %1 for metrics: %2").arg(d->config.metricsListen, why);
            d->admin->close();
            d->listeners->closeAll();
            return false;
        }
    }

    // Persisted projects: each comes up on its own; none can stop the daemon.
    QStringList problems;
    const auto stored = d->store.loadAll(&problems);
    auto startupLeft = std::make_shared<qsizetype>(stored.size());
    for (const auto &sp : stored) {
        const DeployRequest req{sp.manifest, sp.sourceDir, true};
        d->operations.run(req.manifest.name, [this, req, startupLeft](const OperationQueue::Done &done) {
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
    if (d->metrics)
        d->metrics->close();
    if (d->listeners)
        d->listeners->closeAll();
    // Stop every backend; give up waiting after the grace period plus a margin.
    auto remaining = std::make_shared<int>(0);
    auto finished = std::make_shared<bool>(false);
    auto finish = [done, finished] {
        if (!std::exchange(*finished, true))
            done();
    };
    for (auto &[name, p] : d->state.projects) {
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
            {QStringLiteral("metrics_address"),
             d->metrics ? QJsonValue(d->metrics->address()) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("state_dir"), d->config.stateDir},
            {QStringLiteral("workers"), d->workers ? d->workers->size() : 0},
            {QStringLiteral("backends"),
             QJsonObject{
                 {QStringLiteral("user"), d->account ? d->account->describe() : QString()},
                 {QStringLiteral("containment"), d->containment ? d->containment->describe() : QString()}}},
            {QStringLiteral("projects"), int(d->state.projects.size())},
            {QStringLiteral("listeners"), routesToJson(d->routes.current()->rowsWithCounters())}};
}

QList<RouteInfo> Daemon::routes() const {
    return d->routes.current()->rowsWithCounters();
}

QJsonArray Daemon::projects() const {
    QJsonArray a;
    for (const auto &[name, p] : d->state.projects)
        a.append(d->projectJson(name, p));
    return a;
}

std::optional<QJsonObject> Daemon::project(const QString &name) const {
    auto it = d->state.projects.find(name);
    if (it == d->state.projects.end())
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
    const Plan plan = planOnHost(d->deployEnv(), *parsed.manifest);
    if (!plan.ok()) {
        reply(conflictResult(parsed.manifest->name, plan));
        return;
    }
    // What the deploy would find before it binds and starts, so that "valid" holds.
    const QJsonObject diff = plan.diff.toJson();
    const bool unchanged = d->runsAlready(*parsed.manifest, dir);
    preflight(d->deployEnv(), *parsed.manifest, dir, this, [reply, diff, unchanged](const ApiResult &r) {
        if (!r.ok()) {
            reply(r);
            return;
        }
        reply(
            ApiResult::success(QJsonObject{{QStringLiteral("ok"), true},
                                           {QStringLiteral("project"), r.result.toObject().value("project")},
                                           {QStringLiteral("unchanged"), unchanged},
                                           {QStringLiteral("diff"), diff}}));
    });
}

void Daemon::deploy(const QJsonValue &manifest, const QString &sourceDir, const PeerInfo &,
                    const ApiReply &reply) {
    const auto parsed = Manifest::parse(manifest);
    if (!parsed.ok()) {
        const ApiResult r = ApiResult::failure(
            protocol::error::ValidationFailed,
            QStringLiteral("the manifest is invalid: %1").arg(parsed.errors.first().toString()),
            {{QStringLiteral("errors"), parsed.errorsJson()}});
        QJsonObject data = r.errorData;
        data.insert(QStringLiteral("project"), manifest.toObject().value(QStringLiteral("name")).toString());
        data.insert(QStringLiteral("message"), r.errorMessage);
        d->event(QString::fromLatin1(protocol::event::DeployRefused), data);
        reply(r);
        return;
    }
    QString dir = sourceDir;
    if (auto bad = d->checkSourceDir(*parsed.manifest, &dir)) {
        reply(*bad);
        return;
    }
    const DeployRequest req{*parsed.manifest, dir, false};
    d->operations.run(req.manifest.name, [this, req, reply](const OperationQueue::Done &done) {
        if (auto same = d->unchanged(req)) {
            reply(*same);
            done();
            return;
        }
        // The output kept from an earlier refused deploy of this name ends here.
        if (d->state.projects.count(req.manifest.name) == 0)
            d->logs.drop(req.manifest.name);
        d->runDeploy(req, reply, done);
    });
}

void Daemon::undeploy(const QString &name, const PeerInfo &, const ApiReply &reply) {
    d->operations.run(
        name, [this, name, reply](const OperationQueue::Done &done) { d->runUndeploy(name, reply, done); });
}

void Daemon::restart(const QString &name, const PeerInfo &, const ApiReply &reply) {
    d->operations.run(name, [this, name, reply](const OperationQueue::Done &done) {
        auto it = d->state.projects.find(name);
        if (it == d->state.projects.end()) {
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
            const DeployRequest req{p.stored.manifest, p.stored.sourceDir, true};
            for (const auto &b : p.bindings)
                if (b.id)
                    d->close(b.id);
            d->state.projects.erase(it);
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
    const bool deployed = d->state.projects.count(name) > 0;
    if (!deployed && !d->logs.isRefused(name))
        return ApiResult::failure(protocol::error::NotFound,
                                  QStringLiteral("no project named '%1'").arg(name),
                                  {{QStringLiteral("project"), name}});
    return ApiResult::success(QJsonObject{{QStringLiteral("project"), name},
                                          {QStringLiteral("deployed"), deployed},
                                          {QStringLiteral("lines"), d->logs.tail(name, lines)}});
}

QJsonObject Daemon::stats() const {
    QJsonArray rows;
    for (const auto &r : d->routes.current()->rowsWithCounters()) {
        QJsonObject o = r.toJson();
        const QString key = QStringLiteral("%1/%2/%3").arg(r.hostPort).arg(r.protocol, r.project);
        // A route newer than the last tick has no rate yet.
        o.insert(QStringLiteral("rates"), d->rates.value(key, zeroRates()));
        rows.append(o);
    }
    QJsonObject dataPlane;
    if (d->workers) {
        const WorkerPool::Stats s = d->workers->stats();
        dataPlane = {{QStringLiteral("workers"), d->workers->size()},
                     {QStringLiteral("buffers_in_use"), double(s.buffersInUse)},
                     {QStringLiteral("buffers_cached"), double(s.buffersCached)},
                     {QStringLiteral("buffers_peak"), double(s.buffersPeak)},
                     {QStringLiteral("buffer_bytes"), double(BufferPool::kBlockSize)},
                     {QStringLiteral("descriptors_in_use"), double(s.descriptorsInUse)},
                     {QStringLiteral("descriptor_budget"), double(s.descriptorBudget)},
                     {QStringLiteral("wakeups"), double(s.wakeups)}};
    }
    return {{QStringLiteral("time"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
            {QStringLiteral("uptime_ms"), double(d->uptime.elapsed())},
            {QStringLiteral("routes"), rows},
            {QStringLiteral("data_plane"), dataPlane}};
}

void Daemon::reload(const PeerInfo &, const ApiReply &reply) {
    // Re-reads the project store and brings the running projects in line with it: a file
    // changed by hand is redeployed, a removed one undeployed, a new one deployed.
    // It compares every project with its file: nothing else runs meanwhile.
    d->operations.runExclusive([this, reply](const OperationQueue::Done &done) {
        QStringList problems;
        const auto stored = d->store.loadAll(&problems);
        QSet<QString> names;
        int changed = 0;
        for (const auto &sp : stored) {
            names.insert(sp.manifest.name);
            auto it = d->state.projects.find(sp.manifest.name);
            if (it != d->state.projects.end() && it->second.stored == sp)
                continue;
            ++changed;
            const DeployRequest req{sp.manifest, sp.sourceDir, true};
            d->operations.run(req.manifest.name, [this, req](const OperationQueue::Done &next) {
                d->runDeploy(
                    req, [](const ApiResult &) {}, next);
            });
        }
        QStringList gone;
        for (const auto &[name, p] : d->state.projects)
            if (!names.contains(name))
                gone << name;
        for (const auto &name : gone) {
            ++changed;
            d->operations.run(name, [this, name](const OperationQueue::Done &next) {
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

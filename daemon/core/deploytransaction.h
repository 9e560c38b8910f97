#pragma once

#include "admin/adminapi.h"
#include "project.h"

#include <QObject>
#include <QTimer>

#include <functional>

namespace portico {

// What to deploy.
struct DeployRequest {
    Manifest manifest;
    QString sourceDir;
    // The manifest comes from the project store (daemon start, reload, restart of a project
    // that never came up): it is not written again; a port in conflict does not refuse (its
    // route shows the conflict), and a new project whose backend does not come up keeps its
    // place as `failed`.
    bool fromStore = false;
};

// The collaborators of a deploy, one small interface per step, so that each step can be
// made to fail in a test. Daemon::Impl implements them over the listener manager, the
// runtimes, the project store and the routing table.

// The host's ports: the test bind of the plan, the bind, and letting go.
class DeployPorts {
public:
    virtual ~DeployPorts() = default;
    virtual bool probe(const ListenSpec &spec, QString *error) = 0;
    virtual ListenerId open(const QString &project, const ListenSpec &spec,
                            const std::shared_ptr<RouteStats> &stats, QString *error) = 0;
    virtual void close(ListenerId id) = 0;
    // Stops accepting and lets the open connections finish (drain_timeout_ms at most).
    virtual void drain(ListenerId id) = 0;
};

// Makes the backend of a manifest (not started). Null with *error, and *kind saying whether
// the runtime itself is unavailable (1005) or the backend could not be made (1004).
class BackendMaker {
public:
    virtual ~BackendMaker() = default;
    virtual std::unique_ptr<Backend> create(const Manifest &manifest, const QString &sourceDir,
                                            QString *error, RefusalKind *kind) = 0;
};

// Persists a deployed project.
class StateWriter {
public:
    virtual ~StateWriter() = default;
    virtual bool save(const StoredProject &project, QString *error) = 0;
};

// The rest of the daemon: the routing table, the backend watchers, the event stream.
class DeploySink {
public:
    virtual ~DeploySink() = default;
    virtual void publish() = 0;
    virtual void watch(const QString &project, Backend *backend) = 0;
    virtual void unwatch(Backend *backend) = 0;
    virtual void event(const QString &kind, const QJsonObject &data) = 0;
};

struct DeployEnv {
    ProjectSet *state = nullptr;
    DeployPorts *ports = nullptr;
    BackendMaker *backends = nullptr;
    StateWriter *store = nullptr;
    DeploySink *sink = nullptr;
    PlannerLimits limits;
    int readyTimeoutMs = 30'000; // the backend's own; the transaction waits a margin longer
    int readyMarginMs = 5'000;   // (the backend's verdict comes first, unless it hangs)
    int drainTimeoutMs = 10'000; // how long a replaced backend may finish what it carries
};

// Plans a deploy against the live state (deployed projects and the ports of deploys in
// progress) and test-binds every new port on the host. Changes nothing.
Plan planOnHost(const DeployEnv &env, const Manifest &manifest);
// The 1002 answer for a plan with conflicts.
ApiResult conflictResult(const QString &project, const Plan &plan);
// Every check of a deploy short of binding and starting: the backend is made (its files,
// its runtime's program) and asked what its start would find wrong (a program that cannot
// be started, no Docker engine); nothing runs. done(success) or the refusal the deploy
// would give (1004, 1005), maybe later; not called once `context` is gone.
void preflight(const DeployEnv &env, const Manifest &manifest, const QString &sourceDir, QObject *context,
               const std::function<void(const ApiResult &)> &done);

// One deploy, from plan to publish:
//   plan (conflicts refuse) -> reserve the new ports -> create the backend -> bind the new
//   ports -> start the backend and wait until it is ready -> persist the manifest ->
//   swap the project in and publish the routing table -> drain what the old version
//   held and stop its backend after the drain timeout -> events -> answer.
// A failure at any step unwinds what this deploy did (closes the ports it bound, stops
// the backend it started, releases its reservation): the running version, its routes
// and its file stay as they were.
// Lives in the control thread. Destroying a transaction still in flight unwinds it
// without an answer (the daemon is going away).
class DeployTransaction final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeployTransaction)
public:
    enum class Step { Idle, Starting, Done };
    using Finished = std::function<void(const ApiResult &)>;

    DeployTransaction(const DeployEnv &env, DeployRequest request, Finished finished,
                      QObject *parent = nullptr);
    ~DeployTransaction() override;

    // Runs the steps up to starting the backend; the rest follows its ready() or failed().
    // `finished` is called exactly once (maybe inside run()), after which the owner may
    // delete the transaction (with deleteLater() when inside the call).
    void run();
    Step step() const { return m_step; }
    QString project() const { return m_request.manifest.name; }

private:
    bool bind(bool refuseOnConflict);
    void onReady();
    void unwind(int code, const QString &message, const QJsonObject &data);
    void registerFailed(const QString &reason);
    void commit();
    void release();
    void finish(const ApiResult &result);

    DeployEnv m_env;
    DeployRequest m_request;
    Finished m_finished;
    Step m_step = Step::Idle;
    Plan m_plan;
    BackendPtr m_backend;
    QList<Binding> m_opened; // this deploy's new listen entries (bound or in conflict)
    bool m_bound = false;
    QTimer m_guard;
};

} // namespace portico

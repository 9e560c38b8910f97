#pragma once

#include "config/config.h"
#include "manifest.h"
#include "routing/routetable.h"

#include <QDateTime>
#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcRuntime)

namespace portico {

enum class BackendState { Stopped, Starting, Running, Backoff, Crashed, Unhealthy };
// Why a backend could not be made or did not come up, in the admin protocol's terms:
// the backend itself failed (1004), or what its runtime needs is not there (1005: no Docker
// engine, no backend user).
enum class RefusalKind { BackendFailed, RuntimeUnavailable };
QString
backendStateName(BackendState s); // "stopped", "starting", "running", "backoff", "crashed", "unhealthy"

class BackendAccount;
class Containment;
class PortAllocator;

// Where a line of a project's log came from: the backend's stdout or stderr, or the
// daemon itself ("portico: started ...", "portico: process exited with code 1").
enum class LogStream { Stdout, Stderr, Portico };
QString logStreamName(LogStream s); // "stdout", "stderr", "portico"

// How a backend process ended: an exit code, or the signal that killed it.
struct ProcessExit {
    int code = 0;   // when signal == 0
    int signal = 0; // e.g. 9 for SIGKILL
    QDateTime at;   // UTC
};

// What a person asks first about a running backend (projects.list / projects.get).
struct ProcessStatus {
    qint64 pid = 0;                      // 0: no process now
    QDateTime startedAt;                 // UTC; invalid when no process runs
    qint64 uptimeMs = -1;                // monotonic; -1 when no process runs
    int restarts = 0;                    // supervised and asked-for restarts of this backend
    std::optional<ProcessExit> lastExit; // the previous process's end, if any
};

// What every runtime needs from the daemon.
struct RuntimeContext {
    const Config *config = nullptr;
    PortAllocator *ports = nullptr; // free loopback ports for process/deno backends
    QString logDir;                 // per-project log files: <logDir>/<project>.log
    QString resourcesDir;           // not needed by the runtimes: the deno bootstrap is embedded
    // Who process/deno backends run as and where they may write; null: as the daemon's
    // user, with the daemon's PATH and HOME (tests that drive a runtime directly).
    const BackendAccount *account = nullptr;
    // Ends every descendant of a backend with it; null: its session and process group only.
    // Guarded: a backend deleted late (deleteLater) may outlive the daemon's containment.
    QPointer<Containment> containment;

    // Supervision of process/deno backends (defaults are the product's; tests shrink them).
    int backoffBaseMs = 1'000;  // first restart delay after a crash; doubles each time
    int backoffMaxMs = 60'000;  // ceiling of the restart delay
    int stableResetMs = 60'000; // running this long resets the delay to backoffBaseMs
    int udpReadyMs = 300;       // udp-only backends are ready when still alive after this
    int readyPollMs = 50;       // how often readiness connect attempts are made
};

// A project's backend: what runs behind its routes. Lives in the control thread.
// Lifecycle: start() -> ready() or failed(reason); stop() -> stopped(). A backend that
// crashes after ready() is supervised (restarted with backoff) and reports every change
// through stateChanged(); its target may change on restart (targetChanged()).
// Details the owner relies on:
// - Connect before start(): upstream and static backends emit ready() inside start().
// - ready() comes again after each supervised restart and after restart(); failed() only
//   for a start()/restart() that never became ready (the deploy should unwind).
// - target() is None unless state() is Running (upstream: always its address; static:
//   always its root). targetChanged() whenever that value may have changed.
// - Destroy a backend after stopped(), and never synchronously inside one of its signals
//   (use deleteLater()); a destroyed process backend SIGKILLs its process group.
class Backend : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~Backend() override = default;

    virtual void start() = 0;
    virtual void stop() = 0;                  // SIGTERM, then SIGKILL after the grace period; emits stopped()
    virtual void restart() = 0;               // stop then start, keeping supervision
    virtual BackendTarget target() const = 0; // where to send traffic; None when not serving
    // Host port -> backend port, for a backend that listens on a port of its own per host
    // port (process, deno, dockerfile: PORT_<host port>); empty when target() serves every
    // port. Valid when target() is.
    virtual QHash<quint16, quint16> backendPorts() const { return {}; }
    virtual BackendState state() const = 0;
    virtual QString stateReason() const { return {}; }
    virtual QStringList logTail(int lines) const {
        Q_UNUSED(lines);
        return {};
    }
    virtual qint64 pid() const { return 0; }
    // Runtimes without a process of their own (upstream, static) have none of it.
    virtual ProcessStatus processStatus() const { return {}; }
    // What start() would find wrong before anything runs (a program that cannot be
    // started, no Docker engine), for the dry run: done(empty) when nothing is, else the
    // reason. Never starts anything; may answer later (an engine is asked asynchronously).
    virtual void preflight(const std::function<void(const QString &error)> &done) { done({}); }
    // What the last failed() (or a failed preflight) meant; read it in its receiver.
    virtual RefusalKind failureKind() const { return RefusalKind::BackendFailed; }

    // Exchanges, relays and sessions the data plane is running on this backend now.
    const std::shared_ptr<std::atomic<int>> &inflight() const { return m_inflight; }

Q_SIGNALS:
    void ready();
    void failed(const QString &reason);
    void stateChanged(portico::BackendState state, const QString &reason);
    void targetChanged();
    void stopped();
    void logLine(const QString &line, portico::LogStream stream);

private:
    const std::shared_ptr<std::atomic<int>> m_inflight = std::make_shared<std::atomic<int>>(0);
};

// Makes the backend of a manifest. sourceDir is what relative paths (entry, workdir)
// resolve against. Returns null with *error when it cannot be made (e.g. the dockerfile
// runtime and no Docker engine answers, a static root that does not exist), and *kind
// (when given) saying whether the runtime itself is unavailable.
std::unique_ptr<Backend> createBackend(const Manifest &manifest, const QString &sourceDir,
                                       const RuntimeContext &context, QString *error,
                                       RefusalKind *kind = nullptr);

} // namespace portico

#pragma once

#include "backend.h"
#include "backendaccount.h"
#include "containment.h"
#include "store/statefile.h"

#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QPointer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTimer>

#include <optional>

class QTcpSocket;

namespace portico {

// A host port of a project (its listen entries' number, once for a tcp and a udp entry on
// it). stream: an http or tcp entry listens on it, so readiness is a TCP connect.
struct HostPort {
    quint16 port = 0;
    bool stream = false;
};

// What to run for a supervised backend. "{PORT}" and "{PORT_<host port>}" in arguments are
// replaced by the ports picked at each launch (the docker runtime needs them in `-p`).
struct ProcessSpec {
    QString project; // names the log file and the log lines
    QString program; // absolute, or found on PATH (the one of env, see below)
    QStringList arguments;
    QString workdir; // absolute; entered as the backend's user, so its permissions count
    // The environment is PATH, LANG and HOME (the daemon's own is not passed on: it may
    // hold secrets), then env, then PORT and HOST. With inheritEnvironment (the docker
    // CLI, a helper of the daemon's and not tenant code) it starts from the daemon's.
    QMap<QString, QString> env;
    QString path; // PATH; empty: the daemon's
    QString home; // HOME; empty: the daemon's
    bool inheritEnvironment = false;
    // Started as this user (porticod is root); unset: as the daemon's user.
    std::optional<BackendAccount::Credentials> runAs;
    bool udpOnly = false; // readiness = still running after RuntimeContext::udpReadyMs
    // Each host port gets a backend port of its own, in the environment as PORT_<host port>
    // (the first one's is PORT as well); ready once every stream port accepts. Empty (a
    // path-routed project): PORT only.
    QList<HostPort> hostPorts;
};

// True when the manifest has listen entries and all of them are udp: such a backend
// cannot be probed with a TCP connect.
bool listensUdpOnly(const Manifest &manifest);
// The manifest's host ports in the order of its listen entries, each number once.
QList<HostPort> hostPortsOf(const Manifest &manifest);

// A supervised child process listening on 127.0.0.1:PORT (the process and deno runtimes,
// and the `docker run` of the dockerfile runtime). Everything is asynchronous: readiness is
// polled with non-blocking connects, stop escalates from SIGTERM to SIGKILL on a timer.
// The child runs in its own session/process group (signals reach its children too) and
// dies with the daemon (PR_SET_PDEATHSIG), its own children with it (a controlling
// terminal whose hangup reaches the whole group).
class ProcessBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProcessBackend)
public:
    ProcessBackend(ProcessSpec spec, const RuntimeContext &context, QObject *parent = nullptr);
    // Kills the process group with SIGKILL if still running (prefer stop() and stopped()).
    ~ProcessBackend() override;

    void start() override;
    void stop() override;
    void restart() override;
    BackendTarget target() const override;
    QHash<quint16, quint16> backendPorts() const override;
    BackendState state() const override { return m_state; }
    QString stateReason() const override { return m_reason; }
    QStringList logTail(int lines) const override;
    qint64 pid() const override;
    ProcessStatus processStatus() const override;
    void preflight(const std::function<void(const QString &error)> &done) override;

    quint16 port() const { return m_port; }
    int restartCount() const { return m_restarts; }
    int currentBackoffMs() const { return m_lastBackoffMs; }

private:
    void launch();
    void onStarted();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onStartError(QProcess::ProcessError error);
    void probe();
    void becomeReady();
    void onReadyTimeout();
    void afterExit(const QString &why);
    void scheduleRestart(const QString &why);
    void setState(BackendState state, const QString &reason);
    void readChannel(QProcess::ProcessChannel channel);
    void appendLog(const QString &line, LogStream stream);
    void writeLogFile(const QString &line);
    void flushLogFile();
    void signalGroup(int sig);
    void stopTimers();
    void releasePort();
    bool acquirePort(QString *error);
    bool keepOrAcquire(quint16 *port, QString *error);
    quint16 backendPortOf(qsizetype hostPortIndex) const;
    QList<quint16> probePorts() const; // what must accept before the backend is ready
    quint16 pendingPort() const;       // the first of them that has not accepted yet
    QString pendingPortText() const;   // "127.0.0.1:21002 (PORT_5000)"
    QString portsText() const;         // "PORT=21001" or "PORT=21001 PORT_80=21001 PORT_53=21002"
    QString stderrTail() const;
    void failStart(const QString &reason);
    QByteArray openPtyMaster(); // the slave's name, empty when no pty is available
    void closePtyMaster();
    QProcessEnvironment environment() const;
    void endDescendants(); // after the main process ended: whatever it left behind goes too

    ProcessSpec m_spec;
    RuntimeContext m_context;
    QProcess *m_process = nullptr;
    qint64 m_pgid = 0;
    std::unique_ptr<Containment::Cell> m_cell; // cgroup mode: every descendant's cgroup
    int m_ptyMaster = -1;                      // controlling terminal of the child's session, see launch()
    quint16 m_port = 0;                        // PORT, and the first host port's
    QList<quint16> m_morePorts;                // those of m_spec.hostPorts[1...]
    qsizetype m_accepted = 0;                  // probePorts() that accepted during this start
    BackendState m_state = BackendState::Stopped;
    QString m_reason;

    bool m_supervised = false;       // was ready once: crashes are restarted, not reported as failed()
    bool m_stopping = false;         // stop() in progress
    bool m_restartAfterStop = false; // restart() in progress
    bool m_failedStart = false;      // failed() already emitted for the current process
    int m_attempt = 0;               // consecutive crashes, for the backoff delay
    int m_restarts = 0;
    int m_lastBackoffMs = 0;
    QDateTime m_startedAt; // of the running process (UTC)
    QElapsedTimer m_uptime;
    std::optional<ProcessExit> m_lastExit;

    QTimer m_pollTimer;
    QTimer m_readyTimer;
    QTimer m_udpTimer;
    QTimer m_backoffTimer;
    QTimer m_stableTimer;
    QTimer m_killTimer;
    QPointer<QTcpSocket> m_probe;

    QStringList m_ring;                // stdout and stderr lines, at most Config::logRingLines
    QStringList m_stderrTail;          // last stderr lines, for failure reasons
    QByteArray m_partial[2];           // incomplete line per channel
    std::unique_ptr<AppendFile> m_log; // <logDir>/<project>.log, opened on first output
    QByteArray m_logPending;           // lines of the chunk being read, written at once
    bool m_reading = false;
};

} // namespace portico

#pragma once

#include "backend.h"
#include "processbackend.h"

#include <QProcess>
#include <QTimer>

#include <memory>

namespace portico {

// The dockerfile runtime: asks the engine whether it answers (`docker version`, async with
// a timeout), builds the image (`docker build`), then runs it in the foreground
// (`docker run --rm -p 127.0.0.1:PORT:PORT`) as a supervised ProcessBackend. A container
// of the same name left over (the daemon killed before `--rm` could act) is removed first.
class DockerBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DockerBackend)
public:
    DockerBackend(const Manifest &manifest, const QString &sourceDir, const QString &docker,
                  const RuntimeContext &context, QObject *parent = nullptr);
    ~DockerBackend() override;

    void start() override;
    void stop() override;
    void restart() override;
    BackendTarget target() const override;
    QHash<quint16, quint16> backendPorts() const override;
    BackendState state() const override;
    QString stateReason() const override;
    QStringList logTail(int lines) const override;
    qint64 pid() const override;
    ProcessStatus processStatus() const override;
    // Asks the engine (`docker version`) as start() would, and builds nothing.
    void preflight(const std::function<void(const QString &error)> &done) override;
    RefusalKind failureKind() const override { return m_failureKind; }

    // Where the docker CLI looks for its engine ($DOCKER_HOST or the default socket).
    static QString engineAddress();
    static QString noEngineMessage();

private:
    enum class Phase { Idle, Probe, Build, Clean, Run };
    void runHelper(Phase phase, const QStringList &args, int timeoutMs);
    void helperDone(bool ok, const QString &detail);
    void fail(const QString &reason, RefusalKind kind = RefusalKind::BackendFailed);
    void setOwnState(BackendState state, const QString &reason);

    Manifest m_manifest;
    QString m_sourceDir;
    QString m_docker;
    RuntimeContext m_context;
    Phase m_phase = Phase::Idle;
    QProcess *m_helper = nullptr;
    QTimer m_helperTimeout;
    QByteArray m_helperOutput;
    bool m_stopRequested = false;
    std::function<void(const QString &)> m_preflightDone; // the probe is a dry run's
    BackendState m_state = BackendState::Stopped;
    QString m_reason;
    RefusalKind m_failureKind = RefusalKind::BackendFailed;
    std::unique_ptr<ProcessBackend> m_run;
};

} // namespace portico

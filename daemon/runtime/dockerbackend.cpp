#include "dockerbackend.h"

#include <QCoreApplication>
#include <QDir>

namespace portico {

namespace {
constexpr int kProbeTimeoutMs = 10'000;
constexpr int kBuildTimeoutMs = 30 * 60'000;
constexpr qsizetype kMaxHelperOutput = 64 * 1024;

QString imageName(const QString &project) {
    return QStringLiteral("portico-") + project;
}
} // namespace

DockerBackend::DockerBackend(const Manifest &manifest, const QString &sourceDir, const QString &docker,
                             const RuntimeContext &context, QObject *parent)
    : Backend(parent), m_manifest(manifest), m_sourceDir(sourceDir), m_docker(docker), m_context(context) {
    m_helperTimeout.setSingleShot(true);
    connect(&m_helperTimeout, &QTimer::timeout, this, [this] {
        if (m_helper)
            m_helper->kill(); // finished() follows and reports the timeout
    });
}

DockerBackend::~DockerBackend() {
    if (m_helper) {
        m_helper->disconnect(this);
        m_helper->kill();
    }
}

QString DockerBackend::engineAddress() {
    return qEnvironmentVariable("DOCKER_HOST", QStringLiteral("unix:///var/run/docker.sock"));
}

QString DockerBackend::noEngineMessage() {
    return QStringLiteral("the dockerfile runtime needs a Docker engine, none answers at %1")
        .arg(engineAddress());
}

void DockerBackend::start() {
    if (m_phase != Phase::Idle)
        return;
    m_stopRequested = false;
    setOwnState(BackendState::Starting, QStringLiteral("asking the Docker engine"));
    runHelper(Phase::Probe,
              {QStringLiteral("version"), QStringLiteral("--format"), QStringLiteral("{{.Server.Version}}")},
              qBound(100, m_context.config->readyTimeoutMs, kProbeTimeoutMs));
}

void DockerBackend::preflight(const std::function<void(const QString &error)> &done) {
    if (m_phase != Phase::Idle)
        return done({});
    m_preflightDone = done;
    runHelper(Phase::Probe,
              {QStringLiteral("version"), QStringLiteral("--format"), QStringLiteral("{{.Server.Version}}")},
              qBound(100, m_context.config->readyTimeoutMs, kProbeTimeoutMs));
}

void DockerBackend::runHelper(Phase phase, const QStringList &args, int timeoutMs) {
    m_phase = phase;
    m_helperOutput.clear();
    m_helper = new QProcess(this);
    m_helper->setProcessChannelMode(QProcess::MergedChannels);
    m_helper->setStandardInputFile(QProcess::nullDevice());
    connect(m_helper, &QProcess::readyRead, this, [this] {
        m_helperOutput += m_helper->readAll();
        if (m_helperOutput.size() > kMaxHelperOutput)
            m_helperOutput = m_helperOutput.right(kMaxHelperOutput);
    });
    connect(m_helper, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        const bool timedOut = !m_helperTimeout.isActive();
        m_helperTimeout.stop();
        QString detail = QString::fromUtf8(m_helperOutput).trimmed();
        if (timedOut)
            detail = QStringLiteral("no answer within the timeout");
        helperDone(status == QProcess::NormalExit && code == 0, detail);
    });
    connect(m_helper, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart)
            return;
        m_helperTimeout.stop();
        helperDone(false, m_helper->errorString());
    });
    m_helperTimeout.start(timeoutMs);
    m_helper->start(m_docker, args);
}

void DockerBackend::helperDone(bool ok, const QString &detail) {
    m_helper->disconnect(this);
    m_helper->deleteLater();
    m_helper = nullptr;
    const Phase phase = m_phase;
    if (m_stopRequested) {
        m_phase = Phase::Idle;
        setOwnState(BackendState::Stopped, QStringLiteral("stopped"));
        Q_EMIT stopped();
        return;
    }
    if (phase == Phase::Probe && m_preflightDone) {
        m_phase = Phase::Idle;
        const auto done = std::exchange(m_preflightDone, nullptr);
        if (!ok)
            m_failureKind = RefusalKind::RuntimeUnavailable;
        done(ok ? QString()
                : noEngineMessage() +
                      (detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(detail.left(500))));
        return;
    }
    if (phase == Phase::Probe) {
        if (!ok)
            return fail(noEngineMessage() +
                            (detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(detail.left(500))),
                        RefusalKind::RuntimeUnavailable);
        setOwnState(BackendState::Starting,
                    QStringLiteral("building image %1").arg(imageName(m_manifest.name)));
        const QString dockerfile = QDir(m_sourceDir).absoluteFilePath(m_manifest.effectiveEntry());
        runHelper(Phase::Build,
                  {QStringLiteral("build"), QStringLiteral("-t"), imageName(m_manifest.name),
                   QStringLiteral("-f"), dockerfile, m_sourceDir},
                  kBuildTimeoutMs);
        return;
    }
    if (phase == Phase::Build) {
        if (!ok)
            return fail(QStringLiteral("docker build failed: %1").arg(detail.right(2000)));
        // Failure is fine here: usually there is no such container.
        runHelper(Phase::Clean, {QStringLiteral("rm"), QStringLiteral("-f"), imageName(m_manifest.name)},
                  kProbeTimeoutMs);
        return;
    }
    if (phase == Phase::Clean) {
        m_phase = Phase::Run;
        ProcessSpec spec;
        spec.project = m_manifest.name;
        spec.program = m_docker;
        spec.workdir = m_sourceDir;
        spec.inheritEnvironment = true; // the docker CLI needs DOCKER_HOST, its config...
        spec.udpOnly = listensUdpOnly(m_manifest);
        spec.hostPorts = hostPortsOf(m_manifest);
        spec.arguments = {QStringLiteral("run"), QStringLiteral("--rm"), QStringLiteral("--name"),
                          imageName(m_manifest.name)};
        // The container listens on the ports the daemon picked, each published on loopback
        // by transport: one per listen entry (a tcp and a udp entry on one number share it).
        if (m_manifest.listen.isEmpty())
            spec.arguments << QStringLiteral("-p") << QStringLiteral("127.0.0.1:{PORT}:{PORT}");
        for (const ListenSpec &l : m_manifest.listen) {
            const QString port = QStringLiteral("{PORT_%1}").arg(l.port);
            spec.arguments << QStringLiteral("-p")
                           << QStringLiteral("127.0.0.1:%1:%1").arg(port) +
                                  (l.transport() == Transport::Udp ? QStringLiteral("/udp") : QString());
        }
        spec.arguments << QStringLiteral("-e") << QStringLiteral("PORT={PORT}");
        for (const HostPort &p : spec.hostPorts)
            spec.arguments << QStringLiteral("-e") << QStringLiteral("PORT_%1={PORT_%1}").arg(p.port);
        spec.arguments << QStringLiteral("-e") << QStringLiteral("HOST=0.0.0.0");
        for (auto it = m_manifest.env.cbegin(); it != m_manifest.env.cend(); ++it)
            spec.arguments << QStringLiteral("-e") << it.key() + QLatin1Char('=') + it.value();
        spec.arguments << imageName(m_manifest.name);
        m_run = std::make_unique<ProcessBackend>(spec, m_context);
        connect(m_run.get(), &Backend::ready, this, &Backend::ready);
        connect(m_run.get(), &Backend::failed, this, [this](const QString &reason) {
            m_phase = Phase::Idle;
            m_failureKind = RefusalKind::BackendFailed;
            m_state = m_run->state(); // already announced through the forwarded stateChanged()
            m_reason = reason;
            Q_EMIT failed(reason);
        });
        connect(m_run.get(), &Backend::stateChanged, this, &Backend::stateChanged);
        connect(m_run.get(), &Backend::targetChanged, this, &Backend::targetChanged);
        connect(m_run.get(), &Backend::logLine, this, &Backend::logLine);
        connect(m_run.get(), &Backend::stopped, this, [this] {
            m_phase = Phase::Idle;
            m_state = BackendState::Stopped; // announced by the forwarded stateChanged()
            m_reason = m_run->stateReason();
            // The CLI may have died before it could remove the container. A child of the
            // daemon's, not a detached one: a detached process is an orphan to a subreaper
            // daemon (containment.h), which would end it. It outlives this backend (which
            // is deleted after stopped()) and deletes itself when done.
            auto *rm = new QProcess(QCoreApplication::instance());
            rm->setStandardInputFile(QProcess::nullDevice());
            rm->setStandardOutputFile(QProcess::nullDevice());
            rm->setStandardErrorFile(QProcess::nullDevice());
            connect(rm, &QProcess::finished, rm, &QObject::deleteLater);
            connect(rm, &QProcess::errorOccurred, rm, [rm](QProcess::ProcessError e) {
                if (e == QProcess::FailedToStart)
                    rm->deleteLater();
            });
            rm->start(m_docker, {QStringLiteral("rm"), QStringLiteral("-f"), imageName(m_manifest.name)});
            Q_EMIT stopped();
        });
        m_run->start();
    }
}

void DockerBackend::fail(const QString &reason, RefusalKind kind) {
    m_phase = Phase::Idle;
    m_failureKind = kind;
    setOwnState(BackendState::Crashed, reason);
    Q_EMIT failed(reason);
}

void DockerBackend::stop() {
    m_stopRequested = true;
    if (m_helper) {
        m_helper->kill(); // helperDone() emits stopped()
        return;
    }
    if (m_run && m_phase == Phase::Run) {
        m_run->stop();
        return;
    }
    m_phase = Phase::Idle;
    setOwnState(BackendState::Stopped, QStringLiteral("stopped"));
    Q_EMIT stopped();
}

void DockerBackend::restart() {
    if (m_run && m_phase == Phase::Run)
        m_run->restart();
    else if (m_phase == Phase::Idle)
        start();
}

BackendTarget DockerBackend::target() const {
    return m_run && m_phase == Phase::Run ? m_run->target() : BackendTarget{};
}
QHash<quint16, quint16> DockerBackend::backendPorts() const {
    return m_run && m_phase == Phase::Run ? m_run->backendPorts() : QHash<quint16, quint16>{};
}
BackendState DockerBackend::state() const {
    return m_run && m_phase == Phase::Run ? m_run->state() : m_state;
}
QString DockerBackend::stateReason() const {
    return m_run && m_phase == Phase::Run ? m_run->stateReason() : m_reason;
}
QStringList DockerBackend::logTail(int lines) const {
    return m_run ? m_run->logTail(lines) : QStringList();
}
qint64 DockerBackend::pid() const {
    return m_run ? m_run->pid() : 0;
}

ProcessStatus DockerBackend::processStatus() const {
    return m_run ? m_run->processStatus() : ProcessStatus{};
}

void DockerBackend::setOwnState(BackendState state, const QString &reason) {
    m_state = state;
    m_reason = reason;
    Q_EMIT stateChanged(state, reason);
}

} // namespace portico

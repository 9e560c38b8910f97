#include "backend.h"
#include "backendaccount.h"
#include "denobootstrap.h"
#include "dockerbackend.h"
#include "processbackend.h"
#include "upstreambackend.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

namespace portico {

namespace {

// The static runtime: the daemon serves the files itself, nothing runs.
class StaticBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StaticBackend)
public:
    StaticBackend(const QString &root, Dotfiles dotfiles, QObject *parent = nullptr) : Backend(parent) {
        m_target.kind = BackendTarget::Kind::Static;
        m_target.staticRoot = root;
        m_target.staticDotfiles = dotfiles;
    }
    void start() override {
        m_state = BackendState::Running;
        Q_EMIT stateChanged(m_state, QStringLiteral("serving files from %1").arg(m_target.staticRoot));
        Q_EMIT ready();
    }
    void stop() override {
        m_state = BackendState::Stopped;
        Q_EMIT stateChanged(m_state, QStringLiteral("stopped"));
        Q_EMIT stopped();
    }
    void restart() override { start(); }
    BackendTarget target() const override { return m_target; }
    BackendState state() const override { return m_state; }

private:
    BackendTarget m_target;
    BackendState m_state = BackendState::Stopped;
};

// Resolves a path of the manifest against the project's source directory.
QString underSource(const QString &sourceDir, const QString &path) {
    if (path.isEmpty())
        return QDir(sourceDir).absolutePath();
    return QDir::cleanPath(QDir(sourceDir).absoluteFilePath(path));
}

QString findExecutable(const QString &configured, const QString &fallbackName) {
    const QString name = configured.isEmpty() ? fallbackName : configured;
    if (name.contains(QLatin1Char('/'))) {
        const QFileInfo fi(name);
        return fi.isFile() && fi.isExecutable() ? fi.absoluteFilePath() : QString();
    }
    return QStandardPaths::findExecutable(name);
}

bool checkWorkdir(const QString &dir, QString *error) {
    if (!QFileInfo(dir).isDir()) {
        *error = QStringLiteral("workdir %1 is not a directory").arg(dir);
        return false;
    }
    return true;
}

// What every process-run project's spec holds: where it runs, as whom, with which
// environment. False (with *error, and *kind) when its workdir is unusable or the backend
// user is missing.
bool baseProcessSpec(const Manifest &manifest, const QString &sourceDir, const RuntimeContext &context,
                     ProcessSpec *spec, QString *error, RefusalKind *kind) {
    spec->project = manifest.name;
    spec->workdir = underSource(sourceDir, manifest.workdir);
    spec->env = manifest.env;
    spec->udpOnly = listensUdpOnly(manifest);
    spec->hostPorts = hostPortsOf(manifest);
    if (!checkWorkdir(spec->workdir, error))
        return false;
    if (const BackendAccount *account = context.account) {
        spec->path = account->path();
        if (account->switchesUser()) {
            const BackendAccount::Credentials *c = account->credentials(error);
            if (!c) {
                *kind = RefusalKind::RuntimeUnavailable;
                return false;
            }
            spec->runAs = *c;
            spec->home = account->projectHome(manifest.name, error);
            if (spec->home.isEmpty())
                return false;
        }
    }
    return true;
}

// The program of a process project, found on the PATH its backend gets (not the daemon's:
// root's PATH may list folders the backend user cannot read).
QString findOnPath(const QString &program, const QString &path) {
    if (program.contains(QLatin1Char('/')))
        return program; // absolute, or relative to the workdir the child enters
    const QString dirs = path.isEmpty() ? qEnvironmentVariable("PATH") : path;
    for (const QString &dir : dirs.split(QLatin1Char(':'), Qt::SkipEmptyParts)) {
        const QFileInfo fi(dir + QLatin1Char('/') + program);
        if (fi.isFile() && fi.isExecutable())
            return fi.absoluteFilePath();
    }
    return {};
}

} // namespace

std::unique_ptr<Backend> createBackend(const Manifest &manifest, const QString &sourceDir,
                                       const RuntimeContext &context, QString *error, RefusalKind *kind) {
    QString ignored;
    if (!error)
        error = &ignored;
    RefusalKind ignoredKind;
    if (!kind)
        kind = &ignoredKind;
    *kind = RefusalKind::BackendFailed;
    if (!context.config) {
        *error = QStringLiteral("internal error: no configuration for the runtime");
        return nullptr;
    }
    switch (manifest.runtime) {
    case RuntimeKind::Upstream: {
        const auto target = BackendTarget::fromUpstream(manifest.upstream);
        if (!target) {
            *error = QStringLiteral("upstream \"%1\" is not host:port, [v6]:port or unix:/path")
                         .arg(manifest.upstream);
            return nullptr;
        }
        return std::make_unique<UpstreamBackend>(*target, listensUdpOnly(manifest), context);
    }
    case RuntimeKind::Process: {
        if (manifest.command.isEmpty() || manifest.command.first().isEmpty()) {
            *error = QStringLiteral("the process runtime needs a command");
            return nullptr;
        }
        ProcessSpec spec;
        if (!baseProcessSpec(manifest, sourceDir, context, &spec, error, kind))
            return nullptr;
        spec.program = findOnPath(manifest.command.first(), spec.path);
        if (spec.program.isEmpty()) {
            *error = QStringLiteral("command %1 is not found on the backends' PATH (%2)")
                         .arg(manifest.command.first(),
                              spec.path.isEmpty() ? qEnvironmentVariable("PATH") : spec.path);
            return nullptr;
        }
        spec.arguments = manifest.command.mid(1);
        return std::make_unique<ProcessBackend>(spec, context);
    }
    case RuntimeKind::Deno: {
        const QString deno = findExecutable(context.config->denoPath, QStringLiteral("deno"));
        if (deno.isEmpty()) {
            *error = QStringLiteral(
                         "the deno runtime needs deno: %1 is not an executable (set denoPath or put deno "
                         "on PATH; installer/deps.sh installs it)")
                         .arg(context.config->denoPath.isEmpty() ? QStringLiteral("deno")
                                                                 : context.config->denoPath);
            return nullptr;
        }
        const QString source = QFileInfo(sourceDir).absoluteFilePath();
        const QString entry = underSource(source, manifest.effectiveEntry());
        if (!QFileInfo(entry).isFile()) {
            *error = QStringLiteral("deno entry %1 does not exist").arg(entry);
            return nullptr;
        }
        const QString bootstrap = denoBootstrapPath(error);
        if (bootstrap.isEmpty())
            return nullptr;
        ProcessSpec spec;
        if (!baseProcessSpec(manifest, source, context, &spec, error, kind))
            return nullptr;
        spec.program = deno;
        spec.arguments = {QStringLiteral("run"),
                          QStringLiteral("--allow-net"),
                          QStringLiteral("--allow-env"),
                          QStringLiteral("--allow-read=") + source,
                          QStringLiteral("--no-prompt"),
                          bootstrap,
                          entry};
        QJsonObject env;
        for (auto it = manifest.env.cbegin(); it != manifest.env.cend(); ++it)
            env.insert(it.key(), it.value());
        spec.env.insert(QStringLiteral("PORTICO_ENV"),
                        QString::fromUtf8(QJsonDocument(env).toJson(QJsonDocument::Compact)));
        spec.env.insert(QStringLiteral("PORTICO_PROJECT"), manifest.name);
        spec.env.insert(QStringLiteral("DENO_NO_UPDATE_CHECK"), QStringLiteral("1"));
        spec.env.insert(QStringLiteral("NO_COLOR"), QStringLiteral("1"));
        // Deno's module cache is the project's own when it has a folder (a backend user
        // has no writable home, and one project must not fill another's cache).
        if (!spec.home.isEmpty())
            spec.env.insert(QStringLiteral("DENO_DIR"), spec.home + QStringLiteral("/.cache/deno"));
        return std::make_unique<ProcessBackend>(spec, context);
    }
    case RuntimeKind::Static: {
        const QString dir = underSource(sourceDir, manifest.entry);
        const QFileInfo fi(dir);
        if (!fi.isDir()) {
            *error = QStringLiteral("static root %1 is not a directory").arg(dir);
            return nullptr;
        }
        return std::make_unique<StaticBackend>(fi.canonicalFilePath(), manifest.dotfiles);
    }
    case RuntimeKind::Dockerfile: {
        const QString docker = findExecutable(context.config->dockerPath, QStringLiteral("docker"));
        if (docker.isEmpty()) {
            *kind = RefusalKind::RuntimeUnavailable;
            *error = DockerBackend::noEngineMessage() +
                     QStringLiteral(" (the docker CLI %1 is not installed)")
                         .arg(context.config->dockerPath.isEmpty() ? QStringLiteral("docker")
                                                                   : context.config->dockerPath);
            return nullptr;
        }
        const QString dockerfile = underSource(sourceDir, manifest.effectiveEntry());
        if (!QFileInfo(dockerfile).isFile()) {
            *error = QStringLiteral("Dockerfile %1 does not exist").arg(dockerfile);
            return nullptr;
        }
        return std::make_unique<DockerBackend>(manifest, QFileInfo(sourceDir).absoluteFilePath(), docker,
                                               context);
    }
    }
    *error = QStringLiteral("unknown runtime");
    return nullptr;
}

} // namespace portico

#include "backendfactory.moc"

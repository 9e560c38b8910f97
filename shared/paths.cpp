#include "paths.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico {

namespace paths {

namespace {

bool isRoot() {
    return ::geteuid() == 0;
}

// $XDG_<NAME> when set to an absolute path (the spec says to ignore relative ones), else
// ~/<fallback>.
QString xdgDir(const char *variable, const char *fallback) {
    const QString v = qEnvironmentVariable(variable);
    if (!v.isEmpty() && QDir::isAbsolutePath(v))
        return v;
    return QDir::homePath() + QLatin1Char('/') + QLatin1String(fallback);
}

QString groupName(gid_t gid) {
    // getgrgid in a client (porticoctl, the dashboard), never in the daemon.
    const group *g = ::getgrgid(gid);
    return g ? QString::fromLocal8Bit(g->gr_name) : QString::number(gid);
}

} // namespace

QString defaultConfigFile() {
    if (isRoot())
        return QString::fromLatin1(kSystemConfigFile);
    return xdgDir("XDG_CONFIG_HOME", ".config") + QStringLiteral("/portico/porticod.json");
}

QString defaultStateDir() {
    if (isRoot())
        return QString::fromLatin1(kSystemStateDir);
    return xdgDir("XDG_STATE_HOME", ".local/state") + QStringLiteral("/portico");
}

QString defaultAdminSocket() {
    if (isRoot())
        return QString::fromLatin1(kSystemAdminSocket);
    const QString runtimeDir = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtimeDir.isEmpty() && QDir::isAbsolutePath(runtimeDir))
        return runtimeDir + QStringLiteral("/portico/admin.sock");
    const QString user = qEnvironmentVariable("USER", QString::number(::geteuid()));
    return QDir::tempPath() + QStringLiteral("/portico-%1/portico/admin.sock").arg(user);
}

QString chooseClientSocket(const QString &own, const QString &system) {
    if (own == system)
        return own;
    struct stat st {};
    if (::stat(QFile::encodeName(own).constData(), &st) == 0)
        return own;
    // A socket in a folder we may not enter answers EACCES rather than ENOENT: it is
    // there, and connecting explains who may use it.
    if (::stat(QFile::encodeName(system).constData(), &st) == 0 || errno == EACCES)
        return system;
    return own;
}

QString clientSocket() {
    const QString env = qEnvironmentVariable("PORTICO_SOCKET");
    if (!env.isEmpty())
        return env;
    return chooseClientSocket(defaultAdminSocket(), QString::fromLatin1(kSystemAdminSocket));
}

QString accessDeniedHint(const QString &socketPath) {
    const QByteArray native = QFile::encodeName(socketPath);
    const QByteArray folder = QFile::encodeName(QFileInfo(socketPath).absolutePath());
    struct stat st {};
    gid_t gid = 0;
    bool groupMayConnect = false;
    if (::stat(native.constData(), &st) == 0) {
        gid = st.st_gid;
        groupMayConnect = (st.st_mode & S_IWGRP) != 0;
    } else if (::stat(folder.constData(), &st) == 0) {
        gid = st.st_gid; // the socket's folder keeps us out
        groupMayConnect = (st.st_mode & S_IXGRP) != 0;
    }
    if (groupMayConnect) {
        const QString group = groupName(gid);
        return QStringLiteral("permission denied: members of group '%1' may use this socket; join it with "
                              "'sudo adduser %2 %1', then log in again")
            .arg(group, qEnvironmentVariable("USER", QStringLiteral("$USER")));
    }
    return QStringLiteral("permission denied: only the daemon's own user may use this socket (porticod "
                          "admits a group when its config sets admin_group; the package's service "
                          "uses group '%1')")
        .arg(QLatin1String(kAdminGroup));
}

} // namespace paths

QString defaultAdminSocketPath() {
    return paths::defaultAdminSocket();
}

} // namespace portico

#include "backendaccount.h"

#include "backend.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico {

namespace {

// The PATH of a root-started backend: the system's programs and nothing of root's own
// (no /root/bin, no pyenv shims the backend user could not read anyway).
constexpr auto kSystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

QString errnoText(int e) {
    return QString::fromLocal8Bit(std::strerror(e));
}

// mkdir + exact mode + owner, refusing a link in place of the folder.
bool makeOwnedDir(const QString &path, mode_t mode, uid_t uid, gid_t gid, QString *error) {
    const QByteArray native = QFile::encodeName(path);
    if (::mkdir(native.constData(), mode) != 0 && errno != EEXIST) {
        *error = QStringLiteral("cannot create %1: %2").arg(path, errnoText(errno));
        return false;
    }
    const int fd = ::open(native.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *error = QStringLiteral("cannot open %1: %2").arg(path, errnoText(errno));
        return false;
    }
    const bool ok = ::fchown(fd, uid, gid) == 0 && ::fchmod(fd, mode) == 0;
    const int e = errno;
    ::close(fd);
    if (!ok)
        *error = QStringLiteral("cannot give %1 to uid %2: %3").arg(path).arg(uid).arg(errnoText(e));
    return ok;
}

} // namespace

BackendAccount::BackendAccount(const Config &config)
    : m_userName(config.backendUser), m_baseDir(config.backendDir) {
    if (::geteuid() != 0)
        return;
    lookUp();
    m_switch = !m_found || m_credentials.uid != 0;
}

void BackendAccount::lookUp() const {
    if (m_found)
        return;
    const QByteArray name = m_userName.toLocal8Bit();
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? size_t(size) : 16384);
    passwd pw{};
    passwd *result = nullptr;
    if (::getpwnam_r(name.constData(), &pw, buffer.data(), buffer.size(), &result) != 0 || !result)
        return;
    Credentials c;
    c.user = m_userName;
    c.uid = pw.pw_uid;
    c.gid = pw.pw_gid;
    int count = 32;
    c.groups.resize(size_t(count));
    if (::getgrouplist(name.constData(), pw.pw_gid, c.groups.data(), &count) < 0) {
        c.groups.resize(size_t(count));
        if (::getgrouplist(name.constData(), pw.pw_gid, c.groups.data(), &count) < 0)
            count = 0;
    }
    c.groups.resize(size_t(qMax(count, 0)));
    if (c.groups.empty())
        c.groups.push_back(c.gid);
    m_credentials = c;
    m_found = true;
}

const BackendAccount::Credentials *BackendAccount::credentials(QString *error) const {
    if (!m_switch)
        return nullptr;
    lookUp();
    if (!m_found) {
        *error = QStringLiteral(
                     "backend user '%1' does not exist: porticod runs as root and starts backends only as "
                     "an unprivileged user (the Debian package creates '%1'; elsewhere: adduser --system "
                     "--group --no-create-home %1, or set backend_user)")
                     .arg(m_userName);
        return nullptr;
    }
    return &m_credentials;
}

QString BackendAccount::userName() const {
    return m_switch ? m_userName : QString::fromLocal8Bit(qgetenv("USER"));
}

QString BackendAccount::describe() const {
    if (::geteuid() != 0)
        return QStringLiteral("backends run as uid %1 like porticod itself (not root: no user switch)")
            .arg(::geteuid());
    if (!m_switch)
        return QStringLiteral("backends run as root: backend_user is '%1' (no isolation)").arg(m_userName);
    if (!m_found)
        return QStringLiteral("backend user '%1' does not exist: process and deno deploys are refused")
            .arg(m_userName);
    return QStringLiteral("backends run as '%1' (uid %2), their folders under %3")
        .arg(m_userName)
        .arg(m_credentials.uid)
        .arg(m_baseDir);
}

QString BackendAccount::path() const {
    if (m_switch)
        return QString::fromLatin1(kSystemPath);
    const QString own = qEnvironmentVariable("PATH");
    return own.isEmpty() ? QString::fromLatin1(kSystemPath) : own;
}

QString BackendAccount::projectHome(const QString &project, QString *error) const {
    if (!m_switch)
        return {};
    const Credentials *c = credentials(error);
    if (!c)
        return {};
    if (m_baseDir.isEmpty()) {
        *error = QStringLiteral("no backend_dir configured");
        return {};
    }
    const QString base = QDir::cleanPath(m_baseDir);
    if (!QDir().mkpath(QFileInfo(base).absolutePath())) {
        *error = QStringLiteral("cannot create %1").arg(QFileInfo(base).absolutePath());
        return {};
    }
    // root's, 0711: each backend reaches its own folder by name, none can list the others.
    if (!makeOwnedDir(base, 0711, 0, 0, error))
        return {};
    const QString home = base + QLatin1Char('/') + project;
    if (!makeOwnedDir(home, 0700, c->uid, c->gid, error))
        return {};
    return home;
}

} // namespace portico

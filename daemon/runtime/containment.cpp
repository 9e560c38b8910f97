#include "containment.h"

#include "backend.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace portico {

namespace {

constexpr int kSweepIntervalMs = 5'000;
constexpr int kFollowUpMs = 20;
constexpr int kRemoveRetryMs = 50;
constexpr int kRemoveAttempts = 200; // 10 s

QString errnoText(int e) {
    return QString::fromLocal8Bit(std::strerror(e));
}

QByteArray readSmallFile(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return {};
    return f.read(64 * 1024);
}

bool writeSmallFile(const QString &path, const QByteArray &data) {
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, data.constData(), size_t(data.size())) == data.size();
    ::close(fd);
    return ok;
}

// The daemon's cgroup v2 directory: its path in /proc/self/cgroup ("0::/path") under the
// mount point of the cgroup2 file system (/proc/self/mountinfo).
QString ownCgroupDir(QString *why) {
    QString relative;
    for (const QByteArray &line : readSmallFile(QStringLiteral("/proc/self/cgroup")).split('\n')) {
        if (line.startsWith("0::"))
            relative = QString::fromUtf8(line.mid(3));
    }
    if (relative.isEmpty()) {
        *why = QStringLiteral("no cgroup v2 hierarchy in /proc/self/cgroup");
        return {};
    }
    for (const QByteArray &line : readSmallFile(QStringLiteral("/proc/self/mountinfo")).split('\n')) {
        // id parent major:minor root mountpoint options ... - fstype source superoptions
        const qsizetype dash = line.indexOf(" - ");
        if (dash < 0 || !line.mid(dash + 3).startsWith("cgroup2 "))
            continue;
        const QList<QByteArray> f = line.left(dash).split(' ');
        if (f.size() < 5)
            continue;
        const QString root = QString::fromUtf8(f.at(3));
        const QString mountPoint =
            QString::fromUtf8(f.at(4)).replace(QStringLiteral("\\040"), QStringLiteral(" "));
        if (root != QLatin1String("/") && !relative.startsWith(root))
            continue;
        const QString inside = root == QLatin1String("/") ? relative : relative.mid(root.size());
        return QDir::cleanPath(mountPoint + QLatin1Char('/') + inside);
    }
    *why = QStringLiteral("no cgroup2 file system is mounted");
    return {};
}

bool isDelegated(const QString &dir) {
    const QByteArray native = QFile::encodeName(dir);
    for (const char *name : {"trusted.delegate", "user.delegate"}) {
        char value[8] = {};
        const ssize_t n = ::getxattr(native.constData(), name, value, sizeof value - 1);
        if (n > 0 && value[0] == '1')
            return true;
    }
    return false;
}

bool pidIsAlive(qint64 pid) {
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

// ppid and session of a process from /proc/<pid>/stat; false when it is gone.
bool readStat(qint64 pid, qint64 *ppid, qint64 *sid) {
    const QByteArray stat = readSmallFile(QStringLiteral("/proc/%1/stat").arg(pid));
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return false;
    const QList<QByteArray> f = stat.mid(close + 2).split(' ');
    if (f.size() < 4)
        return false;
    *ppid = f.at(1).toLongLong();
    *sid = f.at(3).toLongLong();
    return true;
}

// The daemon's children (any thread's), read from /proc.
QList<qint64> childrenOfSelf() {
    const qint64 self = ::getpid();
    QList<qint64> out;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &e : entries) {
        bool ok = false;
        const qint64 pid = e.toLongLong(&ok);
        if (!ok || pid == self)
            continue;
        qint64 ppid = 0, sid = 0;
        if (readStat(pid, &ppid, &sid) && ppid == self)
            out.append(pid);
    }
    return out;
}

} // namespace

Containment::Containment(QObject *parent) : QObject(parent) {
    m_sweepTimer.setInterval(kSweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this, [this] { sweep(); });
    m_followUp.setSingleShot(true);
    m_followUp.setInterval(kFollowUpMs);
    connect(&m_followUp, &QTimer::timeout, this, [this] { sweep(); });
    m_removeTimer.setInterval(kRemoveRetryMs);
    connect(&m_removeTimer, &QTimer::timeout, this, &Containment::retryRemovals);
}

Containment::~Containment() {
    if (m_mode == Mode::Subreaper)
        sweep();
    for (auto it = m_pendingRemovals.cbegin(); it != m_pendingRemovals.cend(); ++it)
        ::rmdir(QFile::encodeName(it.key()).constData());
    if (!m_root.isEmpty()) {
        // Whatever is left (the daemon is going away): kill it; the next daemon removes
        // the folders when they are still there.
        writeSmallFile(m_root + QStringLiteral("/cgroup.kill"), "1");
        removeStale(m_root);
    }
}

void Containment::setUp(const QString &setting) {
    QString why;
    if (setting == QLatin1String("off"))
        why = QStringLiteral("backend_cgroup is off");
    else if (setUpCgroup(setting == QLatin1String("on"), &why))
        return;
    if (setting == QLatin1String("on"))
        qCWarning(lcRuntime).noquote()
            << QStringLiteral("backend_cgroup is on but no cgroup can be used: %1").arg(why);
    m_mode = Mode::Subreaper;
    m_why = why;
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        qCWarning(lcRuntime).noquote()
            << QStringLiteral("cannot become a child subreaper: %1").arg(errnoText(errno));
    m_sweepTimer.start();
}

bool Containment::setUpCgroup(bool trustDelegation, QString *why) {
    const QString own = ownCgroupDir(why);
    if (own.isEmpty())
        return false;
    const bool hierarchyRoot = !QFileInfo::exists(own + QStringLiteral("/cgroup.events"));
    if (!hierarchyRoot && !trustDelegation && !isDelegated(own)) {
        *why = QStringLiteral("%1 is not marked as delegated to porticod (systemd: Delegate=yes; or set "
                              "backend_cgroup to on)")
                   .arg(own);
        return false;
    }
    if (::access(QFile::encodeName(own).constData(), W_OK) != 0) {
        *why = QStringLiteral("%1 is not writable: %2").arg(own, errnoText(errno));
        return false;
    }
    // Leftovers of daemons that are gone (killed before they could clean up).
    const QStringList siblings =
        QDir(own).entryList({QStringLiteral("porticod-*")}, QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &name : siblings) {
        bool ok = false;
        const qint64 pid = name.mid(9).toLongLong(&ok);
        if (ok && (pid == ::getpid() || !pidIsAlive(pid)))
            removeStale(own + QLatin1Char('/') + name);
    }
    const QString root = own + QStringLiteral("/porticod-%1").arg(::getpid());
    if (::mkdir(QFile::encodeName(root).constData(), 0755) != 0) {
        *why = QStringLiteral("cannot create %1: %2").arg(root, errnoText(errno));
        return false;
    }
    // Only non-root cgroups have cgroup.kill, so ask the one just made.
    if (!QFileInfo::exists(root + QStringLiteral("/cgroup.kill"))) {
        ::rmdir(QFile::encodeName(root).constData());
        *why = QStringLiteral("%1 has no cgroup.kill (Linux before 5.14)").arg(root);
        return false;
    }
    m_root = root;
    m_mode = Mode::Cgroup;
    return true;
}

QString Containment::describe() const {
    switch (m_mode) {
    case Mode::Cgroup:
        return QStringLiteral("cgroup %1").arg(m_root);
    case Mode::Subreaper:
        return QStringLiteral("subreaper (no cgroup: %1)").arg(m_why);
    case Mode::None:
        break;
    }
    return QStringLiteral("none");
}

// Kills everything under dir (cgroup.kill covers the subtree) and removes the folders,
// deepest first; a folder still busy stays (the processes die asynchronously) and is
// removed at the next start.
void Containment::removeStale(const QString &dir) {
    writeSmallFile(dir + QStringLiteral("/cgroup.kill"), "1");
    const QStringList children = QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &c : children)
        removeStale(dir + QLatin1Char('/') + c);
    ::rmdir(QFile::encodeName(dir).constData());
}

std::unique_ptr<Containment::Cell> Containment::newCell(const QString &project, QString *error) {
    if (m_mode != Mode::Cgroup)
        return nullptr;
    const QString path = m_root + QStringLiteral("/%1.%2").arg(project).arg(++m_serial);
    if (::mkdir(QFile::encodeName(path).constData(), 0755) != 0) {
        *error = QStringLiteral("cannot create the cgroup %1: %2").arg(path, errnoText(errno));
        return nullptr;
    }
    const int fd =
        ::open(QFile::encodeName(path + QStringLiteral("/cgroup.procs")).constData(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        *error = QStringLiteral("cannot open %1/cgroup.procs: %2").arg(path, errnoText(errno));
        ::rmdir(QFile::encodeName(path).constData());
        return nullptr;
    }
    std::unique_ptr<Cell> cell(new Cell);
    cell->m_path = path;
    cell->m_procsFd = fd;
    cell->m_owner = this;
    return cell;
}

Containment::Cell::~Cell() {
    if (m_procsFd >= 0)
        ::close(m_procsFd);
    killAll();
    if (m_owner)
        m_owner->removeLater(m_path);
}

void Containment::Cell::killAll() const {
    if (!writeSmallFile(m_path + QStringLiteral("/cgroup.kill"), "1") && errno != ENOENT)
        qCWarning(lcRuntime).noquote()
            << QStringLiteral("cannot kill the processes of %1: %2").arg(m_path, errnoText(errno));
}

void Containment::removeLater(const QString &path) {
    if (::rmdir(QFile::encodeName(path).constData()) == 0 || errno == ENOENT)
        return;
    m_pendingRemovals.insert(path, 0);
    if (!m_removeTimer.isActive())
        m_removeTimer.start();
}

void Containment::retryRemovals() {
    for (auto it = m_pendingRemovals.begin(); it != m_pendingRemovals.end();) {
        if (::rmdir(QFile::encodeName(it.key()).constData()) == 0 || errno == ENOENT) {
            it = m_pendingRemovals.erase(it);
            continue;
        }
        if (++it.value() >= kRemoveAttempts) {
            qCWarning(lcRuntime).noquote()
                << QStringLiteral("cgroup %1 is still busy; left for the next start").arg(it.key());
            it = m_pendingRemovals.erase(it);
            continue;
        }
        writeSmallFile(it.key() + QStringLiteral("/cgroup.kill"), "1");
        ++it;
    }
    if (m_pendingRemovals.isEmpty())
        m_removeTimer.stop();
}

void Containment::backendStarted(qint64 pid) {
    if (pid > 0)
        m_backends.insert(pid);
}

void Containment::backendExited(qint64 pid) {
    m_backends.remove(pid);
    if (m_mode == Mode::Subreaper)
        sweep();
}

int Containment::sweep() {
    if (m_mode != Mode::Subreaper)
        return 0;
    const qint64 ownSession = ::getsid(0);
    int found = 0;
    for (const qint64 pid : childrenOfSelf()) {
        if (m_backends.contains(pid))
            continue;
        qint64 ppid = 0, sid = 0;
        if (!readStat(pid, &ppid, &sid) || sid == ownSession)
            continue; // gone, or a helper the daemon started in its own session
        ++found;
        // Our unreaped child: the PID is still this process, so the signal cannot miss.
        ::kill(pid_t(pid), SIGKILL);
        if (::waitpid(pid_t(pid), nullptr, WNOHANG) == pid)
            qCInfo(lcRuntime).noquote()
                << QStringLiteral("ended pid %1, left behind by a backend that is gone").arg(pid);
    }
    if (found > 0)
        m_followUp.start(); // reap what was still dying, and take in what those leave behind
    return found;
}

} // namespace portico

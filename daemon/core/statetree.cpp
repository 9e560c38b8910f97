#include "statetree.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico::statetree {

namespace {

QString errnoText() {
    return QString::fromLocal8Bit(std::strerror(errno));
}

// Tightens one entry through a descriptor opened without following a link, so that a link
// swapped in between looking and changing is never followed. Directories get 0700, regular
// files 0600; anything else (sockets, FIFOs) is left alone.
bool tighten(const QString &path, QString *why) {
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            return true; // a symbolic link: not ours to change
        *why = errnoText();
        return false;
    }
    struct stat st {};
    bool ok = true;
    if (::fstat(fd, &st) != 0) {
        *why = errnoText();
        ok = false;
    } else {
        const mode_t want = S_ISDIR(st.st_mode) ? 0700 : S_ISREG(st.st_mode) ? 0600 : st.st_mode & 07777;
        if ((st.st_mode & 07777) != want && ::fchmod(fd, want) != 0) {
            *why = errnoText();
            ok = false;
        }
    }
    ::close(fd);
    return ok;
}

} // namespace

bool secure(const QString &stateDir, QStringList *warnings, QString *error) {
    const QString root = QDir::cleanPath(stateDir);
    for (const QString &dir : {root, root + QStringLiteral("/projects"), root + QStringLiteral("/logs")}) {
        if (!QDir().mkpath(dir)) {
            *error = QStringLiteral("cannot create %1").arg(dir);
            return false;
        }
    }
    QString why;
    if (!tighten(root, &why)) {
        *error = QStringLiteral("cannot make the state directory %1 private (0700): %2").arg(root, why);
        return false;
    }
    QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (!tighten(path, &why))
            warnings->append(QStringLiteral("cannot make %1 private: %2").arg(path, why));
    }
    return true;
}

void restrictNewFiles() {
    ::umask(077);
}

} // namespace portico::statetree

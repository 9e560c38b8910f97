#include "statefile.h"

#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace portico {

namespace {

// write() until every byte is out; false with errno set on the first failure (a short
// write is retried, so a full disk shows as ENOSPC rather than as a silent short file).
bool writeAll(int fd, const char *data, qint64 size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size_t(size));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (n == 0) {
            errno = EIO;
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}

} // namespace

QString errnoSentence(int error) {
    QString s = QString::fromLocal8Bit(std::strerror(error));
    if (!s.isEmpty() && s.at(0).isUpper() && (s.size() < 2 || !s.at(1).isUpper()))
        s[0] = s.at(0).toLower();
    return s;
}

bool writeFileAtomically(const QString &path, const QByteArray &data, int mode, QString *error) {
    const QByteArray target = QFile::encodeName(path);
    const QByteArray dir = QFile::encodeName(QFileInfo(path).absolutePath());
    QByteArray temp = target + ".XXXXXX";
    const auto fail = [&](const char *step) {
        const int e = errno;
        if (error)
            *error = QStringLiteral("%1 (%2 %3)").arg(errnoSentence(e), QLatin1String(step), path);
        errno = e;
        return false;
    };
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0)
        return fail("creating a temporary file for");
    bool ok = ::fchmod(fd, mode_t(mode)) == 0;
    const char *step = "setting the mode of";
    if (ok) {
        ok = writeAll(fd, data.constData(), data.size());
        step = "writing";
    }
    if (ok) {
        ok = ::fdatasync(fd) == 0;
        step = "syncing";
    }
    const int e = errno;
    // close() can report a delayed write error (NFS): it counts.
    if (::close(fd) != 0 && ok) {
        ok = false;
        step = "closing";
    } else {
        errno = e;
    }
    if (ok) {
        ok = ::rename(temp.constData(), target.constData()) == 0;
        step = "renaming onto";
    }
    if (!ok) {
        const int saved = errno;
        ::unlink(temp.constData());
        errno = saved;
        return fail(step);
    }
    // The rename is durable once the folder is synced.
    const int dfd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail("opening the folder of");
    const bool synced = ::fsync(dfd) == 0 || errno == EINVAL; // EINVAL: no fsync on this fs
    const int se = errno;
    ::close(dfd);
    errno = se;
    return synced ? true : fail("syncing the folder of");
}

AppendFile::AppendFile(const QString &path, qint64 maxBytes, int mode)
    : m_path(path), m_maxBytes(maxBytes), m_mode(mode) {}

AppendFile::~AppendFile() {
    close();
}

void AppendFile::close() {
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool AppendFile::open(QString *error) {
    const QByteArray native = QFile::encodeName(m_path);
    m_fd = ::open(native.constData(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, mode_t(m_mode));
    if (m_fd < 0) {
        if (error)
            *error = QStringLiteral("cannot open %1: %2").arg(m_path, errnoSentence(errno));
        return false;
    }
    // An existing file keeps no looser mode than asked (it may hold secrets).
    if (::fchmod(m_fd, mode_t(m_mode)) != 0) {
        if (error)
            *error = QStringLiteral("cannot set the mode of %1: %2").arg(m_path, errnoSentence(errno));
        close();
        return false;
    }
    struct stat st {};
    m_size = ::fstat(m_fd, &st) == 0 ? qint64(st.st_size) : 0;
    // A line cut short by an earlier failure is ended before the next one starts.
    char last = '\n';
    m_needNewline = m_size > 0 && ::pread(m_fd, &last, 1, m_size - 1) == 1 && last != '\n';
    return true;
}

bool AppendFile::append(const QByteArray &data, QString *error) {
    if (m_fd >= 0 && m_maxBytes > 0 && m_size + data.size() > m_maxBytes && m_size > 0) {
        // Keep one previous generation; the file never grows without bound.
        close();
        const QByteArray native = QFile::encodeName(m_path);
        if (::rename(native.constData(), (native + ".1").constData()) != 0) {
            m_failing = true;
            if (error)
                *error = QStringLiteral("cannot rotate %1: %2").arg(m_path, errnoSentence(errno));
            return false;
        }
    }
    if (m_fd < 0 && !open(error)) {
        m_failing = true;
        return false;
    }
    const QByteArray out = m_needNewline ? QByteArray(1, '\n') + data : data;
    if (!writeAll(m_fd, out.constData(), out.size())) {
        const int e = errno;
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(m_path, errnoSentence(e));
        m_failing = true;
        // Part of it may be in the file: reopen (and look at the end) on the next append.
        close();
        return false;
    }
    m_size += out.size();
    m_needNewline = false;
    m_failing = false;
    return true;
}

} // namespace portico

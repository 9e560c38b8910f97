#include "privileges.h"

#include <QDirIterator>
#include <QFile>
#include <QTest>

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace portico::test {

int runAsNobody(const std::function<int(QByteArray *message)> &fn, QByteArray *message, int timeoutMs) {
    int fds[2];
    if (::pipe(fds) != 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0 ||
            ::setuid(0) == 0) // must be impossible once dropped
            ::_exit(126);
        QByteArray out;
        const int code = fn(&out);
        for (qsizetype off = 0; off < out.size();) {
            const ssize_t n = ::write(fds[1], out.constData() + off, size_t(out.size() - off));
            if (n <= 0)
                break;
            off += n;
        }
        ::_exit(code & 0x7f);
    }
    ::close(fds[1]);
    QByteArray got;
    int status = 0;
    bool finished = false;
    // Read while waiting, so that a chatty child never blocks on a full pipe.
    const bool inTime = QTest::qWaitFor(
        [&] {
            pollfd p{fds[0], POLLIN, 0};
            char buf[4096];
            while (::poll(&p, 1, 0) == 1) {
                const ssize_t n = ::read(fds[0], buf, sizeof buf);
                if (n <= 0)
                    break;
                got.append(buf, n);
            }
            finished = ::waitpid(pid, &status, WNOHANG) == pid;
            return finished;
        },
        timeoutMs);
    if (!inTime) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        got.append(buf, n);
    ::close(fds[0]);
    if (message)
        *message = got;
    if (!inTime || !WIFEXITED(status) || WEXITSTATUS(status) == 126)
        return -1;
    return WEXITSTATUS(status);
}

bool chownToNobody(const QString &path) {
    bool ok = ::chown(QFile::encodeName(path).constData(), kNobody, kNobody) == 0;
    QDirIterator it(path, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        ok = ::lchown(QFile::encodeName(it.next()).constData(), kNobody, kNobody) == 0 && ok;
    return ok;
}

} // namespace portico::test

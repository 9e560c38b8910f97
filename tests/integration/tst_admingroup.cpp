// The admin group end to end: a root porticod with admin_group, and porticoctl run by a
// user who dropped root. A user outside the group is told which group to join; a member
// gets in.
#include "daemonfixture.h"
#include "skips.h"

#include <QFile>
#include <QTest>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace portico::test;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kUsers = 100; // 'users' on Debian

struct Run {
    int code = -1;
    QByteArray err;
};

// porticoctl as uid nobody with the given supplementary groups.
Run ctlAs(const QList<gid_t> &groups, const QString &socket) {
    int fds[2];
    if (::pipe(fds) != 0)
        return {};
    const QByteArray program = PORTICOCTL_PATH;
    const QByteArray socketArg = QFile::encodeName(socket);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        ::dup2(fds[1], STDERR_FILENO);
        ::dup2(fds[1], STDOUT_FILENO);
        std::vector<gid_t> g(groups.begin(), groups.end());
        if (::setgroups(g.size(), g.data()) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
            ::_exit(99);
        ::setenv("USER", "nobody", 1);
        ::execl(program.constData(), "porticoctl", "--socket", socketArg.constData(), "status",
                static_cast<char *>(nullptr));
        ::_exit(98);
    }
    ::close(fds[1]);
    Run r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        r.err.append(buf, int(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

} // namespace

class TestAdminGroup : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        PORTICO_REQUIRE(::geteuid() == 0,
                        "root, to start a daemon for another user's client (CI runs as root)");
        PORTICO_REQUIRE(::getgrgid(kUsers), "a group 'users' (gid 100; Debian has one)");
    }
    void outsiderIsToldTheGroup_memberGetsIn();
};

void TestAdminGroup::outsiderIsToldTheGroup_memberGetsIn() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("admin_group"), QStringLiteral("users"));
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    // The fixture's folder is root's 0700; let others reach the socket as in /run/portico.
    QVERIFY(::chmod(QFile::encodeName(d.dir()).constData(), 0711) == 0);

    const Run outsider = ctlAs({}, d.socketPath());
    QCOMPARE(outsider.code, 2);
    QVERIFY2(outsider.err.contains("permission denied: members of group 'users' may use this socket; join "
                                   "it with 'sudo adduser nobody users', then log in again"),
             outsider.err.constData());

    const Run member = ctlAs({kUsers}, d.socketPath());
    QVERIFY2(member.code == 0, member.err.constData());
    QVERIFY2(member.err.contains("ingress port"), member.err.constData()); // the status it printed
}

QTEST_GUILESS_MAIN(TestAdminGroup)
#include "tst_admingroup.moc"

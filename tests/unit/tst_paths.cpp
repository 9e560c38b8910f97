#include "adminclient.h"
#include "config/config.h"
#include "paths.h"
#include "skips.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QTemporaryDir>
#include <QTest>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace portico;

namespace {

constexpr uid_t kNobody = 65534;

// Every default, as this process sees it.
QJsonObject defaults() {
    return {{QStringLiteral("config"), paths::defaultConfigFile()},
            {QStringLiteral("state"), paths::defaultStateDir()},
            {QStringLiteral("socket"), paths::defaultAdminSocket()},
            {QStringLiteral("config_state"), Config::defaultStateDir()},
            {QStringLiteral("config_socket"), Config::defaultAdminSocket()},
            {QStringLiteral("client_socket"), AdminClient::defaultSocketPath()}};
}

// defaults() computed by a child that dropped root for `nobody` (CI runs as root; the
// non-root paths must be tested as a real non-root process, not by pretending).
QJsonObject defaultsAsNobody() {
    int fds[2];
    if (::pipe(fds) != 0)
        return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        const gid_t gid = kNobody;
        if (::setgroups(1, &gid) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
            ::_exit(2);
        const QByteArray out = QJsonDocument(defaults()).toJson(QJsonDocument::Compact);
        const bool written = ::write(fds[1], out.constData(), size_t(out.size())) == out.size();
        ::_exit(written ? 0 : 3);
    }
    ::close(fds[1]);
    QByteArray data;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        data.append(buf, int(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return QJsonDocument::fromJson(data).object();
}

} // namespace

// The daemon and its clients must agree on where things are: the system paths for root,
// the XDG folders for everyone else.
class TestPaths : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() {
        qunsetenv("PORTICO_SOCKET");
        qunsetenv("XDG_RUNTIME_DIR");
        qunsetenv("XDG_STATE_HOME");
        qunsetenv("XDG_CONFIG_HOME");
    }
    void rootUsesSystemPaths();
    void userUsesXdgFolders_data();
    void userUsesXdgFolders();
    void clientFindsTheDaemon_data();
    void clientFindsTheDaemon();
    void clientOverride();
    void deniedNamesTheGroup();
};

void TestPaths::rootUsesSystemPaths() {
    PORTICO_REQUIRE(::geteuid() == 0,
                    "root (CI runs as root); the non-root case is tested by userUsesXdgFolders");
    // A root login session has XDG_RUNTIME_DIR (/run/user/0): the service still uses /run/portico.
    qputenv("XDG_RUNTIME_DIR", "/run/user/0");
    qputenv("XDG_STATE_HOME", "/root/.local/state");
    const QJsonObject d = defaults();
    QCOMPARE(d.value("config").toString(), QStringLiteral("/etc/portico/porticod.json"));
    QCOMPARE(d.value("state").toString(), QStringLiteral("/var/lib/portico"));
    QCOMPARE(d.value("socket").toString(), QStringLiteral("/run/portico/admin.sock"));
    QCOMPARE(d.value("config_state").toString(), d.value("state").toString());
    QCOMPARE(d.value("config_socket").toString(), d.value("socket").toString());
    QCOMPARE(d.value("client_socket").toString(), d.value("socket").toString());
}

void TestPaths::userUsesXdgFolders_data() {
    QTest::addColumn<QByteArray>("runtimeDir");
    QTest::addColumn<QString>("socket");
    QTest::newRow("session") << QByteArray("/run/user/65534")
                             << QStringLiteral("/run/user/65534/portico/admin.sock");
    QTest::newRow("no session") << QByteArray()
                                << QDir::tempPath() + QStringLiteral("/portico-nobody/portico/admin.sock");
}

void TestPaths::userUsesXdgFolders() {
    PORTICO_REQUIRE(::geteuid() == 0, "root, to fork a child that drops root for 'nobody' (CI runs as root)");
    QFETCH(QByteArray, runtimeDir);
    QFETCH(QString, socket);
    if (!runtimeDir.isEmpty())
        qputenv("XDG_RUNTIME_DIR", runtimeDir);
    qputenv("XDG_STATE_HOME", "/home/nobody-state");
    qputenv("XDG_CONFIG_HOME", "/home/nobody-config");
    qputenv("USER", "nobody");
    const QJsonObject d = defaultsAsNobody();
    QVERIFY2(!d.isEmpty(), "the child could not drop root");
    QCOMPARE(d.value("config").toString(), QStringLiteral("/home/nobody-config/portico/porticod.json"));
    QCOMPARE(d.value("state").toString(), QStringLiteral("/home/nobody-state/portico"));
    QCOMPARE(d.value("socket").toString(), socket);
    QCOMPARE(d.value("config_state").toString(), d.value("state").toString());
    QCOMPARE(d.value("config_socket").toString(), socket);
}

void TestPaths::clientFindsTheDaemon_data() {
    QTest::addColumn<bool>("ownExists");
    QTest::addColumn<bool>("systemExists");
    QTest::addColumn<QString>("expected");
    QTest::newRow("only the system daemon") << false << true << "system";
    QTest::newRow("the user's own daemon") << true << false << "own";
    QTest::newRow("both: the user's own first") << true << true << "own";
    QTest::newRow("none: where the user's would be") << false << false << "own";
}

void TestPaths::clientFindsTheDaemon() {
    QFETCH(bool, ownExists);
    QFETCH(bool, systemExists);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString own = dir.filePath(QStringLiteral("own.sock"));
    const QString system = dir.filePath(QStringLiteral("system.sock"));
    QLocalServer a, b;
    if (ownExists)
        QVERIFY(a.listen(own));
    if (systemExists)
        QVERIFY(b.listen(system));
    QCOMPARE(paths::chooseClientSocket(own, system), expected == QLatin1String("own") ? own : system);
}

void TestPaths::clientOverride() {
    qputenv("PORTICO_SOCKET", "/tmp/elsewhere.sock");
    QCOMPARE(AdminClient::defaultSocketPath(), QStringLiteral("/tmp/elsewhere.sock"));
}

void TestPaths::deniedNamesTheGroup() {
    // A socket its group may use (mode 0660, as porticod makes it with admin_group).
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("admin.sock"));
    QLocalServer server;
    server.setSocketOptions(QLocalServer::UserAccessOption | QLocalServer::GroupAccessOption);
    QVERIFY(server.listen(path));
    QVERIFY(::chown(QFile::encodeName(path).constData(), uid_t(-1), 100) == 0); // group 'users'
    qputenv("USER", "alice");
    QCOMPARE(paths::accessDeniedHint(path),
             QStringLiteral("permission denied: members of group 'users' may use this socket; join it with "
                            "'sudo adduser alice users', then log in again"));
    // Owner only: say how a group gets in.
    QVERIFY(::chmod(QFile::encodeName(path).constData(), 0600) == 0);
    QVERIFY(paths::accessDeniedHint(path).contains(QStringLiteral("admin_group")));
}

QTEST_GUILESS_MAIN(TestPaths)
#include "tst_paths.moc"

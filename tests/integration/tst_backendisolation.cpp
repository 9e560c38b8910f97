// A backend is a tenant, not a friend. With porticod running as root (as installed, and
// as CI runs the suite), process and deno backends run as the unprivileged backend user
// with a clean environment: a backend that tries what a hostile tenant would (the admin
// socket, other projects' manifests and logs, the ingress's SO_REUSEPORT group, the
// daemon's environment) fails at each. The backend asks from inside with the probes of
// portico-testbackend (tests/support/testbackend/probes.h) and the test reads the answers.
#include "daemonfixture.h"
#include "protocol.h"
#include "runtimeutil.h"
#include "skips.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace portico::test;

namespace {

constexpr auto kBackendUser = "portico-backend";

// Root and the backend user (installer/deps.sh creates it, as the Debian package does).
// In CI (which runs as root) a missing precondition fails the test instead of skipping it.
bool preconditions(QString *why) {
    if (::geteuid() != 0) {
        *why = QStringLiteral("porticod switches backends to another user only when it runs as root");
        return false;
    }
    if (!::getpwnam(kBackendUser)) {
        *why = QStringLiteral("the system user %1 does not exist (installer/deps.sh creates it)")
                   .arg(QLatin1String(kBackendUser));
        return false;
    }
    return true;
}

#define REQUIRE_ROOT_AND_BACKEND_USER()                                                                      \
    do {                                                                                                     \
        QString reason_;                                                                                     \
        PORTICO_REQUIRE_WHY(preconditions(&reason_), reason_);                                               \
    } while (false)

QByteArray testbackend(const QString &name, const QString &extra = {}) {
    return QStringLiteral(R"({"name": "%1", "runtime": "process", "command": ["%2", "http"]%3})")
        .arg(name, QStringLiteral(TESTBACKEND_PATH), extra)
        .toUtf8();
}

QByteArray percent(const QString &s) {
    return QUrl::toPercentEncoding(s, "/");
}

} // namespace

class tst_BackendIsolation : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<DaemonFixture> m_daemon;
    uid_t m_uid = 0;
    quint16 m_victimPort = 0; // the other project serves on a port of its own

    // What the backend of project `name` answers to a probe (through the ingress).
    QByteArray ask(const QString &name, const QByteArray &probe) const {
        const auto r = DaemonFixture::httpGet(m_daemon->ingressPort(), '/' + name.toUtf8() + probe);
        return r.status == 200 ? r.body : "HTTP " + QByteArray::number(r.status) + ' ' + r.body;
    }
    void deploy(const QByteArray &manifest) {
        const QJsonObject r = m_daemon->deploy(manifest);
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
    }

private Q_SLOTS:
    void initTestCase() {
        REQUIRE_ROOT_AND_BACKEND_USER();
        m_uid = ::getpwnam(kBackendUser)->pw_uid;
        m_daemon = std::make_unique<DaemonFixture>();
        m_daemon->config.insert(QStringLiteral("drain_timeout_ms"), 100);
        m_daemon->environment.insert(QStringLiteral("PORTICO_DAEMON_SECRET"), QStringLiteral("do-not-leak"));
        QString why;
        QVERIFY2(m_daemon->start(&why), qPrintable(why));
        // A second project whose manifest (with a secret) and log the first one goes after.
        m_victimPort = freePort();
        deploy(testbackend(QStringLiteral("victim"), QStringLiteral(R"(, "env": {"API_TOKEN": "s3cret"},
            "listen": {"port": %1, "protocol": "http"})")
                                                         .arg(m_victimPort)));
        deploy(testbackend(QStringLiteral("tenant")));
    }

    void runsAsTheBackendUser() {
        const QByteArray who = ask(QStringLiteral("tenant"), "/whoami");
        QVERIFY2(who.startsWith("uid " + QByteArray::number(m_uid) + ' '), who.constData());
        QVERIFY2(!who.contains(" gid 0 ") && !who.contains("groups 0") && !who.contains(",0"),
                 who.constData());
        const QJsonObject p = m_daemon->call(QStringLiteral("projects.get"),
                                             {{QStringLiteral("name"), QStringLiteral("tenant")}});
        const qint64 pid =
            qint64(p.value(QStringLiteral("result")).toObject().value(QStringLiteral("pid")).toDouble());
        QVERIFY(pid > 0);
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(QStringLiteral("/proc/%1").arg(pid)).constData(), &st), 0);
        QCOMPARE(st.st_uid, m_uid);
    }

    // PATH, LANG and HOME, the manifest's env, PORT and HOST: nothing of the daemon's.
    void environmentIsClean() {
        const QByteArray env = ask(QStringLiteral("tenant"), "/environ");
        QStringList names;
        QMap<QString, QString> values;
        for (const QByteArray &line : env.split('\n')) {
            const qsizetype eq = line.indexOf('=');
            names << QString::fromUtf8(line.left(eq));
            values.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
        }
        names.sort();
        QCOMPARE(names, QStringList({QStringLiteral("HOME"), QStringLiteral("HOST"), QStringLiteral("LANG"),
                                     QStringLiteral("PATH"), QStringLiteral("PORT")}));
        QCOMPARE(values.value(QStringLiteral("PATH")),
                 QStringLiteral("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        QCOMPARE(values.value(QStringLiteral("HOME")),
                 m_daemon->dir() + QStringLiteral("/portico-backends/tenant"));
        QVERIFY(!env.contains("do-not-leak"));
        // The daemon's environment is out of reach through /proc as well.
        QVERIFY2(ask(QStringLiteral("tenant"),
                     "/try-read?/proc/" + QByteArray::number(m_daemon->pid()) + "/environ")
                     .startsWith("error"),
                 "the backend read the daemon's environment");
        // The manifest's env is there for the project it belongs to, and only there.
        QCOMPARE(DaemonFixture::httpGet(m_victimPort, "/env/API_TOKEN").body, QByteArray("s3cret"));
        QCOMPARE(ask(QStringLiteral("tenant"), "/env/API_TOKEN"), QByteArray("HTTP 404 unset\n"));
    }

    // The admin socket refuses a backend twice over: its mode (0600, the daemon's), and, were
    // it reachable, the peer uid check, which closes the connection without an answer.
    void cannotUseTheAdminSocket() {
        const QByteArray socket = percent(m_daemon->socketPath());
        const QByteArray denied = ask(QStringLiteral("tenant"), "/try-admin?" + socket);
        QVERIFY2(denied.startsWith("error") && denied.contains("ermission denied"), denied.constData());
        QCOMPARE(::chmod(QFile::encodeName(m_daemon->socketPath()).constData(), 0666), 0);
        const QByteArray refused = ask(QStringLiteral("tenant"), "/try-admin?" + socket);
        QCOMPARE(::chmod(QFile::encodeName(m_daemon->socketPath()).constData(), 0600), 0);
        // Connected, then cut before a byte was read: no answer of any kind.
        QVERIFY2(refused == "closed" || refused.contains("Broken pipe") || refused.contains("reset by peer"),
                 refused.constData());
        QVERIFY(m_daemon->call(QStringLiteral("daemon.info")).contains(QStringLiteral("result")));
    }

    // Other projects' manifests (with their env values), logs, the audit: all out of reach.
    void cannotReadTheStateTree_data() {
        QTest::addColumn<QString>("path");
        QTest::newRow("manifest") << QStringLiteral("projects/victim.json");
        QTest::newRow("log") << QStringLiteral("logs/victim.log");
        QTest::newRow("own-log") << QStringLiteral("logs/tenant.log");
        QTest::newRow("audit") << QStringLiteral("audit.log");
    }
    void cannotReadTheStateTree() {
        QFETCH(QString, path);
        const QString file = m_daemon->stateDir() + QLatin1Char('/') + path;
        QTRY_VERIFY(QFile::exists(file)); // there to be read, by the daemon only
        const QByteArray answer = ask(QStringLiteral("tenant"), "/try-read?" + percent(file));
        QVERIFY2(answer.startsWith("error") && answer.contains("ermission denied"), answer.constData());
    }

    // SO_REUSEPORT groups are per uid on Linux: a backend cannot bind into the ingress's
    // group (and take a share of its connections), nor into another project's port.
    void cannotJoinTheDaemonsListeners() {
        const QByteArray ingress =
            ask(QStringLiteral("tenant"), "/try-reuseport?" + QByteArray::number(m_daemon->ingressPort()));
        QVERIFY2(ingress.contains("Address already in use"), ingress.constData());
        const QByteArray other =
            ask(QStringLiteral("tenant"), "/try-reuseport?" + QByteArray::number(m_victimPort));
        QVERIFY2(other.contains("Address already in use"), other.constData());
    }

    // A backend writes in its own folder (HOME), not in the sources it runs from nor in
    // the state tree. (Another project's folder belongs to the same backend user: what one
    // backend can do to another is in docs/security.md.)
    void writesOnlyWhereItMay() {
        const QString base = m_daemon->dir() + QStringLiteral("/portico-backends");
        QCOMPARE(ask(QStringLiteral("tenant"), "/try-write?" + percent(base + QStringLiteral("/tenant/x"))),
                 QByteArray("ok"));
        for (const QString &where :
             {m_daemon->dir(), base, m_daemon->stateDir() + QStringLiteral("/projects")}) {
            const QByteArray answer =
                ask(QStringLiteral("tenant"), "/try-write?" + percent(where + QStringLiteral("/x")));
            QVERIFY2(answer.startsWith("error"),
                     qPrintable(where + QStringLiteral(": ") + QString::fromUtf8(answer)));
        }
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(base + QStringLiteral("/tenant")).constData(), &st), 0);
        QCOMPARE(st.st_uid, m_uid);
        QCOMPARE(st.st_mode & 07777, mode_t(0700));
        QCOMPARE(::stat(QFile::encodeName(base).constData(), &st), 0);
        QCOMPARE(st.st_uid, uid_t(0));
        QCOMPARE(st.st_mode & 07777, mode_t(0711));
    }

    // A workdir the backend user cannot enter stops the start with a reason that says so.
    void unreachableWorkdirIsExplained() {
        QTemporaryDir closed; // 0700, root's
        const QJsonObject r = m_daemon->deploy(testbackend(QStringLiteral("shut")), closed.path());
        const QString message =
            r.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
        QVERIFY2(message.contains(
                     QStringLiteral(
                         "cannot enter the working directory %1 as user 'portico-backend': Permission denied")
                         .arg(closed.path())),
                 qPrintable(message));
    }

    // Deno as the backend user: its module cache is the project's own (DENO_DIR in its
    // folder), not root's.
    void denoRunsWithItsOwnCache() {
        const QString deno = findDeno();
        PORTICO_REQUIRE(!deno.isEmpty(), "deno (installer/deps.sh installs it from npm)");
        qputenv("PATH", (QFileInfo(deno).absolutePath() + QLatin1Char(':')).toUtf8() + qgetenv("PATH"));
        DaemonFixture daemon; // started with deno on its PATH
        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        const QString example = QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/hello-deno");
        const QJsonObject r = daemon.call(
            QStringLiteral("projects.deploy"),
            {{QStringLiteral("manifest"), QJsonObject{{QStringLiteral("name"), QStringLiteral("hello")},
                                                      {QStringLiteral("runtime"), QStringLiteral("deno")}}},
             {QStringLiteral("source_dir"), example}},
            60000);
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
        const auto reply = DaemonFixture::httpGet(daemon.ingressPort(), "/hello/");
        QCOMPARE(reply.status, 200);
        const QString cache = daemon.dir() + QStringLiteral("/portico-backends/hello/.cache/deno");
        QVERIFY2(QFileInfo(cache).isDir(), qPrintable(cache));
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(cache).constData(), &st), 0);
        QCOMPARE(st.st_uid, m_uid);
    }

    // Without the backend user, a root porticod refuses to start backends at all, naming
    // the user it looked for, with 1005 (the runtime is unavailable).
    void missingUserIsRefused() {
        DaemonFixture daemon;
        daemon.config.insert(QStringLiteral("backend_user"), QStringLiteral("portico-no-such-user"));
        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        const QJsonObject r = daemon.deploy(testbackend(QStringLiteral("nobody")));
        const QJsonObject error = r.value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), portico::protocol::error::RuntimeUnavailable);
        QVERIFY2(error.value(QStringLiteral("message"))
                     .toString()
                     .contains(QLatin1String("'portico-no-such-user' does not exist")),
                 qPrintable(error.value(QStringLiteral("message")).toString()));
        // Backends that run nothing need no user.
        const QJsonObject up =
            daemon.deploy(R"({"name": "up", "runtime": "upstream", "upstream": "127.0.0.1:9"})");
        QVERIFY2(up.contains(QStringLiteral("result")), QJsonDocument(up).toJson().constData());
    }
};

QTEST_GUILESS_MAIN(tst_BackendIsolation)
#include "tst_backendisolation.moc"

// The real porticoctl binary against an in-test AdminServer + FakeAdminApi: tables,
// --json, deploy ok and refused, not found, unreachable socket, usage errors (exit 64),
// watch and logs -f. The exact human formats are golden files: tst_ctlformat.
#include "admin/adminserver.h"
#include "admin/auditlog.h"
#include "fakeadminapi.h"
#include "protocol.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

using namespace portico;
using portico::test::FakeAdminApi;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestPorticoctl final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void tables_data();
    void tables();
    void jsonOutput_data();
    void jsonOutput();
    void deployThenRoutesShowsTheRoute();
    void deployDryRun();
    void deployRefused_data();
    void deployRefused();
    void notFound_data();
    void notFound();
    void unreachable_data();
    void unreachable();
    void usageErrors_data();
    void usageErrors();
    void socketFromEnvironment();
    void logs();
    void colorsOnATerminalOnly_data();
    void colorsOnATerminalOnly();
    void watchAndFollow_data();
    void watchAndFollow();

private:
    // Runs porticoctl with the event loop turning (the server is in this thread).
    // Adds --socket <the test server> unless args or env name a socket.
    Run ctl(const QStringList &args,
            const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(), bool addSocket = true);
    QString writeManifest(const QJsonObject &m);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<FakeAdminApi> m_api;
    std::unique_ptr<AdminServer> m_server;
    QString m_socket;
};

void TestPorticoctl::init() {
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_api = std::make_unique<FakeAdminApi>();
    m_api->addProject(QStringLiteral("my-api"), 3000);
    Config config;
    m_socket = m_dir->filePath(QStringLiteral("run/admin.sock"));
    config.adminSocket = m_socket;
    config.stateDir = m_dir->filePath(QStringLiteral("state"));
    m_server = std::make_unique<AdminServer>(config, m_api.get());
    QString error;
    QVERIFY2(m_server->listen(&error), qPrintable(error));
}

void TestPorticoctl::cleanup() {
    m_server.reset();
    m_api.reset();
    m_dir.reset();
}

Run TestPorticoctl::ctl(const QStringList &args, const QProcessEnvironment &env, bool addSocket) {
    QProcess p;
    QProcessEnvironment e = env;
    e.insert(QStringLiteral("TZ"), QStringLiteral("UTC")); // times print in local time
    p.setProcessEnvironment(e);
    QStringList all = args;
    if (addSocket && !args.contains(QStringLiteral("--socket")) &&
        !env.contains(QStringLiteral("PORTICO_SOCKET")))
        all << QStringLiteral("--socket") << m_socket;
    p.start(QStringLiteral(PORTICOCTL_PATH), all);
    Run r;
    if (!p.waitForStarted(5000))
        return r;
    QSignalSpy done(&p, &QProcess::finished);
    if (!done.wait(15000)) {
        p.kill();
        p.waitForFinished(2000);
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    if (qEnvironmentVariableIsSet("PORTICOCTL_TEST_ECHO")) // to eyeball the output
        qInfo().noquote() << "$ porticoctl" << args.join(' ') << "-> exit" << r.exitCode << "\n"
                          << r.out << r.err;
    return r;
}

QString TestPorticoctl::writeManifest(const QJsonObject &m) {
    const QString dir = m_dir->filePath(QStringLiteral("project"));
    QDir().mkpath(dir);
    QFile f(dir + QStringLiteral("/portico.json"));
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(QJsonDocument(m).toJson());
    return f.fileName();
}

void TestPorticoctl::tables_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("lines"); // each must appear, columns collapsed to single spaces
    QTest::newRow("routes") << QStringList{"routes"}
                            << QStringList{
                                   "PORT PROTO PROJECT PATH BACKEND STATE CONNS REQUESTS ERRORS REASON",
                                   "8080 http (ingress) - path-based routing active 0 0 0 -",
                                   "3000 http my-api - 127.0.0.1:20001 active 0 0 0 -"};
    QTest::newRow("projects") << QStringList{"projects"}
                              << QStringList{"NAME RUNTIME STATE PID UPTIME RESTARTS LAST EXIT LISTEN REASON",
                                             // FakeAdminApi's project: pid 4300, up 60 s, never
                                             // restarted, no previous exit, no reason.
                                             "my-api process active 4300 1m 0s 0 - 3000/http -"};
    QTest::newRow("status") << QStringList{"status"}
                            << QStringList{"version 0.1.0-fake", "uptime 42s", "protocol 2"};
}

void TestPorticoctl::tables() {
    QFETCH(QStringList, args);
    QFETCH(QStringList, lines);
    const Run r = ctl(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QStringList got;
    for (const auto &l : r.out.split(QLatin1Char('\n')))
        got.append(l.simplified());
    for (const auto &want : lines)
        QVERIFY2(got.contains(want), qPrintable(QStringLiteral("missing '%1' in:\n%2").arg(want, r.out)));
    // Aligned: every column starts at the same offset on every row.
    if (args.first() == QLatin1String("routes")) {
        const QStringList rows = r.out.trimmed().split(QLatin1Char('\n'));
        const qsizetype col = rows.first().indexOf(QLatin1String("STATE"));
        for (const auto &row : rows.mid(1))
            QCOMPARE(row.indexOf(QLatin1String("active")), col);
    }
}

void TestPorticoctl::jsonOutput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("check"); // "array:<n>" or "key:<name>"
    QTest::newRow("routes") << QStringList{"routes", "--json"} << "array:2";
    QTest::newRow("projects") << QStringList{"--json", "projects"} << "array:1";
    QTest::newRow("status") << QStringList{"status", "--json"} << "key:protocol_version";
}

void TestPorticoctl::jsonOutput() {
    QFETCH(QStringList, args);
    QFETCH(QString, check);
    const Run r = ctl(args);
    QCOMPARE(r.exitCode, 0);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out.toUtf8(), &pe);
    QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(r.out));
    if (check.startsWith("array:")) {
        QVERIFY(doc.isArray());
        QCOMPARE(doc.array().size(), check.mid(6).toInt());
    } else {
        QVERIFY(doc.object().contains(check.mid(4)));
    }
}

void TestPorticoctl::deployThenRoutesShowsTheRoute() {
    const QString file = writeManifest({{"name", "web"},
                                        {"runtime", "process"},
                                        {"command", QJsonArray{"./server"}},
                                        {"listen", QJsonObject{{"port", 4000}}}});
    Run r = ctl({"deploy", file});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("deployed 'web'"), qPrintable(r.out));
    QCOMPARE(m_api->m_calls.last().op, QStringLiteral("deploy"));
    QCOMPARE(m_api->m_calls.last().sourceDir, QFileInfo(file).absolutePath());
    QCOMPARE(m_api->m_calls.last().manifest.toObject().value("name").toString(), QStringLiteral("web"));
    r = ctl({"routes"});
    QCOMPARE(r.exitCode, 0);
    bool found = false;
    for (const auto &l : r.out.split('\n'))
        found = found || (l.simplified().startsWith("4000 http web"));
    QVERIFY2(found, qPrintable(r.out));
    QCOMPARE(m_server->auditLog().size(), 1);
}

void TestPorticoctl::deployDryRun() {
    const QString file =
        writeManifest({{"name", "web"}, {"runtime", "process"}, {"command", QJsonArray{"x"}}});
    const Run r = ctl({"deploy", file, "--dry-run"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("is valid"));
    QCOMPARE(m_api->m_calls.last().op, QStringLiteral("validate"));
    QVERIFY(!m_api->m_projects.contains("web"));
}

void TestPorticoctl::deployRefused_data() {
    QTest::addColumn<bool>("dryRun");
    QTest::addColumn<bool>("json");
    QTest::newRow("deploy") << false << false;
    QTest::newRow("dry-run") << true << false;
    QTest::newRow("deploy-json") << false << true;
}

void TestPorticoctl::deployRefused() {
    QFETCH(bool, dryRun);
    QFETCH(bool, json);
    m_api->m_conflicts =
        QJsonArray{QJsonObject{{"port", 3000},
                               {"transport", "tcp"},
                               {"holder", "my-api"},
                               {"message", "port 3000/tcp is already bound by project 'my-api'"}},
                   QJsonObject{{"port", 5000}, {"transport", "udp"}, {"holder", "vpn"}}};
    const QString file = writeManifest({{"name", "other"},
                                        {"runtime", "process"},
                                        {"command", QJsonArray{"x"}},
                                        {"listen", QJsonArray{QJsonObject{{"port", 3000}}}}});
    QStringList args{"deploy", file};
    if (dryRun)
        args << "--dry-run";
    if (json)
        args << "--json";
    const Run r = ctl(args);
    QCOMPARE(r.exitCode, 1);
    // The conflict that comes from the manifest names where: the line, the column, the path.
    QVERIFY2(r.err.contains("\n  conflict: listen[0]: port 3000/tcp is already bound by project 'my-api' "
                            "(line 6, column 9)\n"),
             qPrintable(r.err));
    QVERIFY2(r.err.contains("conflict: port 5000/udp is already bound by vpn"), qPrintable(r.err));
    QVERIFY(r.err.startsWith("porticoctl: "));
    if (json) {
        const QJsonObject e = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(e.value("code").toInt(), protocol::error::Conflict);
        QCOMPARE(e.value("data").toObject().value("conflicts").toArray().size(), 2);
    }

    // Every validation error, one per line.
    m_api->m_validationErrors =
        QJsonArray{QJsonObject{{"path", "listen[0].port"}, {"message", "must be 1024-65535"}},
                   QJsonObject{{"path", "command"}, {"message", "must not be empty"}}};
    const Run v = ctl({"deploy", file});
    QCOMPARE(v.exitCode, 1);
    QVERIFY2(v.err.contains("\n  error: listen[0].port: must be 1024-65535 (line 7, column 13)\n"),
             qPrintable(v.err));
    QVERIFY2(v.err.contains("\n  error: command: must not be empty (line 2, column 5)\n"), qPrintable(v.err));
}

void TestPorticoctl::notFound_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("undeploy") << QStringList{"undeploy", "ghost"};
    QTest::newRow("restart") << QStringList{"restart", "ghost"};
    QTest::newRow("logs") << QStringList{"logs", "ghost"};
    QTest::newRow("missing-file") << QStringList{"deploy", "/nonexistent/portico.json"};
}

void TestPorticoctl::notFound() {
    QFETCH(QStringList, args);
    const Run r = ctl(args);
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(r.err.count('\n'), 1); // one line
    QVERIFY2(r.err.contains(args.last()), qPrintable(r.err));
}

void TestPorticoctl::unreachable_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("no-socket") << "missing";
    QTest::newRow("stale-socket") << "stale";
}

void TestPorticoctl::unreachable() {
    QFETCH(QString, kind);
    QString path = m_dir->filePath("nothing.sock");
    if (kind == QLatin1String("stale")) {
        // A crashed daemon's leftover: a bound socket file nobody listens on.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const QByteArray p = QFile::encodeName(path);
        memcpy(addr.sun_path, p.constData(), size_t(p.size()));
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
        ::close(fd);
    }
    const Run r = ctl({"routes", "--socket", path});
    QCOMPARE(r.exitCode, 2);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains("cannot reach the daemon") && r.err.contains(path), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

void TestPorticoctl::usageErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("no-command") << QStringList{};
    QTest::newRow("unknown-command") << QStringList{"explode"};
    QTest::newRow("missing-arg") << QStringList{"undeploy"};
    QTest::newRow("extra-arg") << QStringList{"routes", "x"};
    QTest::newRow("bad-lines") << QStringList{"logs", "my-api", "-n", "zero"};
    QTest::newRow("unknown-option") << QStringList{"routes", "--frobnicate"};
    QTest::newRow("other-commands-option") << QStringList{"routes", "--dry-run"};
    QTest::newRow("unknown-subcommand") << QStringList{"projects", "remove", "x"};
    QTest::newRow("bad-color") << QStringList{"routes", "--color", "sometimes"};
}

void TestPorticoctl::usageErrors() {
    QFETCH(QStringList, args);
    const Run r = ctl(args);
    // Its own exit code (not 1, the daemon's refusal), one line, and where help is.
    QCOMPARE(r.exitCode, 64);
    QVERIFY2(r.err.startsWith("porticoctl: ") && r.err.count('\n') == 1, qPrintable(r.err));
    QVERIFY2(r.err.contains("porticoctl --help"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    QVERIFY(m_api->m_calls.isEmpty());
}

void TestPorticoctl::socketFromEnvironment() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PORTICO_SOCKET", m_socket);
    Run r = ctl({"projects"}, env);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("my-api"));
    // Without PORTICO_SOCKET: $XDG_RUNTIME_DIR/portico/admin.sock, as the daemon. (Root
    // always uses the system service's /run/portico/admin.sock: tst_paths.)
    if (::geteuid() == 0)
        return;
    env.remove("PORTICO_SOCKET");
    env.insert("XDG_RUNTIME_DIR", m_dir->filePath("xdg"));
    r = ctl({"projects"}, env, false);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(m_dir->filePath("xdg/portico/admin.sock")), qPrintable(r.err));
}

void TestPorticoctl::logs() {
    m_api->m_logLines = {"one", "two", "three"};
    const Run r = ctl({"logs", "my-api", "-n", "2"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(r.out, QStringLiteral("2026-01-01 12:00:00.000 stdout  two\n"
                                   "2026-01-01 12:00:00.000 stdout  three\n"));
    QCOMPARE(m_api->m_calls.last().lines, 2);
}

void TestPorticoctl::colorsOnATerminalOnly_data() {
    QTest::addColumn<bool>("terminal");
    QTest::addColumn<QString>("noColor");
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<bool>("colored");
    QTest::newRow("terminal") << true << QString() << QStringList{} << true;
    QTest::newRow("terminal NO_COLOR") << true << "1" << QStringList{} << false;
    QTest::newRow("terminal NO_COLOR empty") << true << "" << QStringList{} << true;
    QTest::newRow("terminal --color never") << true << QString() << QStringList{"--color", "never"} << false;
    QTest::newRow("pipe") << false << QString() << QStringList{} << false;
    QTest::newRow("pipe --color always") << false << QString() << QStringList{"--color", "always"} << true;
}

void TestPorticoctl::colorsOnATerminalOnly() {
    QFETCH(bool, terminal);
    QFETCH(QString, noColor);
    QFETCH(QStringList, extra);
    QFETCH(bool, colored);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("NO_COLOR");
    if (!noColor.isNull())
        env.insert("NO_COLOR", noColor);
    Run r;
    const QStringList args = QStringList{"projects", "--socket", m_socket} + extra;
    if (terminal) {
        // script(1) (util-linux, always there) gives porticoctl a pseudo-terminal.
        QStringList quoted;
        for (const auto &a : QStringList{QStringLiteral(PORTICOCTL_PATH)} + args)
            quoted.append(QLatin1Char('\'') + a + QLatin1Char('\''));
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QStringLiteral("script"), {"-qec", quoted.join(' '), "/dev/null"});
        QVERIFY(p.waitForStarted(5000));
        QSignalSpy done(&p, &QProcess::finished);
        QVERIFY(p.state() == QProcess::NotRunning || done.wait(15000));
        r.exitCode = p.exitCode();
        r.out = QString::fromUtf8(p.readAllStandardOutput());
    } else {
        r = ctl(args, env, false);
    }
    QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("my-api"), qPrintable(r.out));
    QCOMPARE(r.out.contains(QStringLiteral("\x1b[32mactive\x1b[0m")), colored);
    if (!colored)
        QVERIFY2(!r.out.contains(QLatin1Char('\x1b')), qPrintable(r.out));
}

void TestPorticoctl::watchAndFollow_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expect");
    QTest::newRow("watch") << QStringList{"watch"} << "  my-api crashed: exit 1\n";
    QTest::newRow("watch-json") << QStringList{"watch", "--json"} << "\"kind\":\"project.state\"";
    QTest::newRow("logs-follow") << QStringList{"logs", "my-api", "-f"} << "hello from my-api";
}

void TestPorticoctl::watchAndFollow() {
    QFETCH(QStringList, args);
    QFETCH(QString, expect);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NO_COLOR", "1");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PORTICOCTL_PATH), args + QStringList{"--socket", m_socket});
    QVERIFY(p.waitForStarted(5000));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->subscriberCount(), 1, 10000);
    // logs -f holds back what streams in before its backlog has come, so no wait is needed.
    m_api->emitEvent("project.log", {{"project", "other"}, {"stream", "stdout"}, {"text", "not mine"}});
    m_api->emitEvent("project.log",
                     {{"project", "my-api"}, {"stream", "stdout"}, {"text", "hello from my-api"}});
    m_api->emitEvent("project.state", {{"project", "my-api"}, {"state", "crashed"}, {"reason", "exit 1"}});
    QByteArray out;
    QVERIFY(QTest::qWaitFor(
        [&] {
            out += p.readAllStandardOutput();
            return out.contains(expect.toUtf8());
        },
        10000));
    if (args.first() == QLatin1String("logs"))
        QVERIFY(!out.contains("not mine"));
    if (args == QStringList{"watch"}) {
        // Sentences, each after its local time.
        static const QRegularExpression sentence(
            QStringLiteral("^\\d\\d:\\d\\d:\\d\\d  my-api crashed: exit 1$"),
            QRegularExpression::MultilineOption);
        QVERIFY2(sentence.match(QString::fromUtf8(out)).hasMatch(), out.constData());
        QVERIFY2(out.contains("  my-api: hello from my-api\n"), out.constData());
        QVERIFY2(!out.contains('{'), out.constData()); // no JSON in the sentences
    }
    // The daemon going away ends it with exit 2.
    m_server.reset();
    QSignalSpy done(&p, &QProcess::finished);
    QVERIFY(p.state() == QProcess::NotRunning || done.wait(10000));
    QCOMPARE(p.exitCode(), 2);
}

QTEST_GUILESS_MAIN(TestPorticoctl)
#include "tst_porticoctl.moc"

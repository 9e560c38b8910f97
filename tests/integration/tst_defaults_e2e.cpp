// The documented defaults, as a real porticod with no settings of its own applies them:
// the allowed port range (1024-65535), the admin socket's limits (4 MiB lines, 256
// clients and one more for operators), projects.logs' lines (100 by default, at most
// 10000), and --print-config.
#include "daemonfixture.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <vector>

using namespace portico::test;

namespace {

// The first JSON line a socket gets within timeoutMs (empty if none).
QJsonObject nextLine(QLocalSocket &s, int timeoutMs = 10000) {
    const QDeadlineTimer deadline(timeoutMs);
    while (!s.canReadLine() && !deadline.hasExpired() && s.state() == QLocalSocket::ConnectedState)
        s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
    return s.canReadLine() ? QJsonDocument::fromJson(s.readLine()).object() : QJsonObject();
}

} // namespace

class TestDefaultsE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void portsOutsideTheDefaultRangeAreRefused_data();
    void portsOutsideTheDefaultRangeAreRefused();
    void logsLinesDefaultAndCap();
    void adminLineLimitIs4MiB();
    void adminClientLimitIs256();
    void printConfigIsTheDocumentedDefaults();

private:
    DaemonFixture m_daemon;
};

void TestDefaultsE2e::initTestCase() {
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why)); // no settings beyond paths and workers
}

void TestDefaultsE2e::portsOutsideTheDefaultRangeAreRefused_data() {
    QTest::addColumn<int>("port");
    QTest::addColumn<bool>("inRange");
    QTest::newRow("1023") << 1023 << false;
    QTest::newRow("80") << 80 << false;
    QTest::newRow("1024") << 1024 << true;
}

void TestDefaultsE2e::portsOutsideTheDefaultRangeAreRefused() {
    QFETCH(int, port);
    QFETCH(bool, inRange);
    // validate: the dry run plans without binding anything.
    const QJsonObject r =
        m_daemon.call(QStringLiteral("projects.validate"),
                      {{QStringLiteral("manifest"),
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("ranged")},
                                    {QStringLiteral("runtime"), QStringLiteral("upstream")},
                                    {QStringLiteral("upstream"), QStringLiteral("127.0.0.1:9")},
                                    {QStringLiteral("listen"),
                                     QJsonObject{{QStringLiteral("port"), port},
                                                 {QStringLiteral("protocol"), QStringLiteral("tcp")}}}}}});
    const QString message =
        r.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
    if (inRange) {
        QVERIFY2(!message.contains(QStringLiteral("outside the allowed range")), qPrintable(message));
    } else {
        QCOMPARE(r.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1002);
        QCOMPARE(message, QStringLiteral("port %1/tcp is outside the allowed range 1024-65535").arg(port));
    }
}

// projects.logs: the newest 100 lines unless asked, up to 10000; 0 or more is refused.
void TestDefaultsE2e::logsLinesDefaultAndCap() {
    const QJsonObject r = m_daemon.call(
        QStringLiteral("projects.deploy"),
        {{QStringLiteral("manifest"),
          QJsonObject{
              {QStringLiteral("name"), QStringLiteral("chatty")},
              {QStringLiteral("runtime"), QStringLiteral("process")},
              {QStringLiteral("command"),
               QJsonArray{QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                          QStringLiteral("i=1; while [ $i -le 150 ]; do echo \"line $i\"; i=$((i+1)); done; "
                                         "exec '%1' http 2>/dev/null")
                              .arg(QStringLiteral(TESTBACKEND_PATH))}}}},
         {QStringLiteral("source_dir"), m_daemon.dir()}},
        60000);
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QTRY_VERIFY(
        m_daemon.logLines(QStringLiteral("chatty"), 10000).filter(QStringLiteral("listening on")).size() ==
        1);
    const QStringList all = m_daemon.logLines(QStringLiteral("chatty"), 10000);
    QVERIFY2(all.size() > 150, qPrintable(all.join(QLatin1Char('\n'))));
    QVERIFY(all.contains(QStringLiteral("line 1")));
    const QJsonObject byDefault =
        m_daemon.call(QStringLiteral("projects.logs"), {{QStringLiteral("name"), QStringLiteral("chatty")}});
    const QJsonArray lines =
        byDefault.value(QStringLiteral("result")).toObject().value(QStringLiteral("lines")).toArray();
    QCOMPARE(lines.size(), 100);
    QCOMPARE(m_daemon.logLines(QStringLiteral("chatty"), 100),
             all.mid(all.size() - 100)); // the newest, in order
    for (const int bad : {0, 10001}) {
        const QJsonObject e =
            m_daemon
                .call(QStringLiteral("projects.logs"),
                      {{QStringLiteral("name"), QStringLiteral("chatty")}, {QStringLiteral("lines"), bad}})
                .value(QStringLiteral("error"))
                .toObject();
        QCOMPARE(e.value(QStringLiteral("code")).toInt(), -32602);
        QCOMPARE(e.value(QStringLiteral("data")).toObject().value(QStringLiteral("param")).toString(),
                 QStringLiteral("lines"));
    }
}

// A request line over 4 MiB: error 1006 naming the limit, then the connection closes; a
// line just under it is read whole and answered.
void TestDefaultsE2e::adminLineLimitIs4MiB() {
    constexpr qint64 kLimit = 4 * 1024 * 1024;
    {
        QLocalSocket s;
        s.connectToServer(m_daemon.socketPath());
        QVERIFY(s.waitForConnected(5000));
        const QByteArray head = R"({"jsonrpc":"2.0","id":7,"method":"projects.get","params":{"name":")";
        const QByteArray tail = "\"}}\n";
        s.write(head + QByteArray(kLimit - 1024 - head.size() - tail.size(), 'a') + tail);
        const QJsonObject answer = nextLine(s);
        QCOMPARE(answer.value(QStringLiteral("id")).toInt(), 7);
        QVERIFY(answer.contains(QStringLiteral("error"))); // no such project: read and answered
        QVERIFY(answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt() !=
                1006);
    }
    QLocalSocket s;
    s.connectToServer(m_daemon.socketPath());
    QVERIFY(s.waitForConnected(5000));
    s.write(QByteArray(kLimit + 1, 'x'));
    const QJsonObject error = nextLine(s).value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1006);
    QCOMPARE(
        error.value(QStringLiteral("data")).toObject().value(QStringLiteral("max_line_bytes")).toDouble(),
        double(kLimit));
    QTRY_COMPARE_WITH_TIMEOUT(s.state(), QLocalSocket::UnconnectedState, 10000);
}

// 256 clients at once are served, and one more for root and the daemon's own user (this
// test is both); past that a busy daemon answers 1007 and closes, while an idle connection
// makes room for an operator (docs/admin-protocol.md, "Nobody can lock operators out").
void TestDefaultsE2e::adminClientLimitIs256() {
    std::vector<std::unique_ptr<QLocalSocket>> clients;
    const auto connectOne = [&clients, this](const QByteArray &request) {
        clients.push_back(std::make_unique<QLocalSocket>());
        QLocalSocket &s = *clients.back();
        s.connectToServer(m_daemon.socketPath());
        if (!s.waitForConnected(5000))
            return QJsonObject();
        s.write(request);
        // Answered: so the daemon counts it before the next one comes.
        return nextLine(s);
    };
    // Subscribed (to a kind nothing here emits): busy connections, never idle.
    const QByteArray subscribe = R"({"jsonrpc":"2.0","id":1,"method":"events.subscribe",)"
                                 R"("params":{"kinds":["project.undeployed"]}})"
                                 "\n";
    for (int i = 0; i < 256; ++i)
        QVERIFY2(connectOne(subscribe).contains(QStringLiteral("result")), qPrintable(QString::number(i)));
    // The 257th: the slot kept for operators.
    QVERIFY2(connectOne(subscribe).contains(QStringLiteral("result")), "the operator's slot");

    // The 258th, with every connection busy: refused, in words, then closed.
    QLocalSocket extra;
    extra.connectToServer(m_daemon.socketPath());
    QVERIFY(extra.waitForConnected(5000));
    const QJsonObject refused = nextLine(extra);
    QCOMPARE(refused.value(QStringLiteral("id")), QJsonValue(QJsonValue::Null));
    const QJsonObject error = refused.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1007);
    QCOMPARE(error.value(QStringLiteral("message")).toString(),
             QStringLiteral("too many admin clients (max 256)"));
    QTRY_COMPARE_WITH_TIMEOUT(extra.state(), QLocalSocket::UnconnectedState, 10000);
    // Those inside go on.
    clients.front()->write(R"({"jsonrpc":"2.0","id":2,"method":"routes.list"})"
                           "\n");
    QCOMPARE(nextLine(*clients.front()).value(QStringLiteral("id")).toInt(), 2);

    // The operator's slot freed and taken by an idle connection (answered, then silent):
    // the next operator connection closes it to get in.
    clients.back().reset();
    const QByteArray info = R"({"jsonrpc":"2.0","id":3,"method":"daemon.info"})"
                            "\n";
    // Tried until the daemon has seen that close, and not once more (each try is a
    // connection of its own; QTRY_* would evaluate it again after success).
    QVERIFY(QTest::qWaitFor([&] { return connectOne(info).contains(QStringLiteral("result")); }, 10000));
    QLocalSocket &idle = *clients.back();
    QCOMPARE(idle.state(), QLocalSocket::ConnectedState);
    QVERIFY2(connectOne(info).contains(QStringLiteral("result")), "an operator past a full house");
    QTRY_COMPARE_WITH_TIMEOUT(idle.state(), QLocalSocket::UnconnectedState, 10000);
    QCOMPARE(clients.front()->state(), QLocalSocket::ConnectedState); // busy ones stay

    clients.clear();
    // Room again once they have gone.
    QTRY_VERIFY_WITH_TIMEOUT(
        m_daemon.call(QStringLiteral("daemon.info"), {}, 2000).contains(QStringLiteral("result")), 10000);
}

// porticod --print-config with an empty configuration prints every setting with the value
// resources/config/porticod.example.json documents (the paths and programs it fills in aside).
void TestDefaultsE2e::printConfigIsTheDocumentedDefaults() {
    QTemporaryDir dir;
    const QString empty = writeFile(dir.path(), QStringLiteral("empty.json"), "{}");
    const ProgramRun run = runProgram(QStringLiteral(PORTICOD_PATH),
                                      {QStringLiteral("--config"), empty, QStringLiteral("--print-config")});
    QCOMPARE(run.code, 0);
    QJsonObject printed = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QFile f(QStringLiteral(PORTICO_SOURCE_DIR "/resources/config/porticod.example.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QJsonObject example = QJsonDocument::fromJson(f.readAll()).object();
    for (const char *filled : {"admin_socket", "state_dir", "backend_dir", "deno_path", "docker_path"}) {
        QVERIFY2(!printed.value(QLatin1String(filled)).toString().isEmpty(), filled);
        printed.remove(QLatin1String(filled));
        example.remove(QLatin1String(filled));
    }
    QCOMPARE(printed, example);
}

QTEST_GUILESS_MAIN(TestDefaultsE2e)
#include "tst_defaults_e2e.moc"

// The admin socket of a real porticod under clients that hold it, crowd it, half-close
// it or send ambiguous requests: idle connections close while subscribers and slow
// requests stay; an operator gets in past admin_max_clients; `echo … | socat` gets the
// answer of a slow deploy; a request with a duplicate key is refused and changes nothing.
#include "adminclient.h"
#include "daemonfixture.h"
#include "gatedproject.h"
#include "protocol.h"
#include "skips.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <grp.h>
#include <unistd.h>

using namespace portico;
using namespace portico::test;

namespace {

constexpr int kWaitMs = 20000;

QByteArray line(const QJsonObject &o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

QByteArray request(int id, const QString &method, const QJsonObject &params = {}) {
    return line({{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                 {QStringLiteral("id"), id},
                 {QStringLiteral("method"), method},
                 {QStringLiteral("params"), params}});
}

// Sends raw bytes on a new connection and returns the first line answered.
QJsonObject rawCall(const DaemonFixture &d, const QByteArray &bytes) {
    QLocalSocket s;
    s.connectToServer(d.socketPath());
    if (!s.waitForConnected(kWaitMs))
        return {};
    s.write(bytes);
    QByteArray got;
    QDeadlineTimer deadline(kWaitMs);
    while (!got.contains('\n') && !deadline.hasExpired() && s.waitForReadyRead(1000))
        got += s.readAll();
    return QJsonDocument::fromJson(got.left(got.indexOf('\n'))).object();
}

// The answers in a stream of lines, by id.
QMap<int, QJsonObject> answersById(const QByteArray &stream) {
    QMap<int, QJsonObject> out;
    for (const QByteArray &l : stream.split('\n')) {
        const QJsonObject o = QJsonDocument::fromJson(l).object();
        if (o.contains(QStringLiteral("id")))
            out.insert(o.value(QStringLiteral("id")).toInt(), o);
    }
    return out;
}

// `socat - UNIX-CONNECT:<path>` as an unprivileged user of group nogroup (a group member,
// not an operator), its input held open.
struct GroupClient {
    QProcess p;
    QByteArray out;
    void start(const QString &socket) {
        p.start(QStringLiteral("setpriv"), {QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"),
                                            QStringLiteral("--clear-groups"), QStringLiteral("socat"),
                                            QStringLiteral("-"), QStringLiteral("UNIX-CONNECT:") + socket});
    }
    QByteArray read() {
        out += p.readAllStandardOutput();
        return out;
    }
};

} // namespace

class TestAdminPlaneE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void idleConnectionsCloseSubscribersAndSlowRequestsStay();
    void operatorGetsInPastTheClientLimit();
    void halfClosedClientGetsEveryAnswer();
    void duplicateKeyRefusesTheRequest_data();
    void duplicateKeyRefusesTheRequest();

private:
    std::unique_ptr<ThreadedBackend> m_http;
};

void TestAdminPlaneE2e::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
}

void TestAdminPlaneE2e::idleConnectionsCloseSubscribersAndSlowRequestsStay() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("admin_idle_timeout_ms"), 300);
    d.config.insert(QStringLiteral("ready_timeout_ms"), 120000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));

    // A subscriber, a connection waiting for a slow deploy, and one that says nothing.
    AdminClient subscriber;
    subscriber.setSocketPath(d.socketPath());
    QStringList events;
    connect(&subscriber, &AdminClient::eventReceived, this,
            [&](const QString &kind, const QJsonObject &data, const QDateTime &) {
                events << kind + QLatin1Char(':') + data.value(QStringLiteral("project")).toString();
            });
    bool subscribed = false;
    subscriber.subscribe({QStringLiteral("project.deployed")},
                         [&](const jsonrpc::Message &m) { subscribed = !m.isError(); });
    subscriber.connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(subscribed, kWaitMs);

    QLocalSocket slow;
    slow.connectToServer(d.socketPath());
    QVERIFY(slow.waitForConnected(kWaitMs));
    slow.write(
        request(1, QStringLiteral("projects.deploy"),
                {{QStringLiteral("manifest"), gatedManifest(QStringLiteral("slow"), QStringLiteral("gate"))},
                 {QStringLiteral("source_dir"), d.dir()}}));

    QLocalSocket idle;
    idle.connectToServer(d.socketPath());
    QVERIFY(idle.waitForConnected(kWaitMs));
    // The idle one is closed by the daemon; the others are not.
    QTRY_COMPARE_WITH_TIMEOUT(idle.state(), QLocalSocket::UnconnectedState, kWaitMs);
    QCOMPARE(slow.state(), QLocalSocket::ConnectedState);
    QVERIFY(subscriber.isConnected());

    // The slow deploy's answer comes on its connection, and the subscriber sees it.
    QVERIFY(openGate(d, QStringLiteral("gate")));
    QByteArray answer;
    QTRY_VERIFY_WITH_TIMEOUT((answer += slow.readAll()).contains('\n'), kWaitMs);
    QVERIFY2(QJsonDocument::fromJson(answer).object().contains(QStringLiteral("result")), answer.constData());
    QTRY_VERIFY_WITH_TIMEOUT(events.contains(QStringLiteral("project.deployed:slow")), kWaitMs);
    // Answered and quiet: now it is idle too.
    QTRY_COMPARE_WITH_TIMEOUT(slow.state(), QLocalSocket::UnconnectedState, kWaitMs);
    QVERIFY(subscriber.isConnected());
}

void TestAdminPlaneE2e::operatorGetsInPastTheClientLimit() {
    PORTICO_REQUIRE(::geteuid() == 0,
                    "root, to run clients as a member of the admin group (nobody:nogroup); CI runs as root");
    PORTICO_REQUIRE(!QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty() &&
                        !QStandardPaths::findExecutable(QStringLiteral("socat")).isEmpty() &&
                        ::getgrnam("nogroup"),
                    "setpriv (util-linux), socat (installer/deps.sh) and the group nogroup (Debian has one)");
    DaemonFixture d;
    d.config.insert(QStringLiteral("admin_max_clients"), 2);
    d.config.insert(QStringLiteral("admin_group"), QStringLiteral("nogroup"));
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    // Group members must reach the socket inside the fixture's folder.
    QVERIFY(QFile::setPermissions(d.dir(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                               QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                               QFileDevice::ExeOther));

    // Two group members fill admin_max_clients (each answered, so each is in).
    GroupClient members[2];
    for (auto &m : members) {
        m.start(d.socketPath());
        QVERIFY(m.p.waitForStarted());
        m.p.write(request(1, QStringLiteral("daemon.info")));
        QTRY_VERIFY_WITH_TIMEOUT(m.read().contains("\"result\""), kWaitMs);
    }
    // A third member is turned away.
    GroupClient third;
    third.start(d.socketPath());
    QVERIFY(third.p.waitForFinished(kWaitMs));
    QVERIFY2(third.read().contains("too many admin clients (max 2)"), third.out.constData());

    // The operator gets in: the reserved slot.
    QLocalSocket op;
    op.connectToServer(d.socketPath());
    QVERIFY(op.waitForConnected(kWaitMs));
    op.write(request(2, QStringLiteral("daemon.info")));
    QByteArray got;
    QTRY_VERIFY_WITH_TIMEOUT((got += op.readAll()).contains('\n'), kWaitMs);
    QVERIFY2(got.contains("\"result\""), got.constData());
    // And a second operator too: the member idle the longest makes room.
    const QJsonObject r = d.call(QStringLiteral("daemon.info"));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
    QTRY_VERIFY_WITH_TIMEOUT(members[0].p.state() == QProcess::NotRunning ||
                                 members[1].p.state() == QProcess::NotRunning,
                             kWaitMs);
    QVERIFY(op.state() == QLocalSocket::ConnectedState);
    for (auto &m : members) {
        m.p.closeWriteChannel();
        if (!m.p.waitForFinished(kWaitMs))
            m.p.kill();
    }
}

void TestAdminPlaneE2e::halfClosedClientGetsEveryAnswer() {
    PORTICO_REQUIRE(!QStandardPaths::findExecutable(QStringLiteral("socat")).isEmpty(),
                    "socat (installer/deps.sh installs it)");
    DaemonFixture d;
    d.config.insert(QStringLiteral("ready_timeout_ms"), 120000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));

    // echo '<slow deploy>\n<query>' | socat -t 60 - UNIX-CONNECT:<socket>
    QProcess socat;
    socat.start(QStringLiteral("socat"), {QStringLiteral("-t"), QStringLiteral("60"), QStringLiteral("-"),
                                          QStringLiteral("UNIX-CONNECT:") + d.socketPath()});
    QVERIFY(socat.waitForStarted());
    socat.write(
        request(1, QStringLiteral("projects.deploy"),
                {{QStringLiteral("manifest"), gatedManifest(QStringLiteral("slow"), QStringLiteral("gate"))},
                 {QStringLiteral("source_dir"), d.dir()}}) +
        request(2, QStringLiteral("daemon.info")));
    socat.closeWriteChannel();
    QByteArray out;
    QTRY_VERIFY_WITH_TIMEOUT(answersById(out += socat.readAllStandardOutput()).contains(2), kWaitMs);
    // The input has ended and the deploy is still running: the connection waits for it.
    QVERIFY(!answersById(out).contains(1));
    QCOMPARE(socat.state(), QProcess::Running);

    QVERIFY(openGate(d, QStringLiteral("gate")));
    // Answered, then closed by the daemon (well before socat's own 60 s).
    QVERIFY(socat.waitForFinished(kWaitMs));
    out += socat.readAllStandardOutput();
    const QJsonObject deployed = answersById(out).value(1);
    QVERIFY2(deployed.value(QStringLiteral("result")).toObject().value(QStringLiteral("name")) ==
                 QStringLiteral("slow"),
             out.constData());
    QCOMPARE(projectNames(d), QStringList{QStringLiteral("slow")});
}

void TestAdminPlaneE2e::duplicateKeyRefusesTheRequest_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("key");
    QTest::newRow("method twice") << QByteArray(R"({"jsonrpc":"2.0","id":7,"method":"daemon.info",)"
                                                R"("method":"projects.undeploy","params":{"name":"keep"}})"
                                                "\n")
                                  << "method";
    QTest::newRow("name twice in params")
        << QByteArray(R"({"jsonrpc":"2.0","id":7,"method":"projects.undeploy",)"
                      R"("params":{"name":"other","name":"keep"}})"
                      "\n")
        << "params.name";
    QTest::newRow("name twice in a manifest")
        << QByteArray(R"({"jsonrpc":"2.0","id":7,"method":"projects.deploy","params":{"manifest":)"
                      R"({"name":"fresh","runtime":"upstream","upstream":"127.0.0.1:1","name":"keep"}}})"
                      "\n")
        << "params.manifest.name";
}

void TestAdminPlaneE2e::duplicateKeyRefusesTheRequest() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, key);
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QByteArray keep =
        QStringLiteral(R"({"name":"keep","runtime":"upstream","upstream":"127.0.0.1:%1"})")
            .arg(m_http->port())
            .toUtf8();
    QVERIFY(d.deploy(keep).contains(QStringLiteral("result")));
    const int auditBefore =
        d.call(QStringLiteral("audit.list")).value("result").toObject().value("entries").toArray().size();

    const QJsonObject r = rawCall(d, bytes);
    const QJsonObject error = r.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), protocol::error::InvalidRequest);
    QCOMPARE(error.value(QStringLiteral("message")).toString(),
             QStringLiteral("duplicate key \"%1\": a key may appear only once in an object").arg(key));
    QCOMPARE(r.value(QStringLiteral("id")).toInt(), 7);
    // Nothing happened: "keep" still serves, nothing new, nothing audited.
    QCOMPARE(projectNames(d), QStringList{QStringLiteral("keep")});
    QVERIFY(DaemonFixture::httpGet(d.ingressPort(), "/keep/x").body.startsWith("hello from up"));
    QCOMPARE(
        d.call(QStringLiteral("audit.list")).value("result").toObject().value("entries").toArray().size(),
        auditBefore);
}

QTEST_GUILESS_MAIN(TestAdminPlaneE2e)
#include "tst_adminplane_e2e.moc"

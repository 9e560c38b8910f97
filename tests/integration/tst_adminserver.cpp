// A real AdminServer over its real socket in a temp dir, with a FakeAdminApi behind it:
// file modes, stale and live sockets, framing and errors per connection, events and a
// subscriber that stops reading. Its limits and the peer check: tst_adminlimits.
#include "admin/adminserver.h"
#include "admin/auditlog.h"
#include "adminclient.h"
#include "adminservertest.h"
#include "fakeadminapi.h"
#include "jsonrpc.h"
#include "protocol.h"
#include "skips.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace portico;
using jsonrpc::Message;
using namespace portico::test;
namespace err = protocol::error;

class TestAdminServer final : public AdminServerTestBase {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void socketAndDirectoryModes();
    void staleSocketIsReplaced();
    void secondServerIsRefused();
    void regularFileIsNotReplaced();
    void badInputKeepsConnectionUsable_data();
    void badInputKeepsConnectionUsable();
    void requestInFragments();
    void socatIsEnough_data();
    void socatIsEnough();
    void overLongLineClosesConnection_data();
    void overLongLineClosesConnection();
    void everyMethodOverTheSocket();
    void pipelinedBurstPastTheReadBuffer();
    void deployRefusalCarriesDetails();
    void auditRecordsPeerCredentials();
    void replyAfterClientLeftIsDropped();
    void clientVanishesMidBurst();
    void eventsReachSubscribersWithFilter();
    void statsTickAtOneHertz();
    void slowSubscriberIsDisconnected();
    void adminClientReconnectsAndResubscribes();
};

void TestAdminServer::init() {
    setUpServer();
}

void TestAdminServer::cleanup() {
    tearDownServer();
}

void TestAdminServer::socketAndDirectoryModes() {
    auto server = startServer();
    QVERIFY(server);
    QCOMPARE(server->socketPath(), m_config.adminSocket);
    QCOMPARE(modeOf(m_config.adminSocket), mode_t(0600));
    QCOMPARE(modeOf(m_dir->filePath("run/portico")), mode_t(0700));
    QCOMPARE(modeOf(m_dir->filePath("run")), mode_t(0700));
    server.reset();
    QVERIFY(!QFile::exists(m_config.adminSocket)); // closing removes it

    // An existing directory is left as it is.
    const QString shared = m_dir->filePath("shared");
    QVERIFY(QDir().mkpath(shared));
    ::chmod(QFile::encodeName(shared).constData(), 0755);
    m_config.adminSocket = shared + "/admin.sock";
    server = startServer();
    QVERIFY(server);
    QCOMPARE(modeOf(shared), mode_t(0755));
    QCOMPARE(modeOf(m_config.adminSocket), mode_t(0600));
}

void TestAdminServer::staleSocketIsReplaced() {
    QVERIFY(QDir().mkpath(QFileInfo(m_config.adminSocket).path()));
    // A crashed daemon's leftover: a bound socket file nobody listens on.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(m_config.adminSocket);
    memcpy(addr.sun_path, p.constData(), size_t(p.size()));
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
    ::close(fd);
    QVERIFY(QFileInfo::exists(m_config.adminSocket));

    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "daemon.info");
    const auto reply = c.next();
    QVERIFY(reply && reply->isResponse());
}

void TestAdminServer::secondServerIsRefused() {
    auto first = startServer();
    QVERIFY(first);
    QString error;
    auto second = startServer(&error);
    QVERIFY(!second);
    QCOMPARE(error, QStringLiteral("another porticod is already serving %1").arg(m_config.adminSocket));
    // The first one still serves.
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "daemon.info");
    QVERIFY(c.next().has_value());
}

void TestAdminServer::regularFileIsNotReplaced() {
    QVERIFY(QDir().mkpath(QFileInfo(m_config.adminSocket).path()));
    QFile f(m_config.adminSocket);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("precious");
    f.close();
    QString error;
    QVERIFY(!startServer(&error));
    QVERIFY2(error.contains("not a socket"), qPrintable(error));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("precious"));
}

void TestAdminServer::badInputKeepsConnectionUsable_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("code");
    QTest::newRow("invalid-json") << QByteArray("this is not json\n") << err::ParseError;
    QTest::newRow("partial-line") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.in\n")
                                  << err::ParseError;
    QTest::newRow("not-a-request") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":1}\n") << err::InvalidRequest;
    QTest::newRow("unknown-method") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}\n")
                                    << err::MethodNotFound;
    QTest::newRow("wrong-type")
        << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"projects.get\",\"params\":{\"name\":7}}\n")
        << err::InvalidParams;
    QTest::newRow("not-found")
        << QByteArray(
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"projects.get\",\"params\":{\"name\":\"x\"}}\n")
        << err::NotFound;
}

void TestAdminServer::badInputKeepsConnectionUsable() {
    QFETCH(QByteArray, line);
    QFETCH(int, code);
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.write(line);
    const auto e = c.next();
    QVERIFY(e.has_value());
    QVERIFY(e->isError());
    QCOMPARE(e->errorCode(), code);
    QVERIFY(!e->errorMessage().isEmpty());
    // The same connection still answers.
    c.request(2, "daemon.info");
    const auto ok = c.next();
    QVERIFY(ok && ok->isResponse());
    QCOMPARE(ok->id(), QJsonValue(2));
    QCOMPARE(ok->result().toObject().value("protocol_version").toInt(), protocol::kVersion);
}

void TestAdminServer::requestInFragments() {
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    const QByteArray line =
        Message::request(9, "routes.list").serialize() + Message::request(10, "stats.get").serialize();
    for (qsizetype i = 0; i < line.size(); i += 7) {
        c.write(line.mid(i, 7));
        c.socket().flush();                // in the kernel now: one turn of this thread's loop reads it
        QCoreApplication::processEvents(); // so the server sees each piece on its own
    }
    const auto a = c.next();
    const auto b = c.next();
    QVERIFY(a && b);
    QCOMPARE(a->id(), QJsonValue(9));
    QCOMPARE(b->id(), QJsonValue(10));
}

void TestAdminServer::socatIsEnough_data() {
    QTest::addColumn<bool>("pipe");
    QTest::newRow("interactive") << false;       // the request, then wait for the answer
    QTest::newRow("echo-pipe-to-socat") << true; // the request and EOF at once
}

void TestAdminServer::socatIsEnough() {
    QFETCH(bool, pipe);
    const QString socat = QStandardPaths::findExecutable(QStringLiteral("socat"));
    PORTICO_REQUIRE(!socat.isEmpty(), "socat (installer/deps.sh)");
    auto server = startServer();
    QVERIFY(server);
    QProcess p;
    p.start(socat, {"-t", "5", "-", "UNIX-CONNECT:" + m_config.adminSocket});
    QVERIFY(p.waitForStarted(5000));
    p.write(R"({"jsonrpc":"2.0","id":1,"method":"projects.get","params":{"name":"my-api"}})"
            "\n");
    if (pipe)
        p.closeWriteChannel();
    QByteArray out;
    QVERIFY(QTest::qWaitFor(
        [&] {
            out += p.readAllStandardOutput();
            return out.endsWith('\n');
        },
        10000));
    p.closeWriteChannel();
    const auto reply = Message::parse(out);
    QVERIFY2(reply && reply->isResponse(), out.constData());
    QCOMPARE(reply->result().toObject().value("name").toString(), QStringLiteral("my-api"));
    QSignalSpy done(&p, &QProcess::finished);
    QVERIFY(p.state() == QProcess::NotRunning || done.wait(10000));
}

void TestAdminServer::overLongLineClosesConnection_data() {
    QTest::addColumn<bool>("withNewline");
    QTest::newRow("complete-line") << true;
    QTest::newRow("endless-line") << false;
}

void TestAdminServer::overLongLineClosesConnection() {
    QFETCH(bool, withNewline);
    m_config.adminMaxLineBytes = 64 * 1024;
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "daemon.info");
    QVERIFY(c.next().has_value());
    QByteArray big = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"daemon.info\",\"params\":{\"pad\":\"";
    big.append(QByteArray(200 * 1024, 'x'));
    big.append("\"}}");
    if (withNewline)
        big.append('\n');
    c.write(big);
    const auto e = c.next();
    QVERIFY(e.has_value());
    QCOMPARE(e->errorCode(), err::LineTooLong);
    QCOMPARE(e->id(), QJsonValue(QJsonValue::Null));
    QVERIFY(c.waitDisconnected());
    QTRY_COMPARE(server->clientCount(), 0);
}

void TestAdminServer::everyMethodOverTheSocket() {
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    const QJsonObject manifest{{"name", "web"},
                               {"runtime", "process"},
                               {"command", QJsonArray{"x"}},
                               {"listen", QJsonObject{{"port", 4000}}}};
    const QList<QPair<QString, QJsonObject>> calls = {
        {"daemon.info", {}},
        {"routes.list", {}},
        {"projects.list", {}},
        {"projects.get", {{"name", "my-api"}}},
        {"projects.validate", {{"manifest", manifest}, {"source_dir", "/srv"}}},
        {"projects.deploy", {{"manifest", manifest}, {"source_dir", "/srv"}}},
        {"projects.restart", {{"name", "web"}}},
        {"projects.logs", {{"name", "web"}, {"lines", 10}}},
        {"stats.get", {}},
        {"audit.list", {}},
        {"daemon.reload", {}},
        {"projects.undeploy", {{"name", "web"}}},
        {"events.subscribe", {}},
    };
    // Pipelined: all written at once, answered in order.
    for (int i = 0; i < calls.size(); ++i)
        c.request(i, calls.at(i).first, calls.at(i).second);
    for (int i = 0; i < calls.size(); ++i) {
        const auto r = c.next();
        QVERIFY2(r.has_value(), qPrintable(calls.at(i).first));
        QVERIFY2(r->isResponse(), qPrintable(calls.at(i).first + ": " + r->errorMessage()));
        QCOMPARE(r->id(), QJsonValue(i));
    }
    QCOMPARE(server->subscriberCount(), 1);
    c.request(99, "routes.list");
    const auto routes = c.next();
    QVERIFY(routes);
    QCOMPARE(routes->result().toObject().value("routes").toArray().size(),
             2); // ingress + my-api; web is gone
}

void TestAdminServer::pipelinedBurstPastTheReadBuffer() {
    // Far more bytes in one write than the per-client read buffer holds: reading must
    // resume as lines are consumed, and every request be answered in order.
    m_config.adminMaxLineBytes = 1024;
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    constexpr int kRequests = 3000;
    QByteArray burst;
    for (int i = 0; i < kRequests; ++i)
        burst += Message::request(i, "projects.get", {{"name", "my-api"}}).serialize();
    QVERIFY(burst.size() > 2 * (1024 + 64 * 1024));
    c.write(burst);
    for (int i = 0; i < kRequests; ++i) {
        const auto r = c.next();
        QVERIFY2(r.has_value(), qPrintable(QString::number(i)));
        QCOMPARE(r->id(), QJsonValue(i));
        QVERIFY(r->isResponse());
    }
}

void TestAdminServer::deployRefusalCarriesDetails() {
    m_api->m_conflicts =
        QJsonArray{QJsonObject{{"port", 3000},
                               {"transport", "tcp"},
                               {"holder", "my-api"},
                               {"message", "port 3000/tcp is already bound by project 'my-api'"}}};
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request("d1", "projects.deploy", {{"manifest", QJsonObject{{"name", "other"}}}});
    const auto r = c.next();
    QVERIFY(r && r->isError());
    QCOMPARE(r->errorCode(), err::Conflict);
    QCOMPARE(r->id(), QJsonValue("d1"));
    QCOMPARE(r->errorData().value("conflicts").toArray(), m_api->m_conflicts);
}

void TestAdminServer::auditRecordsPeerCredentials() {
    m_api->m_deferReplies = true;
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "projects.deploy", {{"manifest", QJsonObject{{"name", "web"}}}});
    QVERIFY(c.next().has_value());
    c.request(2, "projects.undeploy", {{"name", "ghost"}});
    QVERIFY(c.next().has_value());
    c.request(3, "audit.list");
    const auto r = c.next();
    QVERIFY(r && r->isResponse());
    const QJsonArray entries = r->result().toObject().value("entries").toArray();
    QCOMPARE(entries.size(), 2);
    const QJsonObject first = entries.at(0).toObject();
    QCOMPARE(first.value("uid").toInteger(), qint64(::getuid()));
    QCOMPARE(first.value("pid").toInteger(), qint64(::getpid())); // SO_PEERCRED saw this process
    QCOMPARE(first.value("outcome").toString(), QStringLiteral("ok"));
    QCOMPARE(entries.at(1).toObject().value("outcome").toString(), QStringLiteral("refused"));
    QCOMPARE(m_api->m_calls.first().peer.pid, qint64(::getpid()));
    // And on disk, one JSON line each.
    QFile f(QDir(m_config.stateDir).filePath("audit.log"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(QJsonDocument::fromJson(lines.at(1)).object().value("project").toString(),
             QStringLiteral("ghost"));
}

void TestAdminServer::replyAfterClientLeftIsDropped() {
    m_api->m_holdReplies = true;
    auto server = startServer();
    QVERIFY(server);
    {
        RawClient c(m_config.adminSocket);
        QVERIFY(c.waitConnected());
        c.request(1, "projects.restart", {{"name", "my-api"}});
        QTRY_COMPARE(m_api->m_heldReplies.size(), 1);
    }
    QTRY_COMPARE(server->clientCount(), 0);
    m_api->m_heldReplies.first()(ApiResult::success(QJsonObject())); // must not crash
    QCOMPARE(server->auditLog().size(), 1);
}

void TestAdminServer::clientVanishesMidBurst() {
    // Answers written to a peer that is gone: EPIPE, never SIGPIPE.
    auto server = startServer();
    QVERIFY(server);
    for (int round = 0; round < 5; ++round) {
        const int fd = rawConnect(m_config.adminSocket);
        QVERIFY(fd >= 0);
        QByteArray burst;
        for (int i = 0; i < 500; ++i)
            burst += Message::request(i, "routes.list").serialize();
        QCOMPARE(::write(fd, burst.constData(), size_t(burst.size())), ssize_t(burst.size()));
        ::close(fd);
        QTRY_COMPARE(server->clientCount(), 0); // it noticed, wrote into the void, survived
    }
    QTRY_COMPARE(server->clientCount(), 0);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "daemon.info");
    QVERIFY(c.next().has_value());
}

void TestAdminServer::eventsReachSubscribersWithFilter() {
    auto server = startServer();
    QVERIFY(server);
    RawClient all(m_config.adminSocket), routesOnly(m_config.adminSocket), none(m_config.adminSocket);
    QVERIFY(all.waitConnected() && routesOnly.waitConnected() && none.waitConnected());
    all.request(1, "events.subscribe");
    routesOnly.request(1, "events.subscribe", {{"kinds", QJsonArray{"routes.changed"}}});
    QVERIFY(all.next().has_value());
    QVERIFY(routesOnly.next().has_value());
    QTRY_COMPARE(server->subscriberCount(), 2);

    m_api->emitEvent("project.state", {{"project", "my-api"}, {"state", "crashed"}});
    m_api->emitEvent("routes.changed", {{"routes", QJsonArray()}});

    const auto e1 = all.next();
    QVERIFY(e1 && e1->isNotification());
    QCOMPARE(e1->method(), QStringLiteral("event"));
    const QJsonObject p = e1->params().toObject();
    QCOMPARE(p.value("kind").toString(), QStringLiteral("project.state"));
    QCOMPARE(p.value("data").toObject().value("state").toString(), QStringLiteral("crashed"));
    QVERIFY(QDateTime::fromString(p.value("time").toString(), Qt::ISODateWithMs).isValid());
    const auto e2 = all.next();
    QVERIFY(e2);
    QCOMPARE(e2->params().toObject().value("kind").toString(), QStringLiteral("routes.changed"));

    const auto r1 = routesOnly.next();
    QVERIFY(r1);
    QCOMPARE(r1->params().toObject().value("kind").toString(), QStringLiteral("routes.changed"));
    QVERIFY(!routesOnly.next(200).has_value());
    QVERIFY(!none.next(200).has_value()); // unsubscribed clients get nothing
}

void TestAdminServer::statsTickAtOneHertz() {
    m_api->m_stats = {{"routes", QJsonArray{QJsonObject{{"host_port", 3000}, {"requests", 17}}}}};
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(1, "events.subscribe", {{"kinds", QJsonArray{"stats.tick"}}});
    QVERIFY(c.next().has_value());
    const auto a = c.next(5000);
    const auto b = c.next(5000);
    QVERIFY(a && b);
    QCOMPARE(a->params().toObject().value("kind").toString(), QStringLiteral("stats.tick"));
    QCOMPARE(a->params().toObject().value("data").toObject(), m_api->m_stats);
    // Once a second by the server's own time stamps (not this thread's clock, which load
    // may delay): two ticks are never closer than the timer's coarse slack allows.
    const auto stamp = [](const Message &m) {
        return QDateTime::fromString(m.params().toObject().value("time").toString(), Qt::ISODateWithMs);
    };
    QVERIFY(stamp(*a).isValid() && stamp(*b).isValid());
    const qint64 apart = stamp(*a).msecsTo(stamp(*b));
    QVERIFY2(apart >= 900, qPrintable(QStringLiteral("ticks %1 ms apart").arg(apart)));
}

void TestAdminServer::slowSubscriberIsDisconnected() {
    m_config.adminMaxQueueBytes = 256 * 1024;
    auto server = startServer();
    QVERIFY(server);
    // The slow one: a raw socket this test never reads from.
    const int slow = rawConnect(m_config.adminSocket);
    QVERIFY(slow >= 0);
    const QByteArray sub = Message::request(1, "events.subscribe").serialize();
    QCOMPARE(::write(slow, sub.constData(), size_t(sub.size())), ssize_t(sub.size()));
    RawClient fast(m_config.adminSocket);
    QVERIFY(fast.waitConnected());
    fast.request(1, "events.subscribe");
    QVERIFY(fast.next().has_value());
    QTRY_COMPARE(server->subscriberCount(), 2);

    const QJsonObject data{{"line", QString(16 * 1024, QLatin1Char('x'))}};
    int sent = 0;
    int received = 0;
    auto drain = [&] {
        while (fast.socket().canReadLine()) {
            fast.socket().readLine();
            ++received;
        }
    };
    // Far more than the kernel buffer plus the queue bound; bounded in count and time.
    for (const QDeadlineTimer bound(20000); sent < 400 && !bound.hasExpired();) {
        m_api->emitEvent("project.log", data);
        ++sent;
        QCoreApplication::processEvents();
        drain();
        if (server->subscriberCount() == 1 && sent > 100)
            break;
    }
    QTRY_COMPARE(server->subscriberCount(), 1);
    QCOMPARE(server->clientCount(), 1);
    // The fast one got every event.
    QVERIFY(QTest::qWaitFor(
        [&] {
            drain();
            return received == sent;
        },
        10000));
    // The slow one was cut: after what the kernel had buffered, EOF.
    char buf[65536];
    qint64 total = 0;
    for (;;) {
        pollfd pfd{slow, POLLIN, 0};
        QVERIFY(::poll(&pfd, 1, 5000) == 1);
        const ssize_t n = ::read(slow, buf, sizeof buf);
        if (n <= 0)
            break;
        total += n;
    }
    ::close(slow);
    QVERIFY(total < qint64(sent) * 16 * 1024);
    qInfo() << "events sent" << sent << "; the slow subscriber was cut after" << total << "bytes reached it";
}

void TestAdminServer::adminClientReconnectsAndResubscribes() {
    auto server = startServer();
    QVERIFY(server);
    AdminClient client;
    client.setSocketPath(m_config.adminSocket);
    client.setAutoReconnect(true, 50, 200);
    QSignalSpy connected(&client, &AdminClient::connected);
    QSignalSpy events(&client, &AdminClient::eventReceived);
    client.connectToDaemon();
    QTRY_COMPARE(connected.size(), 1); // may come before connectToDaemon() returns
    bool gotInfo = false;
    client.call("daemon.info", {}, [&](const Message &m) { gotInfo = m.isResponse(); });
    client.subscribe({"routes.changed"});
    QTRY_VERIFY(gotInfo);
    QTRY_COMPARE(server->subscriberCount(), 1);

    // The daemon goes away and comes back on the same path.
    QSignalSpy failures(&client, &AdminClient::connectError);
    server.reset();
    QTRY_VERIFY(client.state() != AdminClient::State::Connected);
    // It keeps trying, backing off, while nothing listens.
    QTRY_VERIFY_WITH_TIMEOUT(failures.size() >= 3, 5000);
    QCOMPARE(connected.size(), 1);
    server = startServer();
    QVERIFY(server);
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, 5000);
    QTRY_COMPARE(server->subscriberCount(), 1);
    m_api->emitEvent("routes.changed", {{"n", 1}});
    QTRY_COMPARE(events.size(), 1);
    QCOMPARE(events.first().at(0).toString(), QStringLiteral("routes.changed"));

    // Without reconnect, a call to nothing fails with kConnectionLost.
    AdminClient lonely;
    lonely.setSocketPath(m_dir->filePath("nowhere.sock"));
    QSignalSpy err(&lonely, &AdminClient::connectError);
    int code = 0;
    lonely.connectToDaemon();
    lonely.call("daemon.info", {}, [&](const Message &m) { code = m.errorCode(); });
    QVERIFY(err.size() == 1 || err.wait(5000));
    QTRY_COMPARE(code, jsonrpc::kConnectionLost);
}

QTEST_GUILESS_MAIN(TestAdminServer)
#include "tst_adminserver.moc"

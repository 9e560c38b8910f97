// The admin dispatcher without a socket: every method, every error shape, param checks,
// the audit trail.
#include "admin/auditlog.h"
#include "admin/dispatcher.h"
#include "contract.h"
#include "fakeadminapi.h"
#include "protocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;
using jsonrpc::Message;
using portico::test::FakeAdminApi;
namespace contract = portico::test::contract;
namespace err = protocol::error;

namespace {

QJsonObject manifest(const QString &name, int port = 0) {
    QJsonObject m{{"name", name}, {"runtime", "process"}, {"command", QJsonArray{"sleep", "1000"}}};
    if (port)
        m.insert("listen", QJsonObject{{"port", port}});
    return m;
}

} // namespace

class TestDispatcher final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void everyMethodAnswers_data();
    void everyMethodAnswers();
    void methodTableIsComplete();
    void contractCoversEveryMethod();
    void protocolErrors_data();
    void protocolErrors();
    void paramErrors_data();
    void paramErrors();
    void notFound_data();
    void notFound();
    void deployRefusedCarriesEveryErrorAndConflict();
    void validateRefusalIsNotAudited();
    void asyncAnswerComesLater();
    void notificationGetsNoReply();
    void subscribeRecordsKinds();
    void finishedOncePerCall();
    void auditTrail();
    void auditFileAndRing();

private:
    // Sends one line; returns every reply given so far (synchronous methods answer at once).
    QList<Message> send(const QByteArray &line);
    QList<Message> call(const QString &method, const QJsonObject &params = {});

    std::unique_ptr<FakeAdminApi> m_api;
    std::shared_ptr<AuditLog> m_audit;
    std::unique_ptr<Dispatcher> m_dispatcher;
    QStringList m_subscribed;
    bool m_subscribeCalled = false;
    bool m_withSubscribe = true;
    int m_nextId = 1;
};

void TestDispatcher::init() {
    m_api = std::make_unique<FakeAdminApi>();
    m_api->addProject(QStringLiteral("my-api"), 3000);
    m_audit = std::make_shared<AuditLog>(QString(), 100);
    m_dispatcher = std::make_unique<Dispatcher>(m_api.get(), m_audit);
    m_subscribed.clear();
    m_subscribeCalled = false;
    m_withSubscribe = true;
}

void TestDispatcher::cleanup() {
    m_dispatcher.reset();
    m_api.reset();
}

QList<Message> TestDispatcher::send(const QByteArray &line) {
    QList<Message> out;
    Dispatcher::Context ctx;
    ctx.peer = PeerInfo{1234, 5678};
    if (m_withSubscribe)
        ctx.subscribe = [this](const QStringList &kinds) {
            m_subscribeCalled = true;
            m_subscribed = kinds;
        };
    m_dispatcher->handleLine(line, ctx, [&out](const Message &m) { out.append(m); });
    return out;
}

QList<Message> TestDispatcher::call(const QString &method, const QJsonObject &params) {
    return send(Message::request(m_nextId++, method, params).serialize());
}

void TestDispatcher::everyMethodAnswers_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<QString>("resultKey"); // a key the result object must have
    QTest::newRow("daemon.info") << "daemon.info" << QJsonObject() << "protocol_version";
    QTest::newRow("routes.list") << "routes.list" << QJsonObject() << "routes";
    QTest::newRow("projects.list") << "projects.list" << QJsonObject() << "projects";
    QTest::newRow("projects.get") << "projects.get" << QJsonObject{{"name", "my-api"}} << "runtime";
    QTest::newRow("projects.validate")
        << "projects.validate" << QJsonObject{{"manifest", manifest("new")}} << "ok";
    QTest::newRow("projects.validate-source")
        << "projects.validate" << QJsonObject{{"manifest", manifest("new")}, {"source_dir", "/srv/x"}}
        << "ok";
    QTest::newRow("projects.deploy") << "projects.deploy" << QJsonObject{{"manifest", manifest("new", 4000)}}
                                     << "diff";
    QTest::newRow("projects.undeploy") << "projects.undeploy" << QJsonObject{{"name", "my-api"}} << "project";
    QTest::newRow("projects.restart") << "projects.restart" << QJsonObject{{"name", "my-api"}} << "project";
    QTest::newRow("projects.logs") << "projects.logs" << QJsonObject{{"name", "my-api"}, {"lines", 5}}
                                   << "lines";
    QTest::newRow("stats.get") << "stats.get" << QJsonObject() << "uptime_ms";
    QTest::newRow("events.subscribe") << "events.subscribe" << QJsonObject() << "subscribed";
    QTest::newRow("events.subscribe-kinds")
        << "events.subscribe" << QJsonObject{{"kinds", QJsonArray{"stats.tick"}}} << "kinds";
    QTest::newRow("daemon.reload") << "daemon.reload" << QJsonObject() << "changed";
    QTest::newRow("audit.list") << "audit.list" << QJsonObject{{"limit", 10}} << "entries";
}

void TestDispatcher::everyMethodAnswers() {
    QFETCH(QString, method);
    QFETCH(QJsonObject, params);
    QFETCH(QString, resultKey);
    const auto replies = call(method, params);
    QCOMPARE(replies.size(), 1);
    const Message &r = replies.first();
    QVERIFY2(r.isResponse(), qPrintable(r.errorMessage()));
    QCOMPARE(r.id(), QJsonValue(m_nextId - 1));
    QVERIFY2(r.result().toObject().contains(resultKey), QJsonDocument(r.result().toObject()).toJson());
    // The whole answer has the shape the real daemon's has (tst_contract_e2e checks the
    // daemon against the same shapes): the fake behind the dispatcher cannot drift.
    const QStringList problems = contract::checkResult(method, r.result());
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
}

// Every method of the dispatcher's table has a documented shape, and nothing else does.
void TestDispatcher::contractCoversEveryMethod() {
    QStringList described = contract::methods();
    QStringList table = Dispatcher::methods();
    described.sort();
    table.sort();
    QCOMPARE(described, table);
    QStringList kinds = contract::eventKinds();
    QStringList known = Dispatcher::eventKinds();
    kinds.sort();
    known.sort();
    QCOMPARE(kinds, known);
}

void TestDispatcher::methodTableIsComplete() {
    using namespace protocol::method;
    QStringList expected;
    for (const char *m :
         {DaemonInfo, DaemonReload, RoutesList, ProjectsList, ProjectsGet, ProjectsValidate, ProjectsDeploy,
          ProjectsUndeploy, ProjectsRestart, ProjectsLogs, StatsGet, EventsSubscribe, AuditList})
        expected.append(QLatin1String(m));
    QStringList got = Dispatcher::methods();
    got.sort();
    expected.sort();
    QCOMPARE(got, expected);
}

void TestDispatcher::protocolErrors_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("code");
    QTest::addColumn<QJsonValue>("id");
    const QJsonValue null(QJsonValue::Null);
    QTest::newRow("invalid-json") << QByteArray("{nope") << err::ParseError << null;
    QTest::newRow("partial-object") << QByteArray(R"({"jsonrpc":"2.0","id":3,"method":"daemon.)")
                                    << err::ParseError << null;
    QTest::newRow("not-an-object") << QByteArray("[1,2]") << err::InvalidRequest << null;
    QTest::newRow("no-jsonrpc") << QByteArray(R"({"id":4,"method":"daemon.info"})") << err::InvalidRequest
                                << QJsonValue(4);
    QTest::newRow("a-response") << QByteArray(R"({"jsonrpc":"2.0","id":5,"result":1})") << err::InvalidRequest
                                << QJsonValue(5);
    QTest::newRow("unknown-method") << QByteArray(R"({"jsonrpc":"2.0","id":6,"method":"projects.nuke"})")
                                    << err::MethodNotFound << QJsonValue(6);
    QTest::newRow("prototype-name") << QByteArray(R"({"jsonrpc":"2.0","id":"s","method":"constructor"})")
                                    << err::MethodNotFound << QJsonValue("s");
    QTest::newRow("params-array") << QByteArray(
                                         R"({"jsonrpc":"2.0","id":7,"method":"projects.get","params":["x"]})")
                                  << err::InvalidParams << QJsonValue(7);
}

void TestDispatcher::protocolErrors() {
    QFETCH(QByteArray, line);
    QFETCH(int, code);
    QFETCH(QJsonValue, id);
    const auto replies = send(line);
    QCOMPARE(replies.size(), 1);
    QVERIFY(replies.first().isError());
    QCOMPARE(replies.first().errorCode(), code);
    QCOMPARE(replies.first().id(), id);
    QVERIFY(!replies.first().errorMessage().isEmpty());
    QVERIFY(m_api->m_calls.isEmpty());
}

void TestDispatcher::paramErrors_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<QString>("param");
    QTest::newRow("get-missing-name") << "projects.get" << QJsonObject() << "name";
    QTest::newRow("get-name-number") << "projects.get" << QJsonObject{{"name", 5}} << "name";
    QTest::newRow("get-name-empty") << "projects.get" << QJsonObject{{"name", ""}} << "name";
    QTest::newRow("get-unknown-param")
        << "projects.get" << QJsonObject{{"name", "a"}, {"nmae", "b"}} << "nmae";
    QTest::newRow("info-takes-nothing") << "daemon.info" << QJsonObject{{"verbose", true}} << "verbose";
    QTest::newRow("deploy-missing-manifest") << "projects.deploy" << QJsonObject() << "manifest";
    QTest::newRow("deploy-manifest-string")
        << "projects.deploy" << QJsonObject{{"manifest", "{}"}} << "manifest";
    QTest::newRow("deploy-source-number")
        << "projects.deploy" << QJsonObject{{"manifest", manifest("a")}, {"source_dir", 1}} << "source_dir";
    QTest::newRow("deploy-source-relative")
        << "projects.deploy" << QJsonObject{{"manifest", manifest("a")}, {"source_dir", "rel/dir"}}
        << "source_dir";
    QTest::newRow("validate-manifest-array")
        << "projects.validate" << QJsonObject{{"manifest", QJsonArray()}} << "manifest";
    QTest::newRow("undeploy-name-bool") << "projects.undeploy" << QJsonObject{{"name", true}} << "name";
    QTest::newRow("restart-missing-name") << "projects.restart" << QJsonObject() << "name";
    QTest::newRow("logs-lines-string")
        << "projects.logs" << QJsonObject{{"name", "my-api"}, {"lines", "5"}} << "lines";
    QTest::newRow("logs-lines-fraction")
        << "projects.logs" << QJsonObject{{"name", "my-api"}, {"lines", 1.5}} << "lines";
    QTest::newRow("logs-lines-zero") << "projects.logs" << QJsonObject{{"name", "my-api"}, {"lines", 0}}
                                     << "lines";
    QTest::newRow("logs-lines-huge") << "projects.logs" << QJsonObject{{"name", "my-api"}, {"lines", 1e9}}
                                     << "lines";
    QTest::newRow("subscribe-kinds-string")
        << "events.subscribe" << QJsonObject{{"kinds", "stats.tick"}} << "kinds";
    QTest::newRow("subscribe-unknown-kind")
        << "events.subscribe" << QJsonObject{{"kinds", QJsonArray{"nope"}}} << "kinds";
    QTest::newRow("audit-limit-negative") << "audit.list" << QJsonObject{{"limit", -1}} << "limit";
}

void TestDispatcher::paramErrors() {
    QFETCH(QString, method);
    QFETCH(QJsonObject, params);
    QFETCH(QString, param);
    const auto replies = call(method, params);
    QCOMPARE(replies.size(), 1);
    const Message &r = replies.first();
    QVERIFY(r.isError());
    QCOMPARE(r.errorCode(), err::InvalidParams);
    QCOMPARE(r.errorData().value("param").toString(), param);
    QVERIFY2(r.errorMessage().contains(param), qPrintable(r.errorMessage()));
    QVERIFY(!r.errorData().value("expected").toString().isEmpty());
    // Nothing reached the daemon.
    QVERIFY(m_api->m_calls.isEmpty());
    QVERIFY(!m_subscribeCalled);
}

void TestDispatcher::notFound_data() {
    QTest::addColumn<QString>("method");
    QTest::newRow("get") << "projects.get";
    QTest::newRow("undeploy") << "projects.undeploy";
    QTest::newRow("restart") << "projects.restart";
    QTest::newRow("logs") << "projects.logs";
}

void TestDispatcher::notFound() {
    QFETCH(QString, method);
    const auto replies = call(method, {{"name", "ghost"}});
    QCOMPARE(replies.size(), 1);
    QVERIFY(replies.first().isError());
    QCOMPARE(replies.first().errorCode(), err::NotFound);
    QCOMPARE(replies.first().errorData().value("project").toString(), QStringLiteral("ghost"));
}

void TestDispatcher::deployRefusedCarriesEveryErrorAndConflict() {
    m_api->m_conflicts =
        QJsonArray{QJsonObject{{"port", 3000},
                               {"transport", "tcp"},
                               {"holder", "my-api"},
                               {"message", "port 3000/tcp is already bound by project 'my-api'"}},
                   QJsonObject{{"port", 8080},
                               {"transport", "tcp"},
                               {"holder", "(ingress)"},
                               {"message", "port 8080/tcp is the ingress"}}};
    auto replies = call("projects.deploy", {{"manifest", manifest("other", 3000)}, {"source_dir", "/tmp"}});
    QCOMPARE(replies.size(), 1);
    QCOMPARE(replies.first().errorCode(), err::Conflict);
    const QJsonArray conflicts = replies.first().errorData().value("conflicts").toArray();
    QCOMPARE(conflicts, m_api->m_conflicts);
    for (const auto &c : conflicts) {
        for (const char *k : {"port", "transport", "holder", "message"})
            QVERIFY2(c.toObject().contains(QLatin1String(k)), k);
    }
    QCOMPARE(m_api->m_calls.last().sourceDir, QStringLiteral("/tmp"));

    m_api->m_validationErrors =
        QJsonArray{QJsonObject{{"path", "listen.port"}, {"message", "must be 1024-65535"}},
                   QJsonObject{{"path", "command"}, {"message", "must not be empty"}}};
    replies = call("projects.deploy", {{"manifest", manifest("other", 80)}});
    QCOMPARE(replies.first().errorCode(), err::ValidationFailed);
    QCOMPARE(replies.first().errorData().value("errors").toArray(), m_api->m_validationErrors);
}

void TestDispatcher::validateRefusalIsNotAudited() {
    m_api->m_validationErrors = QJsonArray{QJsonObject{{"path", "name"}, {"message", "bad"}}};
    const auto replies = call("projects.validate", {{"manifest", manifest("x")}});
    QCOMPARE(replies.first().errorCode(), err::ValidationFailed);
    QCOMPARE(m_audit->size(), 0); // a dry run changes nothing
}

void TestDispatcher::asyncAnswerComesLater() {
    m_api->m_holdReplies = true;
    const auto replies = call("projects.deploy", {{"manifest", manifest("slow")}});
    QVERIFY(replies.isEmpty());
    QCOMPARE(m_api->m_heldReplies.size(), 1);

    QList<Message> later;
    Dispatcher::Context ctx;
    m_dispatcher->handle(Message::request(QStringLiteral("r2"), QStringLiteral("projects.restart"),
                                          {{QStringLiteral("name"), QStringLiteral("my-api")}}),
                         ctx, [&later](const Message &m) { later.append(m); });
    QCOMPARE(m_api->m_heldReplies.size(), 2);
    m_api->m_heldReplies.at(1)(ApiResult::success(QJsonObject{{"project", "my-api"}}));
    QCOMPARE(later.size(), 1);
    QCOMPARE(later.first().id(), QJsonValue("r2"));
    // A second answer to the same request is dropped.
    m_api->m_heldReplies.at(1)(ApiResult::success(QJsonObject()));
    QCOMPARE(later.size(), 1);
}

void TestDispatcher::notificationGetsNoReply() {
    const auto replies = send(R"({"jsonrpc":"2.0","method":"daemon.reload"})");
    QVERIFY(replies.isEmpty());
    QCOMPARE(m_api->m_calls.size(), 1); // but it ran
    QVERIFY(send(R"({"jsonrpc":"2.0","method":"no.such"})").isEmpty());
}

void TestDispatcher::finishedOncePerCall() {
    m_api->m_holdReplies = true;
    int finished = 0;
    int replies = 0;
    Dispatcher::Context ctx;
    ctx.finished = [&finished] { ++finished; };
    const auto reply = [&replies](const Message &) { ++replies; };
    // A slow notification: no answer, but finished once the daemon is done.
    m_dispatcher->handleLine(R"({"jsonrpc":"2.0","method":"projects.restart","params":{"name":"my-api"}})",
                             ctx, reply);
    QCOMPARE(finished, 0);
    m_api->m_heldReplies.takeFirst()(ApiResult::success(QJsonObject()));
    QCOMPARE(finished, 1);
    QCOMPARE(replies, 0);
    // A query, an unknown method, a response sent to the daemon: each finished once.
    m_dispatcher->handleLine(R"({"jsonrpc":"2.0","id":1,"method":"daemon.info"})", ctx, reply);
    m_dispatcher->handleLine(R"({"jsonrpc":"2.0","id":2,"method":"nope"})", ctx, reply);
    m_dispatcher->handle(Message::response(3, 1), ctx, reply);
    QCOMPARE(finished, 4);
    QCOMPARE(replies, 3);
}

void TestDispatcher::subscribeRecordsKinds() {
    auto replies =
        call("events.subscribe", {{"kinds", QJsonArray{"stats.tick", "routes.changed", "stats.tick"}}});
    QVERIFY(replies.first().isResponse());
    QVERIFY(m_subscribeCalled);
    QCOMPARE(m_subscribed, (QStringList{"stats.tick", "routes.changed"}));

    m_withSubscribe = false;
    replies = call("events.subscribe");
    QCOMPARE(replies.first().errorCode(), err::InternalError);
}

void TestDispatcher::auditTrail() {
    QVERIFY(call("projects.deploy", {{"manifest", manifest("web", 4000)}}).first().isResponse());
    m_api->m_conflicts =
        QJsonArray{QJsonObject{{"port", 4000},
                               {"transport", "tcp"},
                               {"holder", "web"},
                               {"message", "port 4000/tcp is already bound by project 'web'"}}};
    QVERIFY(call("projects.deploy", {{"manifest", manifest("web2", 4000)}}).first().isError());
    QVERIFY(call("projects.deploy", {{"manifest", "not an object"}}).first().isError());
    QVERIFY(call("projects.restart", {{"name", "web"}}).first().isResponse());
    QVERIFY(call("projects.undeploy", {{"name", "ghost"}}).first().isError());
    QVERIFY(call("projects.undeploy", {{"name", "web"}}).first().isResponse());
    QVERIFY(call("daemon.reload").first().isResponse());
    QVERIFY(call("routes.list").first().isResponse()); // queries are not audited

    const auto entries = m_audit->last(100);
    QCOMPARE(entries.size(), 7);
    struct Want {
        const char *method, *project, *outcome;
        int code;
    };
    const Want want[] = {{"projects.deploy", "web", "ok", 0},
                         {"projects.deploy", "web2", "refused", err::Conflict},
                         {"projects.deploy", "", "refused", err::InvalidParams},
                         {"projects.restart", "web", "ok", 0},
                         {"projects.undeploy", "ghost", "refused", err::NotFound},
                         {"projects.undeploy", "web", "ok", 0},
                         {"daemon.reload", "", "ok", 0}};
    for (int i = 0; i < entries.size(); ++i) {
        QCOMPARE(entries.at(i).method, QLatin1String(want[i].method));
        QCOMPARE(entries.at(i).project, QLatin1String(want[i].project));
        QCOMPARE(entries.at(i).outcome, QLatin1String(want[i].outcome));
        QCOMPARE(entries.at(i).code, want[i].code);
        QCOMPARE(entries.at(i).uid, 1234);
        QCOMPARE(entries.at(i).pid, 5678);
        QVERIFY(entries.at(i).time.isValid());
    }
    QVERIFY(entries.at(1).error.contains("already bound"));

    const auto replies = call("audit.list", {{"limit", 2}});
    const QJsonArray listed = replies.first().result().toObject().value("entries").toArray();
    QCOMPARE(listed.size(), 2);
    QCOMPARE(listed.at(1).toObject().value("method").toString(), QStringLiteral("daemon.reload"));
    QCOMPARE(listed.at(0).toObject().value("project").toString(), QStringLiteral("web"));
    QCOMPARE(listed.at(0).toObject().value("uid").toInt(), 1234);
}

void TestDispatcher::auditFileAndRing() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("state/audit.log");
    {
        AuditLog log(path, 3);
        for (int i = 0; i < 5; ++i) {
            AuditEntry e;
            e.method = QStringLiteral("projects.deploy");
            e.project = QStringLiteral("p%1").arg(i);
            e.outcome = QStringLiteral("ok");
            log.record(e);
        }
        QCOMPARE(log.size(), 3); // the ring keeps the newest
        QCOMPARE(log.last(10).first().project, QStringLiteral("p2"));
        QCOMPARE(log.last(1).first().project, QStringLiteral("p4"));
    }
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 5); // the file keeps everything
    QCOMPARE(QJsonDocument::fromJson(lines.at(4)).object().value("project").toString(), QStringLiteral("p4"));
    QCOMPARE(int(f.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup)), 0);
}

QTEST_GUILESS_MAIN(TestDispatcher)
#include "tst_dispatcher.moc"

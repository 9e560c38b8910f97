#include "manifest.h"

#include <QJsonDocument>
#include <QTest>

using namespace portico;

class TestManifest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void invalid_data();
    void invalid();
    void reportsEveryError();
    void validListen_data();
    void validListen();
    void runtimes_data();
    void runtimes();
    void roundTrip_data();
    void roundTrip();
    void projectNames_data();
    void projectNames();
};

void TestManifest::invalid_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message"); // a fragment of the sentence

    const auto row = [](const char *name, const char *json, const char *path, const char *msg) {
        QTest::newRow(name) << QByteArray(json) << QString::fromLatin1(path) << QString::fromLatin1(msg);
    };
    row("not json", "{name:", "", "not valid JSON");
    row("array top", "[1,2]", "", "must be a JSON object");
    row("missing name", R"({"runtime":"static","entry":"www"})", "name", "is required");
    row("name number", R"({"name":5,"runtime":"static","entry":"www"})", "name", "must be a string");
    row("name uppercase", R"({"name":"MyApi","runtime":"static","entry":"www"})", "name",
        "is not a project name");
    row("name leading dash", R"({"name":"-api","runtime":"static","entry":"www"})", "name",
        "is not a project name");
    row("name too long",
        R"({"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","runtime":"static","entry":"w"})",
        "name", "is not a project name");
    row("name empty", R"({"name":"","runtime":"static","entry":"www"})", "name", "is not a project name");
    row("name slash", R"({"name":"a/b","runtime":"static","entry":"www"})", "name", "is not a project name");
    row("name reserved _api", R"({"name":"_api","runtime":"static","entry":"www"})", "name", "is reserved");
    row("name reserved api", R"({"name":"api","runtime":"static","entry":"www"})", "name", "is reserved");
    row("missing runtime", R"({"name":"a"})", "runtime", "is required");
    row("unknown runtime", R"({"name":"a","runtime":"python"})", "runtime", "is not a runtime");
    row("runtime wrong type", R"({"name":"a","runtime":["deno"]})", "runtime", "must be a string");
    row("unknown field", R"({"name":"a","runtime":"deno","lisen":{"port":3000}})", "lisen", "unknown field");
    row("port too big", R"({"name":"a","runtime":"deno","listen":{"port":70000}})", "listen.port",
        "70000 is not a port (1-65535)");
    row("port zero", R"({"name":"a","runtime":"deno","listen":{"port":0}})", "listen.port",
        "0 is not a port");
    row("port negative", R"({"name":"a","runtime":"deno","listen":{"port":-1}})", "listen.port",
        "is not a port");
    row("port fraction", R"({"name":"a","runtime":"deno","listen":{"port":3000.5}})", "listen.port",
        "is not a port");
    row("port string", R"({"name":"a","runtime":"deno","listen":{"port":"3000"}})", "listen.port",
        "must be a number");
    row("port missing", R"({"name":"a","runtime":"deno","listen":{"protocol":"tcp"}})", "listen.port",
        "is required");
    row("protocol unknown", R"({"name":"a","runtime":"deno","listen":{"port":3000,"protocol":"sctp"}})",
        "listen.protocol", "is not a protocol");
    row("listen field typo", R"({"name":"a","runtime":"deno","listen":{"port":3000,"proto":"tcp"}})",
        "listen.proto", "unknown field");
    row("listen string", R"({"name":"a","runtime":"deno","listen":"3000"})", "listen",
        "must be null, an object");
    row("listen empty array", R"({"name":"a","runtime":"deno","listen":[]})", "listen", "empty array");
    row("listen array item", R"({"name":"a","runtime":"deno","listen":[{"port":3000},7]})", "listen[1]",
        "must be an object");
    row("listen duplicate",
        R"({"name":"a","runtime":"deno","listen":[{"port":3000},{"port":3000,"protocol":"tcp"}]})",
        "listen[1].port", "listed twice");
    row("proxy protocol on http",
        R"({"name":"a","runtime":"deno","listen":{"port":3000,"proxy_protocol":"v1"}})",
        "listen.proxy_protocol", "only for protocol \"tcp\"");
    row("proxy protocol v3",
        R"({"name":"a","runtime":"deno","listen":{"port":3000,"protocol":"tcp","proxy_protocol":"v3"}})",
        "listen.proxy_protocol", "is not a PROXY protocol version");
    row("process no command", R"({"name":"a","runtime":"process"})", "command", "is required");
    row("command string", R"({"name":"a","runtime":"process","command":"python3 app.py"})", "command",
        "must be an array");
    row("command empty", R"({"name":"a","runtime":"process","command":[]})", "command",
        "must name a program");
    row("command item number", R"({"name":"a","runtime":"process","command":["x",1]})", "command[1]",
        "must be a string");
    row("upstream missing", R"({"name":"a","runtime":"upstream"})", "upstream", "is required");
    row("upstream no port", R"({"name":"a","runtime":"upstream","upstream":"127.0.0.1"})", "upstream",
        "is not an address");
    row("upstream bad port", R"({"name":"a","runtime":"upstream","upstream":"127.0.0.1:99999"})", "upstream",
        "is not an address");
    row("upstream bare v6", R"({"name":"a","runtime":"upstream","upstream":"::1:80"})", "upstream",
        "in brackets");
    row("upstream relative unix", R"({"name":"a","runtime":"upstream","upstream":"unix:app.sock"})",
        "upstream", "absolute path");
    row("upstream with command",
        R"({"name":"a","runtime":"upstream","upstream":"127.0.0.1:9","command":["x"]})", "command",
        "is not used by the upstream runtime");
    row("static no entry", R"({"name":"a","runtime":"static"})", "entry", "is required");
    row("static over tcp",
        R"({"name":"a","runtime":"static","entry":"www","listen":{"port":5000,"protocol":"tcp"}})", "listen",
        "serves http only");
    row("env not object", R"({"name":"a","runtime":"deno","env":["A=1"]})", "env", "must be an object");
    row("env value number", R"({"name":"a","runtime":"deno","env":{"A":1}})", "env.A", "must be a string");
    row("env bad key", R"({"name":"a","runtime":"deno","env":{"A-B":"1"}})", "env.A-B",
        "not a variable name");
    row("env sets PORT", R"({"name":"a","runtime":"deno","env":{"PORT":"80"}})", "env.PORT",
        "set by the daemon");
    row("entry empty", R"({"name":"a","runtime":"deno","entry":""})", "entry", "must not be empty");
    row("udp to unix upstream",
        R"({"name":"a","runtime":"upstream","upstream":"unix:/run/a.sock","listen":{"port":5353,"protocol":"udp"}})",
        "listen", "cannot be relayed to a unix");
}

void TestManifest::invalid() {
    QFETCH(QByteArray, json);
    QFETCH(QString, path);
    QFETCH(QString, message);
    const auto r = Manifest::parse(json);
    QVERIFY2(!r.ok(), "expected the manifest to be refused");
    QVERIFY(!r.manifest.has_value());
    bool found = false;
    for (const auto &e : r.errors) {
        if (e.path == path && e.message.contains(message))
            found = true;
    }
    QVERIFY2(
        found,
        qPrintable(
            QStringLiteral("no error at '%1' containing '%2'; got:\n%3").arg(path, message, r.errorText())));
}

void TestManifest::reportsEveryError() {
    const auto r = Manifest::parse(QByteArray(
        R"({"name":"Bad Name","runtime":"process","command":[],"listen":[{"port":70000},{"port":1,"protocol":"x"}],"extra":1})"));
    QStringList paths;
    for (const auto &e : r.errors)
        paths << e.path;
    QVERIFY2(paths.contains(QStringLiteral("name")), qPrintable(r.errorText()));
    QVERIFY(paths.contains(QStringLiteral("command")));
    QVERIFY(paths.contains(QStringLiteral("listen[0].port")));
    QVERIFY(paths.contains(QStringLiteral("listen[1].protocol")));
    QVERIFY(paths.contains(QStringLiteral("extra")));
    QCOMPARE(r.errorText().count(QLatin1Char('\n')) + 1, r.errors.size());
    // The sentence users see names the value and the range.
    QVERIFY(r.errorText().contains(QStringLiteral("listen[0].port: 70000 is not a port (1-65535)")));
}

void TestManifest::validListen_data() {
    QTest::addColumn<QByteArray>("listen");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("firstPort");
    QTest::addColumn<QString>("firstProtocol");
    QTest::addColumn<int>("shape");
    QTest::newRow("absent") << QByteArray() << 0 << 0 << QString() << int(Manifest::ListenShape::Absent);
    QTest::newRow("null") << QByteArray("null") << 0 << 0 << QString() << int(Manifest::ListenShape::Null);
    QTest::newRow("port only = http")
        << QByteArray(R"({"port":3000})") << 1 << 3000 << "http" << int(Manifest::ListenShape::Object);
    QTest::newRow("http") << QByteArray(R"({"port":3000,"protocol":"http"})") << 1 << 3000 << "http"
                          << int(Manifest::ListenShape::Object);
    QTest::newRow("tcp") << QByteArray(R"({"port":5000,"protocol":"tcp"})") << 1 << 5000 << "tcp"
                         << int(Manifest::ListenShape::Object);
    QTest::newRow("udp") << QByteArray(R"({"port":5353,"protocol":"udp"})") << 1 << 5353 << "udp"
                         << int(Manifest::ListenShape::Object);
    QTest::newRow("tcp proxy v2") << QByteArray(R"({"port":5000,"protocol":"tcp","proxy_protocol":"v2"})")
                                  << 1 << 5000 << "tcp" << int(Manifest::ListenShape::Object);
    QTest::newRow("array") << QByteArray(R"([{"port":3000},{"port":5000,"protocol":"tcp"}])") << 2 << 3000
                           << "http" << int(Manifest::ListenShape::Array);
    QTest::newRow("same port tcp and udp")
        << QByteArray(R"([{"port":5353,"protocol":"tcp"},{"port":5353,"protocol":"udp"}])") << 2 << 5353
        << "tcp" << int(Manifest::ListenShape::Array);
    QTest::newRow("edge ports") << QByteArray(R"([{"port":1},{"port":65535}])") << 2 << 1 << "http"
                                << int(Manifest::ListenShape::Array);
}

void TestManifest::validListen() {
    QFETCH(QByteArray, listen);
    QFETCH(int, count);
    QFETCH(int, firstPort);
    QFETCH(QString, firstProtocol);
    QFETCH(int, shape);
    QByteArray json = R"({"name":"my-api","runtime":"deno","entry":"server.ts")";
    if (!listen.isNull())
        json += ",\"listen\":" + listen;
    json += "}";
    const auto r = Manifest::parse(json);
    QVERIFY2(r.ok(), qPrintable(r.errorText()));
    QCOMPARE(r.manifest->listen.size(), count);
    QCOMPARE(int(r.manifest->listenShape), shape);
    QCOMPARE(r.manifest->isPathRouted(), count == 0);
    if (count > 0) {
        QCOMPARE(int(r.manifest->listen.first().port), firstPort);
        QCOMPARE(protocolName(r.manifest->listen.first().protocol), firstProtocol);
    }
}

void TestManifest::runtimes_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("runtime");
    QTest::addColumn<QString>("entry");
    QTest::newRow("upstream") << QByteArray(
                                     R"({"name":"a","runtime":"upstream","upstream":"127.0.0.1:9000"})")
                              << "upstream" << QString();
    QTest::newRow("upstream v6") << QByteArray(R"({"name":"a","runtime":"upstream","upstream":"[::1]:9000"})")
                                 << "upstream" << QString();
    QTest::newRow("upstream unix")
        << QByteArray(R"({"name":"a","runtime":"upstream","upstream":"unix:/run/a.sock"})") << "upstream"
        << QString();
    QTest::newRow("process")
        << QByteArray(
               R"({"name":"a","runtime":"process","command":["python3","-m","http.server"],"env":{"DEBUG":"1"},"workdir":"app"})")
        << "process" << QString();
    QTest::newRow("deno default entry") << QByteArray(R"({"name":"a","runtime":"deno"})") << "deno"
                                        << "server.ts";
    QTest::newRow("static") << QByteArray(R"({"name":"a","runtime":"static","entry":"public"})") << "static"
                            << "public";
    QTest::newRow("dockerfile") << QByteArray(R"({"name":"a","runtime":"dockerfile"})") << "dockerfile"
                                << "Dockerfile";
}

void TestManifest::runtimes() {
    QFETCH(QByteArray, json);
    QFETCH(QString, runtime);
    QFETCH(QString, entry);
    const auto r = Manifest::parse(json);
    QVERIFY2(r.ok(), qPrintable(r.errorText()));
    QCOMPARE(runtimeName(r.manifest->runtime), runtime);
    QCOMPARE(r.manifest->effectiveEntry(), entry);
}

void TestManifest::roundTrip_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("minimal") << QByteArray(R"({"name":"hello","runtime":"static","entry":"www"})");
    QTest::newRow("null listen") << QByteArray(R"({"name":"hello","runtime":"deno","listen":null})");
    QTest::newRow("object listen") << QByteArray(
        R"({"name":"my-api","runtime":"deno","entry":"server.ts","listen":{"port":3000,"protocol":"http"}})");
    QTest::newRow("array listen") << QByteArray(
        R"({"name":"dns","runtime":"process","command":["./dns"],"env":{"A":"1","B":"two"},"workdir":"bin","listen":[{"port":5353,"protocol":"udp"},{"port":5353,"protocol":"tcp","proxy_protocol":"v1"}]})");
    QTest::newRow("upstream") << QByteArray(R"({"name":"up","runtime":"upstream","upstream":"[::1]:9000"})");
}

void TestManifest::roundTrip() {
    QFETCH(QByteArray, json);
    const auto r = Manifest::parse(json);
    QVERIFY2(r.ok(), qPrintable(r.errorText()));
    const QJsonObject out = r.manifest->toJson();
    QCOMPARE(out, QJsonDocument::fromJson(json).object());
    const auto again = Manifest::parse(QJsonValue(out));
    QVERIFY(again.ok());
    QCOMPARE(*again.manifest, *r.manifest);
}

void TestManifest::projectNames_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("simple") << "hello" << true;
    QTest::newRow("digits") << "0app" << true;
    QTest::newRow("dashes") << "my-api-2" << true;
    QTest::newRow("63 chars") << QString(63, QLatin1Char('a')) << true;
    QTest::newRow("64 chars") << QString(64, QLatin1Char('a')) << false;
    QTest::newRow("underscore") << "my_api" << false;
    QTest::newRow("dot") << "my.api" << false;
    QTest::newRow("unicode") << QString::fromUtf8("caf\xc3\xa9") << false;
}

void TestManifest::projectNames() {
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(isValidProjectName(name), valid);
}

QTEST_GUILESS_MAIN(TestManifest)
#include "tst_manifest.moc"

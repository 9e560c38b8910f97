// The YAML emitter of `porticoctl export kubernetes` (daemon/ctl/export/yaml.*): which
// strings stay plain, how the rest is quoted and escaped, and the block layout. That a
// real YAML 1.1 and 1.2 reader gives back the same values is checked in
// tst_k8sexport_e2e (roundTripsEveryString).
#include "yaml.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace portico::ctl;

class TestYamlEmitter final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scalars_data();
    void scalars();
    void blocks_data();
    void blocks();
    void documents();
};

void TestYamlEmitter::scalars_data() {
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    const auto plain = [](const char *name, const QString &s) { QTest::newRow(name) << s << s; };
    plain("word", QStringLiteral("portico"));
    plain("dns name", QStringLiteral("registry.example.com"));
    plain("label key", QStringLiteral("app.kubernetes.io/name"));
    plain("path", QStringLiteral("/hello/"));
    plain("image with tag", QStringLiteral("registry.example.com/app:1.0"));
    plain("image with digest", QStringLiteral("app@sha256:0123abcd"));
    plain("inner spaces", QStringLiteral("hello from Deno behind Portico"));
    plain("underscore first", QStringLiteral("_x"));
    plain("colon inside", QStringLiteral("a:b"));
    plain("yes inside a word", QStringLiteral("yesterday"));
    plain("equals inside", QStringLiteral("a=b"));

    const auto q = [](const char *name, const QString &s, const QString &out) {
        QTest::newRow(name) << s << out;
    };
    // YAML 1.1 booleans and nulls, in every case.
    for (const char *w :
         {"y",     "Y",     "yes", "Yes", "YES", "n",   "N",   "no",  "NO",   "true", "True", "TRUE",
          "false", "FALSE", "on",  "On",  "ON",  "off", "Off", "OFF", "null", "Null", "NULL", "nUlL"})
        q(w, QLatin1String(w), QLatin1Char('"') + QLatin1String(w) + QLatin1Char('"'));
    // Numbers, dates and other scalars a reader resolves.
    for (const char *w : {"1", "1.0", "-1", "+1", ".5", ".inf", "-.inf", ".nan", "0x1F", "0o17", "017",
                          "1_000", "1e3", "1:20", "2001-12-14", "0.0.0.0", "~", "="})
        q(w, QLatin1String(w), QLatin1Char('"') + QLatin1String(w) + QLatin1Char('"'));
    q("empty", QString(), QStringLiteral("\"\""));
    q("colon space", QStringLiteral("key: value"), QStringLiteral("\"key: value\""));
    q("colon at end", QStringLiteral("key:"), QStringLiteral("\"key:\""));
    q("comment", QStringLiteral("a #b"), QStringLiteral("\"a #b\""));
    q("leading space", QStringLiteral(" a"), QStringLiteral("\" a\""));
    q("trailing space", QStringLiteral("a "), QStringLiteral("\"a \""));
    q("sequence entry", QStringLiteral("- a"), QStringLiteral("\"- a\""));
    q("dash first", QStringLiteral("-a"), QStringLiteral("\"-a\""));
    for (const char *w :
         {"@a", "`a", "!tag", "&anchor", "*alias", "|", ">", "%YAML", "[a]", "{a}", ",a", "?a", "'a'", "<<"})
        q(w, QLatin1String(w), QLatin1Char('"') + QLatin1String(w) + QLatin1Char('"'));
    q("json", QStringLiteral("{\"a\":\"b\"}"), QStringLiteral("\"{\\\"a\\\":\\\"b\\\"}\""));
    q("quote", QStringLiteral("say \"hi\""), QStringLiteral("\"say \\\"hi\\\"\""));
    q("backslash", QStringLiteral("a\\b"), QStringLiteral("\"a\\\\b\""));
    q("newline", QStringLiteral("a\nb"), QStringLiteral("\"a\\nb\""));
    q("tab cr", QStringLiteral("a\tb\r"), QStringLiteral("\"a\\tb\\r\""));
    q("nul and escape", QString(QChar(0)) + QChar(0x1B), QStringLiteral("\"\\0\\e\""));
    q("control", QString(QChar(0x01)) + QChar(0x7F), QStringLiteral("\"\\x01\\x7F\""));
    q("line separators", QString(QChar(0x85)) + QChar(0x2028) + QChar(0x2029),
      QStringLiteral("\"\\N\\L\\P\""));
    q("bom", QString(QChar(0xFEFF)) + QLatin1Char('a'), QStringLiteral("\"\\uFEFFa\""));
    q("non-ascii kept", QStringLiteral("grüße €"), QStringLiteral("\"grüße €\""));
    q("astral kept", QString::fromUtf8("\xF0\x9F\x9A\x80 go"), QString::fromUtf8("\"\xF0\x9F\x9A\x80 go\""));
    q("dollar", QStringLiteral("$(HOME)"), QStringLiteral("\"$(HOME)\""));
}

void TestYamlEmitter::scalars() {
    QFETCH(QString, in);
    QFETCH(QString, out);
    QCOMPARE(yaml::scalar(in), out);
    QCOMPARE(yaml::needsQuotes(in), out != in);
}

void TestYamlEmitter::blocks_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("scalars") << QByteArray(
                                    R"({"b":true,"f":1.5,"i":8080,"nil":null,"neg":-3,"s":"x","z":false})")
                             << QByteArray("b: true\nf: 1.5\ni: 8080\nneg: -3\nnil: null\ns: x\nz: false\n");
    QTest::newRow("keys sorted and quoted")
        << QByteArray(R"({"on":1,"a b":2,"1":3})") << QByteArray("\"1\": 3\na b: 2\n\"on\": 1\n");
    QTest::newRow("nested map") << QByteArray(R"({"a":{"b":{"c":"d"}}})")
                                << QByteArray("a:\n  b:\n    c: d\n");
    QTest::newRow("list at the key's indent")
        << QByteArray(R"({"a":{"l":["x","w"]}})") << QByteArray("a:\n  l:\n  - x\n  - w\n");
    QTest::newRow("maps in a list")
        << QByteArray(R"({"ports":[{"name":"http","port":80},{"name":"udp","port":53}]})")
        << QByteArray("ports:\n- name: http\n  port: 80\n- name: udp\n  port: 53\n");
    QTest::newRow("list in a map in a list") << QByteArray(R"({"c":[{"env":[{"name":"A"}],"x":1}]})")
                                             << QByteArray("c:\n- env:\n  - name: A\n  x: 1\n");
    QTest::newRow("list in a list") << QByteArray(R"({"l":[["a","b"],[]]})")
                                    << QByteArray("l:\n- - a\n  - b\n- []\n");
    QTest::newRow("empties") << QByteArray(R"({"a":{},"b":[],"c":[{}]})")
                             << QByteArray("a: {}\nb: []\nc:\n- {}\n");
    QTest::newRow("top-level list") << QByteArray(R"(["a",{"k":"v"}])") << QByteArray("- a\n- k: v\n");
    QTest::newRow("big and fractional numbers")
        << QByteArray(R"({"a":1e20,"b":0.1,"c":-2.5e-7})") << QByteArray("a: 1.0e+20\nb: 0.1\nc: -2.5e-07\n");
}

void TestYamlEmitter::blocks() {
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, yaml);
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    QVERIFY(!doc.isNull());
    const QByteArray got = doc.isObject() ? yaml::emit(doc.object()) : yaml::emit(doc.array());
    QCOMPARE(got, yaml);
}

void TestYamlEmitter::documents() {
    const QJsonArray objects{QJsonObject{{QStringLiteral("kind"), QStringLiteral("A")}},
                             QJsonObject{{QStringLiteral("kind"), QStringLiteral("B")}}};
    QCOMPARE(yaml::documents(objects), QByteArray("---\nkind: A\n---\nkind: B\n"));
    QCOMPARE(yaml::documents({}), QByteArray());
}

QTEST_GUILESS_MAIN(TestYamlEmitter)
#include "tst_yamlemitter.moc"

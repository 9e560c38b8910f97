#include "manifest.h"
#include "manifestrows.h"

#include <QJsonDocument>
#include <QTest>

using namespace portico;
using portico::test::manifestRowBytes;
using portico::test::manifestRows;

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
    void duplicateKeyIsRefused_data();
    void duplicateKeyIsRefused();
};

void TestManifest::invalid_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message"); // a fragment of the sentence
    // The rows live in tests/data/manifests.json: the schema test runs them too.
    for (const auto &v : manifestRows(QStringLiteral("invalid"))) {
        const QJsonObject row = v.toObject();
        QTest::newRow(qPrintable(row.value(QStringLiteral("row")).toString()))
            << manifestRowBytes(row) << row.value(QStringLiteral("path")).toString()
            << row.value(QStringLiteral("message")).toString();
    }
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
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("firstPort");
    QTest::addColumn<QString>("firstProtocol");
    QTest::addColumn<int>("shape");
    const QHash<QString, Manifest::ListenShape> shapes{
        {QStringLiteral("absent"), Manifest::ListenShape::Absent},
        {QStringLiteral("null"), Manifest::ListenShape::Null},
        {QStringLiteral("object"), Manifest::ListenShape::Object},
        {QStringLiteral("array"), Manifest::ListenShape::Array}};
    for (const auto &v : manifestRows(QStringLiteral("valid_listen"))) {
        const QJsonObject row = v.toObject();
        QTest::newRow(qPrintable(row.value(QStringLiteral("row")).toString()))
            << manifestRowBytes(row) << row.value(QStringLiteral("count")).toInt()
            << row.value(QStringLiteral("first_port")).toInt()
            << row.value(QStringLiteral("first_protocol")).toString()
            << int(shapes.value(row.value(QStringLiteral("shape")).toString()));
    }
}

void TestManifest::validListen() {
    QFETCH(QByteArray, json);
    QFETCH(int, count);
    QFETCH(int, firstPort);
    QFETCH(QString, firstProtocol);
    QFETCH(int, shape);
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
    for (const auto &v : manifestRows(QStringLiteral("runtimes"))) {
        const QJsonObject row = v.toObject();
        QTest::newRow(qPrintable(row.value(QStringLiteral("row")).toString()))
            << manifestRowBytes(row) << row.value(QStringLiteral("runtime")).toString()
            << row.value(QStringLiteral("entry")).toString();
    }
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
    for (const auto &v : manifestRows(QStringLiteral("round_trip"))) {
        const QJsonObject row = v.toObject();
        QTest::newRow(qPrintable(row.value(QStringLiteral("row")).toString())) << manifestRowBytes(row);
    }
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
    for (const auto &v : manifestRows(QStringLiteral("names"))) {
        const QJsonObject row = v.toObject();
        QTest::newRow(qPrintable(row.value(QStringLiteral("row")).toString()))
            << row.value(QStringLiteral("name")).toString() << row.value(QStringLiteral("valid")).toBool();
    }
}

void TestManifest::projectNames() {
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(isValidProjectName(name), valid);
}

void TestManifest::duplicateKeyIsRefused_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("path");
    QTest::newRow("name twice")
        << QByteArray(R"({"name":"a","runtime":"upstream","upstream":"127.0.0.1:1","name":"b"})")
        << QStringLiteral("name");
    QTest::newRow("env key twice")
        << QByteArray(R"({"name":"a","runtime":"process","command":["x"],"env":{"K":"1","K":"2"}})")
        << QStringLiteral("env.K");
    QTest::newRow("empty env key twice")
        << QByteArray(R"({"name":"a","runtime":"process","command":["x"],"env":{"":"1","":"2"}})")
        << QStringLiteral(R"(env."")");
    QTest::newRow("empty key twice at the top")
        << QByteArray(R"({"":1,"name":"a","runtime":"upstream","upstream":"127.0.0.1:1","":2})")
        << QStringLiteral(R"("")");
}

void TestManifest::duplicateKeyIsRefused() {
    QFETCH(QByteArray, json);
    QFETCH(QString, path);
    const ManifestParseResult r = Manifest::parse(json);
    QVERIFY(!r.ok());
    QCOMPARE(r.errors.size(), 1);
    QCOMPARE(r.errors.first().path, path);
    QCOMPARE(r.errors.first().message, QStringLiteral("appears twice; a key may appear only once"));
}

QTEST_GUILESS_MAIN(TestManifest)
#include "tst_manifest.moc"

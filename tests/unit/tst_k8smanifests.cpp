// The offline input of `porticoctl export kubernetes` (daemon/ctl/export/manifests.*):
// files and folders searched for portico.json, parsed with the daemon's rules, every
// problem reported with its file.
#include "manifests.h"
#include "testutil.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;
using namespace portico::ctl::k8s;

class TestK8sManifests final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void loadManifests_data();
    void loadManifests();
};

void TestK8sManifests::loadManifests_data() {
    QTest::addColumn<QStringList>("files"); // relative path=content, written first
    QTest::addColumn<QStringList>("args");  // relative to the temp dir
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<QStringList>("errors"); // each with the temp dir as "D"
    const QByteArray a = R"({"name":"a","runtime":"upstream","upstream":"10.0.0.1:80"})";
    const QByteArray b = R"({"name":"b","runtime":"upstream","upstream":"10.0.0.1:81"})";
    QTest::newRow("a folder, searched below")
        << QStringList{QStringLiteral("x/a/portico.json=") + a,
                       QStringLiteral("x/deep/er/b/portico.json=") + b,
                       QStringLiteral("x/a/other.json=not looked at")}
        << QStringList{QStringLiteral("x")} << QStringList{QStringLiteral("a"), QStringLiteral("b")}
        << QStringList{};
    QTest::newRow("hidden folders skipped")
        << QStringList{QStringLiteral("x/a/portico.json=") + a, QStringLiteral("x/.git/portico.json=") + b}
        << QStringList{QStringLiteral("x")} << QStringList{QStringLiteral("a")} << QStringList{};
    QTest::newRow("a file by any name, and its folder: once")
        << QStringList{QStringLiteral("x/portico.json=") + a, QStringLiteral("b.json=") + b}
        << QStringList{QStringLiteral("b.json"), QStringLiteral("x"), QStringLiteral("x/portico.json")}
        << QStringList{QStringLiteral("b"), QStringLiteral("a")} << QStringList{};
    QTest::newRow("every error")
        << QStringList{QStringLiteral("bad.json={\"name\":\"Bad\",\"runtime\":\"upstream\"}"),
                       QStringLiteral("empty/.keep=")}
        << QStringList{QStringLiteral("bad.json"), QStringLiteral("missing.json"), QStringLiteral("empty")}
        << QStringList{}
        << QStringList{
               QStringLiteral("D/missing.json: no such file or folder"),
               QStringLiteral("D/empty: no portico.json in this folder or below"),
               QStringLiteral("D/bad.json: name: \"Bad\" is not a project name (1-63 of a-z, 0-9 and -, "
                              "starting with a letter or digit)"),
               QStringLiteral(
                   "D/bad.json: upstream: is required for the upstream runtime (e.g. \"127.0.0.1:9000\")")};
    QTest::newRow("one name in two files")
        << QStringList{QStringLiteral("one.json=") + a, QStringLiteral("two.json=") + a}
        << QStringList{QStringLiteral("one.json"), QStringLiteral("two.json")}
        << QStringList{QStringLiteral("a")}
        << QStringList{QStringLiteral("project 'a' is in both D/one.json and D/two.json")};
    QTest::newRow("not json") << QStringList{QStringLiteral("x.json={")}
                              << QStringList{QStringLiteral("x.json")} << QStringList{}
                              << QStringList{QStringLiteral(
                                     "D/x.json: not valid JSON at byte 1: unterminated object")};
}

void TestK8sManifests::loadManifests() {
    QFETCH(QStringList, files);
    QFETCH(QStringList, args);
    QFETCH(QStringList, names);
    QFETCH(QStringList, errors);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const QString &f : files) {
        const QString path = dir.filePath(f.section(u'=', 0, 0));
        QVERIFY(QDir().mkpath(QFileInfo(path).path()));
        portico::test::writeFile(QFileInfo(path).path(), QFileInfo(path).fileName(),
                                 f.section(u'=', 1).toUtf8());
    }
    QStringList paths;
    for (const QString &a : args)
        paths << dir.filePath(a);
    const LoadedManifests loaded = ctl::k8s::loadManifests(paths);
    QStringList got;
    for (const Manifest &m : loaded.manifests)
        got << m.name;
    QCOMPARE(got, names);
    QStringList expected;
    for (const QString &e : errors)
        expected << QString(e).replace(QStringLiteral("D/"), dir.path() + QLatin1Char('/'));
    QCOMPARE(loaded.errors, expected);
}

QTEST_GUILESS_MAIN(TestK8sManifests)
#include "tst_k8smanifests.moc"

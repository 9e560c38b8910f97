// resources/schema/portico.schema.json against the daemon's own validation: every manifest
// of the unit tests (tests/data/manifests.json) and every shipped example goes through both
// Manifest::parse and a real JSON Schema validator (Ajv, from the npm registry into
// .tools/ajv by installer/deps.sh); both must say the same, except for the few rules
// JSON Schema cannot express, which the data names ("schema_gap").
//
// Without Ajv the test is skipped, loudly; with PORTICO_REQUIRE_SCHEMA_VALIDATOR set (as
// installer/test.sh, the CI command, does) or CI set, it fails instead.
#include "manifest.h"
#include "manifestrows.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace portico;
using namespace portico::test;

namespace {

struct Doc {
    QString name;
    QByteArray bytes;
    bool daemonShouldAccept = true;
    QString schemaGap; // non-empty: the schema accepts it although the daemon refuses it
};

const QString kSchema = QStringLiteral(PORTICO_SOURCE_DIR "/resources/schema/portico.schema.json");

} // namespace

class TestManifestSchema final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sameVerdict_data();
    void sameVerdict();
    void examplesPointAtTheSchema_data();
    void examplesPointAtTheSchema();

private:
    QList<Doc> m_docs;
    QJsonArray m_schemaResults;
};

void TestManifestSchema::initTestCase() {
    // The documents: every row of every kind, then the examples.
    const auto add = [this](const QString &kind, bool accept) {
        for (const auto &v : manifestRows(kind)) {
            const QJsonObject row = v.toObject();
            const bool valid =
                kind == QLatin1String("names") ? row.value(QStringLiteral("valid")).toBool() : accept;
            m_docs.append({kind + QLatin1Char('/') + row.value(QStringLiteral("row")).toString(),
                           manifestRowBytes(row), valid, row.value(QStringLiteral("schema_gap")).toString()});
        }
    };
    add(QStringLiteral("invalid"), false);
    add(QStringLiteral("valid_listen"), true);
    add(QStringLiteral("runtimes"), true);
    add(QStringLiteral("round_trip"), true);
    add(QStringLiteral("names"), true);
    QDir examples(QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples"));
    for (const auto &d : examples.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(examples.filePath(d + QStringLiteral("/portico.json")));
        if (f.open(QIODevice::ReadOnly))
            m_docs.append({QStringLiteral("example/") + d, f.readAll(), true, {}});
    }
    QVERIFY(m_docs.size() > 60);

    const bool required =
        qEnvironmentVariableIsSet("PORTICO_REQUIRE_SCHEMA_VALIDATOR") || !qEnvironmentVariableIsEmpty("CI");
    const QString ajvDir = qEnvironmentVariableIsSet("PORTICO_AJV_DIR")
                               ? qEnvironmentVariable("PORTICO_AJV_DIR")
                               : QStringLiteral(PORTICO_SOURCE_DIR "/.tools/ajv");
    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    const QString missing = node.isEmpty() ? QStringLiteral("node is not on PATH")
                            : !QFileInfo::exists(ajvDir + QStringLiteral("/node_modules/ajv/package.json"))
                                ? QStringLiteral("Ajv is not installed in %1").arg(ajvDir)
                                : QString();
    if (!missing.isEmpty()) {
        const QString why =
            missing + QStringLiteral(" (installer/deps.sh installs it; PORTICO_AJV_DIR points "
                                     "elsewhere)");
        if (required)
            QFAIL(
                qPrintable(why + QStringLiteral("; PORTICO_REQUIRE_SCHEMA_VALIDATOR is set, so this fails")));
        QSKIP(qPrintable(QStringLiteral("missing: SCHEMA NOT CHECKED: ") + why));
    }

    QJsonArray texts;
    for (const auto &d : m_docs)
        texts.append(QString::fromUtf8(d.bytes));
    QProcess p;
    p.start(node,
            {QStringLiteral(PORTICO_SOURCE_DIR "/tests/support/jsonschema/validate.cjs"), ajvDir, kSchema});
    QVERIFY(p.waitForStarted(10000));
    p.write(QJsonDocument(texts).toJson(QJsonDocument::Compact));
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
             p.readAllStandardError().constData());
    m_schemaResults = QJsonDocument::fromJson(p.readAllStandardOutput()).array();
    QCOMPARE(m_schemaResults.size(), m_docs.size());
}

void TestManifestSchema::sameVerdict_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < m_docs.size(); ++i)
        QTest::newRow(qPrintable(m_docs.at(i).name)) << i;
}

void TestManifestSchema::sameVerdict() {
    QFETCH(int, index);
    const Doc &doc = m_docs.at(index);
    const auto parsed = Manifest::parse(doc.bytes);
    // The data says what the daemon does; the daemon agrees (tst_manifest checks why).
    QCOMPARE(parsed.ok(), doc.daemonShouldAccept);
    const QJsonObject schema = m_schemaResults.at(index).toObject();
    const bool schemaAccepts = schema.value(QStringLiteral("valid")).toBool();
    const QString detail =
        QStringLiteral("%1\n  daemon: %2\n  schema: %3")
            .arg(QString::fromUtf8(doc.bytes), parsed.ok() ? QStringLiteral("valid") : parsed.errorText(),
                 schemaAccepts
                     ? QStringLiteral("valid")
                     : QString::fromUtf8(QJsonDocument(schema.value(QStringLiteral("errors")).toArray())
                                             .toJson(QJsonDocument::Compact)));
    if (!doc.schemaGap.isEmpty()) {
        // A rule beyond JSON Schema: the schema lets it through, the daemon does not.
        QVERIFY2(schemaAccepts && !parsed.ok(), qPrintable(QStringLiteral("no longer a gap? ") + detail));
        return;
    }
    QVERIFY2(schemaAccepts == parsed.ok(), qPrintable(detail));
}

void TestManifestSchema::examplesPointAtTheSchema_data() {
    QTest::addColumn<QString>("path");
    QDir examples(QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples"));
    for (const auto &d : examples.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        QTest::newRow(qPrintable(d)) << examples.filePath(d + QStringLiteral("/portico.json"));
}

void TestManifestSchema::examplesPointAtTheSchema() {
    QFETCH(QString, path);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString ref =
        QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("$schema")).toString();
    QVERIFY2(!ref.isEmpty(), qPrintable(path + QStringLiteral(" has no $schema")));
    QCOMPARE(QFileInfo(QFileInfo(path).dir().filePath(ref)).canonicalFilePath(),
             QFileInfo(kSchema).canonicalFilePath());
}

QTEST_GUILESS_MAIN(TestManifestSchema)
#include "tst_manifest_schema.moc"

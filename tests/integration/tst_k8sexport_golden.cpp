// Golden files of `porticoctl export kubernetes` for every example in resources/examples/
// (and all of them at once), compared byte for byte, each also valid against the schemas.
//
// Golden files: tests/golden/k8s-export/<example>.yaml. After an intended change of the
// output, regenerate them with
//   PORTICO_UPDATE_GOLDEN=1 ctest --test-dir build -R tst_k8sexport_golden
// and review the diff (git diff tests/golden) before committing.
#include "k8sexportutil.h"
#include "manifest.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTest>

using namespace portico;
using namespace portico::test;

namespace {
QByteArray readFile(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestK8sExportGolden final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void goldenExamples_data();
    void goldenExamples();
};

void TestK8sExportGolden::goldenExamples_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("golden");
    const QDir examples(QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples"));
    const QStringList dirs = examples.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QVERIFY(dirs.size() >= 5);
    for (const QString &d : dirs)
        QTest::newRow(qPrintable(d)) << examples.filePath(d) << d + QStringLiteral(".yaml");
    QTest::newRow("all examples") << examples.path() << QStringLiteral("all-examples.yaml");
}

void TestK8sExportGolden::goldenExamples() {
    QFETCH(QString, input);
    QFETCH(QString, golden);
    // An image for each project, named after it.
    QStringList args;
    QDirIterator it(input, {QStringLiteral("portico.json")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const ManifestParseResult m = Manifest::parse(readFile(it.next()));
        QVERIFY2(m.ok(), qPrintable(m.errorText()));
        args << QStringLiteral("--image")
             << QStringLiteral("%1=registry.example.com/portico/%1:1.0").arg(m.manifest->name);
    }
    const CtlRun run = runPorticoctl(exportArgs(args + QStringList{input}));
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const QString path = QStringLiteral(PORTICO_SOURCE_DIR "/tests/golden/k8s-export/") + golden;
    if (qEnvironmentVariable("PORTICO_UPDATE_GOLDEN") == QLatin1String("1")) {
        QFile f(path);
        QVERIFY2(f.open(QIODevice::WriteOnly) && f.write(run.out) == run.out.size() && f.flush(),
                 qPrintable(f.errorString()));
        qInfo("wrote %s", qPrintable(path));
    }
    const QByteArray expected = readFile(path);
    QVERIFY2(!expected.isEmpty(), qPrintable(path + QStringLiteral(" is missing; see the top of this file")));
    QCOMPARE(run.out, expected);
    if (k8sValidatorMissing().isEmpty()) {
        const K8sValidation v = validateK8s(expected, QStringLiteral("yaml"));
        QVERIFY2(v.valid(), qPrintable(v.problems()));
    }
}

QTEST_GUILESS_MAIN(TestK8sExportGolden)
#include "tst_k8sexport_golden.moc"

// Every fuzz target's seeds and kept crashing inputs (fuzz/corpus/<target>/ and
// fuzz/regressions/<target>/) through the target in the normal build: a crash found once
// stays fixed, and the seeds stay valid input. The fuzzing itself is installer/test.sh's.
#include "fuzztarget.h"

#include <QDir>
#include <QFile>
#include <QTest>

class TestFuzzRegressions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyTargetHasSeeds();
    void inputsRunClean_data();
    void inputsRunClean();
};

namespace {

const portico::fuzz::Target *findTarget(const QString &name) {
    size_t count = 0;
    const portico::fuzz::Target *all = portico::fuzz::targets(&count);
    for (size_t i = 0; i < count; ++i)
        if (name == QLatin1String(all[i].name))
            return &all[i];
    return nullptr;
}

} // namespace

void TestFuzzRegressions::everyTargetHasSeeds() {
    size_t count = 0;
    const portico::fuzz::Target *all = portico::fuzz::targets(&count);
    QVERIFY(count >= 3);
    for (size_t i = 0; i < count; ++i) {
        const QDir seeds(QStringLiteral(PORTICO_FUZZ_DIR "/corpus/") + QLatin1String(all[i].name));
        QVERIFY2(!seeds.entryList(QDir::Files).isEmpty(),
                 qPrintable(seeds.path() + QStringLiteral(" is empty")));
    }
}

void TestFuzzRegressions::inputsRunClean_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("file");
    size_t count = 0;
    const portico::fuzz::Target *all = portico::fuzz::targets(&count);
    for (size_t i = 0; i < count; ++i) {
        const QString name = QLatin1String(all[i].name);
        for (const char *kind : {"corpus", "regressions"}) {
            const QDir dir(QStringLiteral(PORTICO_FUZZ_DIR "/%1/%2").arg(QLatin1String(kind), name));
            for (const QString &f : dir.entryList(QDir::Files, QDir::Name))
                QTest::addRow("%s/%s/%s", kind, qPrintable(name), qPrintable(f)) << name << dir.filePath(f);
        }
    }
}

void TestFuzzRegressions::inputsRunClean() {
    QFETCH(QString, target);
    QFETCH(QString, file);
    const portico::fuzz::Target *t = findTarget(target);
    QVERIFY(t);
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray data = f.readAll();
    // A broken invariant aborts, which fails this test with the file's name on screen.
    QCOMPARE(t->run(reinterpret_cast<const uint8_t *>(data.constData()), size_t(data.size())), 0);
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzzregressions.moc"

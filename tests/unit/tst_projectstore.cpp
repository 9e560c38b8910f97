#include "privileges.h"
#include "store/projectstore.h"

#include <QDir>
#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace portico;
using namespace portico::test;

namespace {
StoredProject project(const QString &name, quint16 port = 0) {
    const QByteArray json =
        port
            ? QStringLiteral(
                  R"({"name":"%1","runtime":"upstream","upstream":"127.0.0.1:9000","listen":{"port":%2,"protocol":"tcp"}})")
                  .arg(name)
                  .arg(port)
                  .toUtf8()
            : QStringLiteral(R"({"name":"%1","runtime":"static","entry":"public"})").arg(name).toUtf8();
    const auto r = Manifest::parse(json);
    Q_ASSERT(r.ok());
    return {*r.manifest, QStringLiteral("/srv/%1").arg(name)};
}
void writeFile(const QString &path, const QByteArray &data) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}
} // namespace

class TestProjectStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip();
    void atomicReplace();
    void failedWriteKeepsTheOldFile();
    void remove();
    void corruptFiles_data();
    void corruptFiles();
    void restartKeepsEverything();
};

void TestProjectStore::roundTrip() {
    QTemporaryDir dir;
    ProjectStore store(dir.path());
    QString error;
    QVERIFY2(store.save(project(QStringLiteral("hello")), &error), qPrintable(error));
    QVERIFY(store.save(project(QStringLiteral("my-api"), 3000), &error));
    QStringList problems;
    const auto loaded = store.loadAll(&problems);
    QVERIFY(problems.isEmpty());
    QCOMPARE(loaded.size(), 2);
    QCOMPARE(loaded.at(0), project(QStringLiteral("hello")));
    QCOMPARE(loaded.at(1), project(QStringLiteral("my-api"), 3000));
}

void TestProjectStore::atomicReplace() {
    QTemporaryDir dir;
    ProjectStore store(dir.path());
    QString error;
    QVERIFY(store.save(project(QStringLiteral("app"), 3000), &error));
    const QByteArray first = store.rawFile(QStringLiteral("app"));
    QVERIFY(store.save(project(QStringLiteral("app"), 4000), &error));
    const QByteArray second = store.rawFile(QStringLiteral("app"));
    QVERIFY(first != second);
    QVERIFY(second.contains("4000"));
    // No temporary files are left beside the project files.
    const QStringList files = QDir(store.directory()).entryList(QDir::Files);
    QCOMPARE(files, QStringList{QStringLiteral("app.json")});
}

// A write into a directory that cannot be written fails with an error naming the cause and
// the state directory, and leaves the old file as it was. Root writes anywhere, so as root (CI) the write
// runs in a child that dropped to nobody, in a directory nobody owns and cannot write.
void TestProjectStore::failedWriteKeepsTheOldFile() {
    QTemporaryDir dir;
    const QString path = dir.path();
    QString error;
    QByteArray before;
    {
        ProjectStore store(path);
        QVERIFY(store.save(project(QStringLiteral("app"), 4000), &error));
        before = store.rawFile(QStringLiteral("app"));
        QVERIFY(before.contains("4000"));
    }
    const auto attempt = [path](QByteArray *message) {
        ProjectStore store(path);
        QString error;
        if (store.save(project(QStringLiteral("app"), 5000), &error))
            return 1; // the write went through
        *message = error.toUtf8();
        return 0;
    };
    const QString storeDir = ProjectStore(path).directory();
    QByteArray message;
    int code = -1;
    if (::geteuid() == 0) {
        QVERIFY(chownToNobody(path));
        QVERIFY(QFile::setPermissions(storeDir, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        code = runAsNobody(attempt, &message);
    } else {
        QVERIFY(QFile::setPermissions(storeDir, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        code = attempt(&message);
    }
    QFile::setPermissions(storeDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    QCOMPARE(code, 0);
    // What the operator reads after "cannot save project state: ": why, and where.
    QVERIFY2(message.contains("permission denied"), message.constData());
    QVERIFY2(message.contains(QFile::encodeName(path)), message.constData());
    QCOMPARE(ProjectStore(path).rawFile(QStringLiteral("app")), before);
    QCOMPARE(QDir(storeDir).entryList(QDir::Files), QStringList{QStringLiteral("app.json")});
}

void TestProjectStore::remove() {
    QTemporaryDir dir;
    ProjectStore store(dir.path());
    QString error;
    QVERIFY(store.save(project(QStringLiteral("app")), &error));
    QVERIFY(store.remove(QStringLiteral("app"), &error));
    QVERIFY(store.rawFile(QStringLiteral("app")).isEmpty());
    QVERIFY(store.remove(QStringLiteral("never-there"), &error));
    QStringList problems;
    QVERIFY(store.loadAll(&problems).isEmpty());
}

void TestProjectStore::corruptFiles_data() {
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("reason");
    QTest::newRow("truncated") << "broken.json" << QByteArray(R"({"manifest": {"name": "bro)")
                               << "not valid JSON";
    QTest::newRow("empty") << "empty.json" << QByteArray() << "not valid JSON";
    QTest::newRow("no manifest") << "odd.json" << QByteArray(R"({"hello": 1})") << "no \"manifest\" object";
    QTest::newRow("invalid manifest")
        << "bad.json"
        << QByteArray(R"({"manifest": {"name": "bad", "runtime": "static", "listen": {"port": 70000}}})")
        << "listen.port: 70000 is not a port";
    QTest::newRow("wrong file name")
        << "other.json" << QByteArray(R"({"manifest": {"name": "real", "runtime": "static", "entry": "x"}})")
        << "is not named real.json";
}

void TestProjectStore::corruptFiles() {
    QFETCH(QString, fileName);
    QFETCH(QByteArray, content);
    QFETCH(QString, reason);
    QTemporaryDir dir;
    ProjectStore store(dir.path());
    QString error;
    QVERIFY(store.save(project(QStringLiteral("good")), &error));
    writeFile(store.directory() + QLatin1Char('/') + fileName, content);

    QStringList problems;
    const auto loaded = store.loadAll(&problems);
    QCOMPARE(loaded.size(), 1); // the good project still loads
    QCOMPARE(loaded.first().manifest.name, QStringLiteral("good"));
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems.first().contains(fileName), qPrintable(problems.first()));
    QVERIFY2(problems.first().contains(reason), qPrintable(problems.first()));
    // Moved aside, not deleted, with its content intact.
    QVERIFY(!QFile::exists(store.directory() + QLatin1Char('/') + fileName));
    const QStringList aside = QDir(store.directory() + QStringLiteral("/quarantine")).entryList(QDir::Files);
    QCOMPARE(aside.size(), 1);
    QVERIFY(aside.first().startsWith(fileName));
    QFile moved(store.directory() + QStringLiteral("/quarantine/") + aside.first());
    QVERIFY(moved.open(QIODevice::ReadOnly));
    QCOMPARE(moved.readAll(), content);
    // A second load is clean.
    problems.clear();
    QCOMPARE(store.loadAll(&problems).size(), 1);
    QVERIFY(problems.isEmpty());
}

void TestProjectStore::restartKeepsEverything() {
    QTemporaryDir dir;
    QString error;
    {
        ProjectStore store(dir.path());
        for (int i = 0; i < 20; ++i)
            QVERIFY(store.save(project(QStringLiteral("p%1").arg(i), quint16(3000 + i)), &error));
    }
    ProjectStore again(dir.path());
    QStringList problems;
    const auto loaded = again.loadAll(&problems);
    QCOMPARE(loaded.size(), 20);
    QVERIFY(problems.isEmpty());
    // Every project comes back exactly as saved: name, port, source folder and all.
    QSet<QString> seen;
    for (const auto &p : loaded) {
        const int i = p.manifest.name.mid(1).toInt();
        QCOMPARE(p, project(QStringLiteral("p%1").arg(i), quint16(3000 + i)));
        seen.insert(p.manifest.name);
    }
    QCOMPARE(seen.size(), 20);
}

QTEST_GUILESS_MAIN(TestProjectStore)
#include "tst_projectstore.moc"

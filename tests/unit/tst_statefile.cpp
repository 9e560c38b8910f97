// Every write of state checked, with the failure injected by the kernel: a file size limit
// (RLIMIT_FSIZE, SIGXFSZ ignored) makes writes past it fail with EFBIG exactly where a full
// disk would fail with ENOSPC, without needing a filesystem of our own.
#include "admin/auditlog.h"
#include "store/projectstore.h"
#include "store/statefile.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace portico;

namespace {

// Writes to regular files past `bytes` fail (EFBIG) while it lives.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &m_saved);
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit l = m_saved;
        l.rlim_cur = bytes;
        m_ok = ::setrlimit(RLIMIT_FSIZE, &l) == 0;
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &m_saved);
        std::signal(SIGXFSZ, m_oldHandler);
    }
    bool ok() const { return m_ok; }

private:
    rlimit m_saved{};
    void (*m_oldHandler)(int) = nullptr;
    bool m_ok = false;
};

int modeOf(const QString &path) {
    struct stat st {};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}

QByteArray readAll(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

StoredProject project(const QString &name, const QString &argument) {
    Manifest m;
    m.name = name;
    m.runtime = RuntimeKind::Process;
    m.command = {QStringLiteral("app"), argument};
    m.env.insert(QStringLiteral("PADDING"), QString(4000, QLatin1Char('x'))); // over the limit below
    return {m, QStringLiteral("/srv/") + name};
}

} // namespace

class TestStateFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void atomicWriteFailureLeavesTheOldFile();
    void projectStoreSaveFailureSaysWhyAndWhere();
    void appendFileReportsAndRecovers();
    void auditLogKeepsTheEntryAndSaysSo();
    void errnoSentenceReadsInsideASentence();
};

void TestStateFile::atomicWriteFailureLeavesTheOldFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("a.json"));
    QString error;
    QVERIFY2(writeFileAtomically(path, "old contents\n", 0600, &error), qPrintable(error));
    QCOMPARE(modeOf(path), 0600);
    {
        FileSizeLimit limit(64);
        QVERIFY(limit.ok());
        QVERIFY(!writeFileAtomically(path, QByteArray(1000, 'n'), 0600, &error));
    }
    QVERIFY2(error.startsWith(QStringLiteral("file too large (writing ")), qPrintable(error));
    QCOMPARE(readAll(path), QByteArray("old contents\n"));
    // No temporary left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("a.json")});
}

void TestStateFile::projectStoreSaveFailureSaysWhyAndWhere() {
    QTemporaryDir dir;
    ProjectStore store(dir.path());
    QString error;
    const StoredProject v1 = project(QStringLiteral("app"), QStringLiteral("127.0.0.1:9000"));
    QVERIFY2(store.save(v1, &error), qPrintable(error));
    const QByteArray before = store.rawFile(QStringLiteral("app"));
    QVERIFY(!before.isEmpty());
    {
        FileSizeLimit limit(before.size() / 2);
        QVERIFY(limit.ok());
        QVERIFY(!store.save(project(QStringLiteral("app"), QStringLiteral("127.0.0.1:9001")), &error));
        QVERIFY(!store.save(project(QStringLiteral("new"), QStringLiteral("127.0.0.1:9002")), &error));
    }
    QCOMPARE(error, QStringLiteral("file too large (state dir %1)").arg(dir.path()));
    QCOMPARE(store.rawFile(QStringLiteral("app")), before);
    QVERIFY(!QFile::exists(store.fileFor(QStringLiteral("new"))));
    QStringList problems;
    const auto loaded = store.loadAll(&problems);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    QCOMPARE(loaded.size(), 1);
    QVERIFY(loaded.first() == v1);
}

void TestStateFile::appendFileReportsAndRecovers() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("x.log"));
    AppendFile file(path, 1024 * 1024);
    QString error;
    QVERIFY2(file.append("first line\n", &error), qPrintable(error));
    {
        FileSizeLimit limit(20);
        QVERIFY(limit.ok());
        QVERIFY(!file.append("second line, cut short\n", &error));
        QVERIFY(file.failing());
        QVERIFY2(error == QStringLiteral("cannot write %1: file too large").arg(path), qPrintable(error));
        QVERIFY(!file.append("third line\n", &error));
    }
    QVERIFY2(file.append("fourth line\n", &error), qPrintable(error));
    QVERIFY(!file.failing());
    // The line cut short is ended; the next one starts on a line of its own.
    const QList<QByteArray> lines = readAll(path).split('\n');
    QCOMPARE(lines.first(), QByteArray("first line"));
    QCOMPARE(lines.at(1), QByteArray("second li")); // what fitted under the limit
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines.at(2), QByteArray("fourth line"));
    QCOMPARE(modeOf(path), 0600);
}

void TestStateFile::auditLogKeepsTheEntryAndSaysSo() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("audit.log"));
    AuditLog audit(path);
    AuditEntry e;
    e.method = QStringLiteral("projects.deploy");
    e.project = QStringLiteral("app");
    e.outcome = QStringLiteral("failed");
    e.code = 1008;
    e.error = QStringLiteral("cannot save project state: no space left on device");
    {
        FileSizeLimit limit(0);
        QVERIFY(limit.ok());
        QTest::ignoreMessage(QtCriticalMsg, QRegularExpression(QStringLiteral(
                                                "^audit log: cannot write .*audit\\.log: file too "
                                                "large; the entry \\(projects.deploy app failed\\) "
                                                "is kept in memory only$")));
        audit.record(e);
        audit.record(e); // said once per spell, not once per entry
    }
    QCOMPARE(audit.size(), 2);
    QCOMPARE(audit.unwritten(), 2);
    QCOMPARE(audit.last(1).first().code, 1008);
    QVERIFY(audit.fileError().contains(QStringLiteral("file too large")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^audit log: writing .* again")));
    audit.record(e);
    QVERIFY(audit.fileError().isEmpty());
    QVERIFY(readAll(path).contains("\"code\":1008"));
}

void TestStateFile::errnoSentenceReadsInsideASentence() {
    QCOMPARE(errnoSentence(ENOSPC), QStringLiteral("no space left on device"));
    QCOMPARE(errnoSentence(EROFS), QStringLiteral("read-only file system"));
}

QTEST_GUILESS_MAIN(TestStateFile)
#include "tst_statefile.moc"

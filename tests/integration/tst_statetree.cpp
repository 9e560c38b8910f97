// The state tree holds secrets (manifests with their env values, backend logs): a real
// porticod keeps it owner-only (0700 folders, 0600 files), tightens a tree an older version
// left readable, and gives the admin group the socket and nothing else.
#include "daemonfixture.h"
#include "skips.h"
#include "testutil.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

#include <grp.h>
#include <sys/stat.h>

using namespace portico::test;

namespace {

mode_t modeOf(const QString &path) {
    struct stat st {};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

QString octal(mode_t m) {
    return QStringLiteral("0%1").arg(m, 3, 8, QLatin1Char('0'));
}

// Every folder and file under dir (dir itself included) with its mode, where it differs
// from 0700 (folders) or 0600 (files); empty when all are private.
QStringList looseEntries(const QString &dir) {
    QStringList out;
    if (modeOf(dir) != 0700)
        out << dir + QLatin1Char(' ') + octal(modeOf(dir));
    QDirIterator it(dir, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString p = it.next();
        const QFileInfo fi(p);
        if (fi.isSymLink())
            continue;
        const mode_t want = fi.isDir() ? 0700 : 0600;
        if (modeOf(p) != want)
            out << p + QLatin1Char(' ') + octal(modeOf(p));
    }
    return out;
}

void writeWithMode(const QString &path, const QByteArray &data, mode_t mode) {
    QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(data), data.size());
    f.close();
    QCOMPARE(::chmod(QFile::encodeName(path).constData(), mode), 0);
}

} // namespace

class tst_StateTree : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // A tree as versions before this one left it (0755 folders, 0644 files, a manifest with
    // a secret in it) is tightened when the daemon starts, and what the daemon writes from
    // then on (project files, logs, audit) is private too.
    void existingTreeIsTightenedAndNewFilesArePrivate() {
        DaemonFixture daemon;
        const QString state = daemon.stateDir();
        const QByteArray stored = R"({"format": 1, "source_dir": "", "manifest":
            {"name": "up", "runtime": "upstream", "upstream": "127.0.0.1:9"}})";
        writeWithMode(state + QStringLiteral("/projects/up.json"), stored, 0644);
        writeWithMode(state + QStringLiteral("/logs/old.log"), "DB_PASSWORD=hunter2\n", 0644);
        writeWithMode(state + QStringLiteral("/audit.log"), "{}\n", 0644);
        writeWithMode(state + QStringLiteral("/projects/quarantine/x.json.1"), "{", 0666);
        for (const QString &d : {state, state + QStringLiteral("/projects"), state + QStringLiteral("/logs"),
                                 state + QStringLiteral("/projects/quarantine")})
            QCOMPARE(::chmod(QFile::encodeName(d).constData(), 0755), 0);
        // A link in the tree is neither followed nor changed.
        const QString outside = daemon.dir() + QStringLiteral("/outside.txt");
        writeWithMode(outside, "not state", 0644);
        QVERIFY(QFile::link(outside, state + QStringLiteral("/logs/link.log")));

        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        QVERIFY2(looseEntries(state).isEmpty(), qPrintable(looseEntries(state).join(QLatin1Char('\n'))));
        QCOMPARE(modeOf(outside), mode_t(0644));
        QVERIFY(daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("up")}})
                    .contains(QStringLiteral("result")));

        // New files: a project that logs, its manifest (with an env secret), the audit.
        const QByteArray manifest = QStringLiteral(R"({"name": "talker", "runtime": "process",
            "command": ["%1", "http"], "env": {"API_TOKEN": "s3cret"}})")
                                        .arg(QStringLiteral(TESTBACKEND_PATH))
                                        .toUtf8();
        const QJsonObject r = daemon.deploy(manifest);
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
        QVERIFY(QFile::exists(state + QStringLiteral("/projects/talker.json")));
        QTRY_VERIFY(QFile::exists(state + QStringLiteral("/logs/talker.log")));
        QVERIFY(QFile::exists(state + QStringLiteral("/audit.log")));
        QVERIFY2(looseEntries(state).isEmpty(), qPrintable(looseEntries(state).join(QLatin1Char('\n'))));
        daemon.call(QStringLiteral("projects.undeploy"),
                    {{QStringLiteral("name"), QStringLiteral("talker")}});
    }

    // With an admin group, the group may use the socket (0660, group-owned) and nothing of
    // the state tree.
    void adminGroupGetsOnlyTheSocket() {
        const group *g = ::getgrnam("nogroup");
        PORTICO_REQUIRE(g, "a group 'nogroup' to stand in for the admin group (Debian has one)");
        const gid_t gid = g->gr_gid;
        DaemonFixture daemon;
        daemon.config.insert(QStringLiteral("admin_group"), QStringLiteral("nogroup"));
        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(daemon.socketPath()).constData(), &st), 0);
        QCOMPARE(st.st_gid, gid);
        QCOMPARE(octal(st.st_mode & 07777), octal(0660));
        const QString state = daemon.stateDir();
        QVERIFY2(looseEntries(state).isEmpty(), qPrintable(looseEntries(state).join(QLatin1Char('\n'))));
        QCOMPARE(::stat(QFile::encodeName(state).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0077, mode_t(0));
    }
};

QTEST_GUILESS_MAIN(tst_StateTree)
#include "tst_statetree.moc"

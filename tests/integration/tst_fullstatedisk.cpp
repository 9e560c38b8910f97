// A real porticod whose state directory is a small tmpfs that fills up: a deploy whose
// state cannot be written is refused with the reason, the running version and its file
// stay as they were (also across a restart), the audit keeps the failure, and a backend's
// log file that cannot be written is said in the daemon log while projects.logs still
// has the lines. Mounting needs root (CI runs as root); elsewhere the test is skipped
// with a message, and tst_statefile still injects the same failures.
#include "daemonfixture.h"
#include "skips.h"
#include "threadedbackend.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <sys/mount.h>
#include <unistd.h>

using namespace portico::test;

namespace {

// A tmpfs mounted on `path` while it lives (lazily unmounted: the daemon may still hold files).
class Tmpfs {
public:
    Tmpfs(const QString &path, const char *options) : m_path(QFile::encodeName(path)) {
        QDir().mkpath(path);
        if (::mount("tmpfs", m_path.constData(), "tmpfs", MS_NOSUID | MS_NODEV, options) == 0)
            m_mounted = true;
        else
            m_error = QString::fromLocal8Bit(std::strerror(errno));
    }
    ~Tmpfs() {
        if (m_mounted)
            ::umount2(m_path.constData(), MNT_DETACH);
    }
    bool mounted() const { return m_mounted; }
    QString error() const { return m_error; }

private:
    QByteArray m_path;
    bool m_mounted = false;
    QString m_error;
};

// Fills the filesystem of dir; returns the filler's path.
QString fill(const QString &dir) {
    const QString path = QDir(dir).filePath(QStringLiteral("filler"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered))
        return {};
    const QByteArray chunk(4096, 'f');
    while (f.write(chunk) == chunk.size()) {
    }
    return path;
}

// Pads an append-only log with a blank line up to a page boundary, so that on a full tmpfs
// its next append needs a page that is not there (the last page's slack would take it).
bool padToPage(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::Append | QIODevice::Unbuffered))
        return false;
    const qint64 page = ::sysconf(_SC_PAGESIZE);
    const qint64 pad = (page - f.size() % page) % page;
    if (pad == 0)
        return true;
    QByteArray blank(pad, ' ');
    blank[pad - 1] = '\n';
    return f.write(blank) == pad && f.size() % page == 0;
}

QByteArray upstreamManifest(const QString &name, quint16 port) {
    return QStringLiteral(R"({"name":"%1","runtime":"upstream","upstream":"127.0.0.1:%2"})")
        .arg(name)
        .arg(port)
        .toUtf8();
}

QByteArray readFile(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString upstreamOf(const DaemonFixture &d, const QString &name) {
    return d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), name}})
        .value(QStringLiteral("result"))
        .toObject()
        .value(QStringLiteral("manifest"))
        .toObject()
        .value(QStringLiteral("upstream"))
        .toString();
}

QJsonObject lastAudit(const DaemonFixture &d) {
    const QJsonArray entries = d.call(QStringLiteral("audit.list"), {{QStringLiteral("limit"), 1}})
                                   .value(QStringLiteral("result"))
                                   .toObject()
                                   .value(QStringLiteral("entries"))
                                   .toArray();
    return entries.isEmpty() ? QJsonObject() : entries.last().toObject();
}

} // namespace

class TestFullStateDisk : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void fullDiskRefusesTheDeployAndKeepsTheRunningVersion();

private:
    std::unique_ptr<ThreadedBackend> m_v1;
    std::unique_ptr<ThreadedBackend> m_v2;
};

void TestFullStateDisk::initTestCase() {
    m_v1 = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "v1");
    m_v2 = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "v2");
}

void TestFullStateDisk::fullDiskRefusesTheDeployAndKeepsTheRunningVersion() {
    DaemonFixture d;
    Tmpfs disk(d.stateDir(), "size=1m,mode=0700");
    PORTICO_REQUIRE_WHY(disk.mounted(),
                        QStringLiteral("a tmpfs for the state directory (%1): this test needs root, as in "
                                       "CI; tst_statefile injects the same failures")
                            .arg(disk.error()));
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QString projectFile = d.stateDir() + QStringLiteral("/projects/keep.json");

    // Version 1 and a process backend that writes a log file, while there is room.
    QJsonObject r = d.deploy(upstreamManifest(QStringLiteral("keep"), m_v1->port()));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    const QByteArray v1File = readFile(projectFile);
    QVERIFY(v1File.contains(QByteArray::number(m_v1->port())));
    r = d.deploy(QStringLiteral(R"({"name":"chatty","runtime":"process","command":["%1","http"]})")
                     .arg(QStringLiteral(TESTBACKEND_PATH))
                     .toUtf8());
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());

    QTRY_VERIFY(QFile::exists(d.stateDir() + QStringLiteral("/logs/chatty.log")));
    QVERIFY(padToPage(d.stateDir() + QStringLiteral("/logs/chatty.log")));
    QVERIFY(padToPage(d.stateDir() + QStringLiteral("/audit.log")));
    const QString filler = fill(d.stateDir());
    QVERIFY(!filler.isEmpty());

    // Version 2 cannot be written: refused, with the reason and where.
    r = d.deploy(upstreamManifest(QStringLiteral("keep"), m_v2->port()));
    const QJsonObject error = r.value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toInt(), 1008);
    QCOMPARE(error.value(QStringLiteral("message")).toString(),
             QStringLiteral("cannot save project state: no space left on device (state dir %1)")
                 .arg(d.stateDir()));
    // Version 1 runs on, and its file is as it was.
    QCOMPARE(upstreamOf(d, QStringLiteral("keep")), QStringLiteral("127.0.0.1:%1").arg(m_v1->port()));
    QVERIFY(DaemonFixture::httpGet(d.ingressPort(), "/keep/x").body.startsWith("hello from v1"));
    QCOMPARE(readFile(projectFile), v1File);
    // A new project is not deployed either, and leaves no file.
    r = d.deploy(upstreamManifest(QStringLiteral("fresh"), m_v2->port()));
    QCOMPARE(r.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1008);
    QVERIFY(d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("fresh")}})
                .contains(QStringLiteral("error")));
    QVERIFY(!QFile::exists(d.stateDir() + QStringLiteral("/projects/fresh.json")));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/fresh/x").status, 404);

    // The audit has the failure; where its own file cannot be written, the daemon log says so.
    const QJsonObject audit = lastAudit(d);
    QCOMPARE(audit.value(QStringLiteral("method")).toString(), QStringLiteral("projects.deploy"));
    QCOMPARE(audit.value(QStringLiteral("project")).toString(), QStringLiteral("fresh"));
    QCOMPARE(audit.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
    QCOMPARE(audit.value(QStringLiteral("code")).toInt(), 1008);
    QVERIFY2(d.output().contains("audit log: cannot write " + QFile::encodeName(d.stateDir()) +
                                 "/audit.log: no space left on device"),
             d.output().constData());
    QVERIFY(!readFile(d.stateDir() + QStringLiteral("/audit.log")).contains("\"project\":\"fresh\""));

    // A backend's output that cannot go to its log file is said once, and kept in memory.
    QVERIFY(d.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("chatty")}})
                .contains(QStringLiteral("result")));
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains("chatty: cannot write"), 20000);
    QVERIFY(d.output().contains("no space left on device; its output is kept in memory only"));
    const auto listening = [&] {
        const QJsonArray lines =
            d.call(QStringLiteral("projects.logs"), {{QStringLiteral("name"), QStringLiteral("chatty")}})
                .value(QStringLiteral("result"))
                .toObject()
                .value(QStringLiteral("lines"))
                .toArray();
        int n = 0;
        for (const auto &l : lines)
            n += QJsonDocument(QJsonArray{l}).toJson().contains("listening on") ? 1 : 0;
        return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(listening(), 2, 20000);

    // A restart on the full disk brings back version 1 (the file was never cut).
    d.stop();
    QVERIFY2(d.start(&why), qPrintable(why));
    QTRY_COMPARE_WITH_TIMEOUT(upstreamOf(d, QStringLiteral("keep")),
                              QStringLiteral("127.0.0.1:%1").arg(m_v1->port()), 10000);
    QVERIFY(!QDir(d.stateDir() + QStringLiteral("/projects/quarantine")).exists());

    // With room again, version 2 goes through.
    QVERIFY(QFile::remove(filler));
    r = d.deploy(upstreamManifest(QStringLiteral("keep"), m_v2->port()));
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QVERIFY(readFile(projectFile).contains(QByteArray::number(m_v2->port())));
    QVERIFY(readFile(d.stateDir() + QStringLiteral("/audit.log")).contains("\"outcome\":\"ok\""));
    QVERIFY(DaemonFixture::httpGet(d.ingressPort(), "/keep/x").body.startsWith("hello from v2"));
    d.stop();
}

QTEST_GUILESS_MAIN(TestFullStateDisk)
#include "tst_fullstatedisk.moc"

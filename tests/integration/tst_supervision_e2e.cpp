// Supervision through the real daemon: a process backend served on the ingress comes
// back after a kill, an undeploy leaves no child, and kill -9 of the daemon leaves none.
#include "daemonfixture.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace portico::test;

namespace {

QByteArray processManifest(const QString &name) {
    return QStringLiteral(R"({"name":"%1","runtime":"process","command":["python3","app.py"]})")
        .arg(name)
        .toUtf8();
}

QString exampleDir() {
    return QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/hello-process");
}

qint64 backendPid(const DaemonFixture &d, const QString &name) {
    return qint64(d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), name}})
                      .value(QStringLiteral("result"))
                      .toObject()
                      .value(QStringLiteral("pid"))
                      .toDouble());
}

// Alive and not a zombie waiting to be reaped.
bool alive(qint64 pid) {
    if (pid <= 0)
        return false;
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray stat = f.readAll();
    const qsizetype close = stat.lastIndexOf(')');
    return close > 0 && stat.mid(close + 2, 1) != "Z";
}

} // namespace

class TestSupervisionE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedBackendComesBack();
    void undeployLeavesNoChild();
    void sigkillOfDaemonLeavesNoChild();
    void projectThatCannotStartStaysListed();
};

void TestSupervisionE2e::projectThatCannotStartStaysListed() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QTemporaryDir app;
    QVERIFY(shareWithBackends(app.path()));
    QVERIFY(QFile::copy(exampleDir() + QStringLiteral("/app.py"), app.filePath(QStringLiteral("app.py"))));
    QVERIFY(
        d.deploy(processManifest(QStringLiteral("fragile")), app.path()).contains(QStringLiteral("result")));
    d.stop();
    // The app breaks while the daemon is down.
    QFile broken(app.filePath(QStringLiteral("app.py")));
    QVERIFY(broken.open(QIODevice::WriteOnly | QIODevice::Truncate));
    broken.write("import sys\nprint('cannot start: missing config', file=sys.stderr)\nsys.exit(3)\n");
    broken.close();
    // (No short ready timeout: the broken app exits at once, which fails its start by
    // itself, and a healthy Python start under load may take seconds.)
    QVERIFY2(d.start(&why), qPrintable(why));
    const auto project = [&] {
        return d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("fragile")}})
            .value(QStringLiteral("result"))
            .toObject();
    };
    QTRY_COMPARE_WITH_TIMEOUT(project().value(QStringLiteral("state")).toString(), QStringLiteral("failed"),
                              15000);
    QVERIFY2(project()
                 .value(QStringLiteral("reason"))
                 .toString()
                 .contains(QStringLiteral("cannot start: missing config")),
             qPrintable(project().value(QStringLiteral("reason")).toString()));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/fragile/").status, 503);
    // A restart that fails again is refused with the reason, and the project stays listed.
    const QJsonObject r =
        d.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("fragile")}});
    QCOMPARE(r.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt(), 1004);
    QCOMPARE(project().value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    // Mended and restarted, it serves.
    QVERIFY(QFile::remove(app.filePath(QStringLiteral("app.py"))));
    QVERIFY(QFile::copy(exampleDir() + QStringLiteral("/app.py"), app.filePath(QStringLiteral("app.py"))));
    QVERIFY(d.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("fragile")}})
                .contains(QStringLiteral("result")));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/fragile/").status, 200);
}

void TestSupervisionE2e::killedBackendComesBack() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QJsonObject r = d.deploy(processManifest(QStringLiteral("proc")), exampleDir());
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/proc/").status, 200);
    const qint64 pid = backendPid(d, QStringLiteral("proc"));
    QVERIFY(alive(pid));

    ::kill(pid_t(pid), SIGKILL);
    // It comes back under a new pid and serves again.
    QTRY_VERIFY_WITH_TIMEOUT(
        backendPid(d, QStringLiteral("proc")) != pid && backendPid(d, QStringLiteral("proc")) > 0, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(DaemonFixture::httpGet(d.ingressPort(), "/proc/").status, 200, 20000);
    const QJsonObject project =
        d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("proc")}})
            .value(QStringLiteral("result"))
            .toObject();
    QCOMPARE(project.value(QStringLiteral("state")).toString(), QStringLiteral("active"));
}

void TestSupervisionE2e::undeployLeavesNoChild() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("drain_timeout_ms"), 200);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(
        d.deploy(processManifest(QStringLiteral("short")), exampleDir()).contains(QStringLiteral("result")));
    const qint64 pid = backendPid(d, QStringLiteral("short"));
    QVERIFY(alive(pid));
    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("short")}})
                .contains(QStringLiteral("result")));
    QTRY_VERIFY_WITH_TIMEOUT(!alive(pid), 15000);
}

void TestSupervisionE2e::sigkillOfDaemonLeavesNoChild() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(
        d.deploy(processManifest(QStringLiteral("orphan")), exampleDir()).contains(QStringLiteral("result")));
    const qint64 pid = backendPid(d, QStringLiteral("orphan"));
    QVERIFY(alive(pid));
    d.kill();
    QTRY_VERIFY_WITH_TIMEOUT(!alive(pid), 10000);
}

QTEST_GUILESS_MAIN(TestSupervisionE2e)
#include "tst_supervision_e2e.moc"

// porticoctl against a real porticod: deploy an example, see it in `routes`, a
// conflicting deploy exits 1 naming the conflict, no daemon exits 2; a folder, an unchanged
// redeploy, the route diff, a refused backend's output and `logs` of it, status and routes
// counting the same, and `watch --stats` showing live rates.
#include "daemonfixture.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace portico::test;

namespace {
ProgramRun ctl(const DaemonFixture &d, const QStringList &args) {
    return runProgram(QStringLiteral(PORTICOCTL_PATH),
                      QStringList{QStringLiteral("--socket"), d.socketPath()} + args);
}
QString writeManifest(const QTemporaryDir &dir, const QString &name, const QByteArray &json) {
    return writeFile(dir.path(), name, json);
}
// Starts d and deploys the shipped example site by file (a path-routed static site).
// Empty when done, else what went wrong.
QString startWithSite(DaemonFixture &d) {
    QString why;
    if (!d.start(&why))
        return why;
    const ProgramRun deployed =
        ctl(d, {QStringLiteral("deploy"),
                QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/site/portico.json")});
    return deployed.code == 0 ? QString() : deployed.out + deployed.err;
}
} // namespace

class TestCtlDaemon : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void deployRoutesConflict();
    void watchStats();
    void noDaemonExitsTwo();
    void folderUnchangedAndDiff();
    void refusedBackendShowsItsOutput();
    void statusAndRoutesCountTheSame();
};

void TestCtlDaemon::deployRoutesConflict() {
    DaemonFixture d;
    const QString failed = startWithSite(d);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
    const ProgramRun routes = ctl(d, {QStringLiteral("routes")});
    QCOMPARE(routes.code, 0);
    QVERIFY2(routes.out.contains(QStringLiteral("/site/")), qPrintable(routes.out));
    QVERIFY2(routes.out.contains(QStringLiteral("site")), qPrintable(routes.out));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/site/").status, 200);

    // Two projects that want the same port: the second is refused, exit 1, conflict named.
    // The first takes a free port race-free (picked again should another program take it).
    QTemporaryDir dir;
    QList<quint16> ports;
    const QJsonObject first = d.deployOnFreePorts(
        QStringLiteral(
            R"({"name":"my-api","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1}})"),
        &ports);
    QVERIFY2(first.contains(QStringLiteral("result")), QJsonDocument(first).toJson().constData());
    const quint16 port = ports.value(0);
    const QByteArray second =
        QStringLiteral(
            R"({"name":"other","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1,"protocol":"tcp"}})")
            .arg(port)
            .toUtf8();
    const QString secondPath = writeManifest(dir, QStringLiteral("b.json"), second);
    const ProgramRun dry = ctl(d, {QStringLiteral("deploy"), secondPath, QStringLiteral("--dry-run")});
    QCOMPARE(dry.code, 1);
    const ProgramRun refused = ctl(d, {QStringLiteral("deploy"), secondPath});
    QCOMPARE(refused.code, 1);
    const QString expected = QStringLiteral("port %1/tcp is already bound by project 'my-api'").arg(port);
    QVERIFY2((refused.out + refused.err).contains(expected), qPrintable(refused.out + refused.err));
    QVERIFY2((dry.out + dry.err).contains(expected), qPrintable(dry.out + dry.err));

    // --json gives the same rows as the ingress's /_api/routes.
    const ProgramRun json = ctl(d, {QStringLiteral("routes"), QStringLiteral("--json")});
    QCOMPARE(json.code, 0);
    const QJsonDocument doc = QJsonDocument::fromJson(json.out.toUtf8());
    const QJsonArray rows =
        doc.isArray() ? doc.array() : doc.object().value(QStringLiteral("routes")).toArray();
    const QJsonArray viaHttp =
        QJsonDocument::fromJson(DaemonFixture::httpGet(d.ingressPort(), "/_api/routes").body).array();
    QCOMPARE(rows.size(), viaHttp.size());
    QCOMPARE(rows.size(), 3); // ingress, /site/, my-api's port
}

// `porticoctl watch --stats` into a pipe (README: "live rates per route"): a plain line
// per route at every tick, and requests through the ingress show as that route's rate.
void TestCtlDaemon::watchStats() {
    DaemonFixture d;
    const QString failed = startWithSite(d);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));

    QProcess watch;
    watch.start(QStringLiteral(PORTICOCTL_PATH), {QStringLiteral("--socket"), d.socketPath(),
                                                  QStringLiteral("watch"), QStringLiteral("--stats")});
    QVERIFY(watch.waitForStarted(5000));
    // "12:03:04  8080/http /site/  site  req/s 1.5  in/s 12 B  out/s 3.4 KiB  conns 0  err/s 0  errors 0"
    const QRegularExpression siteLine(
        QStringLiteral(R"(^\d\d:\d\d:\d\d  (\d+)/http /site/  site  req/s (\S+)  in/s .+  out/s .+  )"
                       R"(conns \d+  err/s (\S+)  errors (\d+)$)"),
        QRegularExpression::MultilineOption);
    QString out;
    QRegularExpressionMatch busy;
    const auto sawRequestRate = [&] {
        out += QString::fromUtf8(watch.readAllStandardOutput());
        for (auto it = siteLine.globalMatch(out); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            if (m.captured(2) != QLatin1String("0")) {
                busy = m;
                return true;
            }
        }
        return false;
    };
    // Requests until a tick has counted some (every ~50 ms while QTRY waits).
    QTRY_VERIFY2_WITH_TIMEOUT(
        (DaemonFixture::httpGet(d.ingressPort(), "/site/").status == 200 && sawRequestRate()),
        qPrintable(out + QString::fromUtf8(watch.readAllStandardError())), 20000);
    QCOMPARE(busy.captured(1).toUInt(), uint(d.ingressPort()));
    QVERIFY(busy.captured(2).toDouble() > 0);
    QCOMPARE(busy.captured(3), QStringLiteral("0")); // every answer was a 200
    QCOMPARE(busy.captured(4), QStringLiteral("0"));
    // The ingress itself has its line too.
    QVERIFY2(out.contains(QStringLiteral("/http  (ingress)  req/s ")), qPrintable(out));
    QCOMPARE(watch.state(), QProcess::Running); // it follows until stopped
    watch.terminate();
    QVERIFY(watch.waitForFinished(10000));
}

void TestCtlDaemon::noDaemonExitsTwo() {
    QTemporaryDir dir;
    QProcess p;
    p.start(
        QStringLiteral(PORTICOCTL_PATH),
        {QStringLiteral("--socket"), dir.filePath(QStringLiteral("none.sock")), QStringLiteral("routes")});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(!err.trimmed().isEmpty() && !err.trimmed().contains(QLatin1Char('\n')),
             qPrintable(err)); // one line
}

void TestCtlDaemon::folderUnchangedAndDiff() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    // A folder means its portico.json; the route diff says what was taken.
    const QString site = QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/site");
    ProgramRun r = ctl(d, {QStringLiteral("deploy"), site});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.startsWith(QStringLiteral("deployed 'site'\n  + route /site/\n")), qPrintable(r.out));
    // The same manifest again: unchanged, nothing restarted, exit 0.
    r = ctl(d, {QStringLiteral("deploy"), site});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.startsWith(QStringLiteral("unchanged 'site': ")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("\n  = keep /site/\n")), qPrintable(r.out));
    r = ctl(d, {QStringLiteral("deploy"), QStringLiteral("--dry-run"), site});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("nothing would change")), qPrintable(r.out));
    // A project on a port of its own moves: + bind the new one, - release the old one.
    QTemporaryDir dir;
    const quint16 first = freePort(), second = freePort();
    const auto manifest = [](quint16 port) {
        return QStringLiteral(
                   R"({"name":"up","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1,"protocol":"tcp"}})")
            .arg(port)
            .toUtf8();
    };
    QCOMPARE(ctl(d, {QStringLiteral("deploy"), writeManifest(dir, QStringLiteral("a.json"), manifest(first))})
                 .code,
             0);
    r = ctl(d, {QStringLiteral("deploy"), QStringLiteral("--dry-run"),
                writeManifest(dir, QStringLiteral("b.json"), manifest(second))});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("\n  + bind %1/tcp\n  - release %2/tcp\n").arg(second).arg(first)),
             qPrintable(r.out));
    // audit: who did what; both deploys of site are there.
    r = ctl(d, {QStringLiteral("audit")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith(QStringLiteral("TIME ")) && r.out.count(QStringLiteral("projects.deploy")) >= 3,
             qPrintable(r.out));
}

void TestCtlDaemon::refusedBackendShowsItsOutput() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QTemporaryDir dir;
    QVERIFY(shareWithBackends(dir.path())); // its working directory, entered as the backend user
    // A backend that prints on stderr and exits at once: the deploy is refused (exit 1)
    // with the end of what it printed, and `logs` reads all of it by name.
    const QByteArray crashy =
        QStringLiteral(R"({"name":"crashy","runtime":"process","command":["%1","exit-now","3"],)"
                       R"("listen":{"port":%2,"protocol":"tcp"}})")
            .arg(QStringLiteral(TESTBACKEND_PATH))
            .arg(freePort())
            .toUtf8();
    ProgramRun r =
        ctl(d, {QStringLiteral("deploy"), writeManifest(dir, QStringLiteral("portico.json"), crashy)});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.startsWith(
                 QStringLiteral("porticoctl: deploy of 'crashy' refused: project 'crashy' did not start")),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("\n  last output of 'crashy':\n")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("testbackend exit-now pid")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("(all of it: porticoctl logs crashy)")), qPrintable(r.err));
    r = ctl(d, {QStringLiteral("logs"), QStringLiteral("crashy")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("'crashy' is not deployed")), qPrintable(r.err));
    static const QRegularExpression stderrLine(
        QStringLiteral(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} stderr  testbackend exit-now pid \d+$)"),
        QRegularExpression::MultilineOption);
    QVERIFY2(stderrLine.match(r.out).hasMatch(), qPrintable(r.out));
}

void TestCtlDaemon::statusAndRoutesCountTheSame() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QCOMPARE(ctl(d, {QStringLiteral("deploy"), QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/site")})
                 .code,
             0);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/site/").status, 200);
    // The ingress listener's counters, from daemon.info and from routes.list: the same.
    const auto ingress = [](const QJsonArray &rows) {
        for (const auto &v : rows)
            if (v.toObject().value(QStringLiteral("project")).isNull())
                return v.toObject().value(QStringLiteral("counters")).toObject();
        return QJsonObject();
    };
    const ProgramRun status = ctl(d, {QStringLiteral("status"), QStringLiteral("--json")});
    const ProgramRun routes = ctl(d, {QStringLiteral("routes"), QStringLiteral("--json")});
    QCOMPARE(status.code, 0);
    QCOMPARE(routes.code, 0);
    const QJsonObject fromStatus = ingress(
        QJsonDocument::fromJson(status.out.toUtf8()).object().value(QStringLiteral("listeners")).toArray());
    const QJsonObject fromRoutes = ingress(QJsonDocument::fromJson(routes.out.toUtf8()).array());
    QVERIFY2(fromStatus.value(QStringLiteral("requests")).toInt() >= 3, qPrintable(status.out));
    QCOMPARE(fromStatus.value(QStringLiteral("requests")), fromRoutes.value(QStringLiteral("requests")));
    QCOMPARE(fromStatus.value(QStringLiteral("bytes_out")), fromRoutes.value(QStringLiteral("bytes_out")));
    // And the human status sums the listeners, not counting the path route behind the
    // ingress twice.
    const ProgramRun human = ctl(d, {QStringLiteral("status")});
    QVERIFY2(human.out.contains(
                 QStringLiteral("%1 request(s)").arg(fromStatus.value(QStringLiteral("requests")).toInt())),
             qPrintable(human.out));
}

QTEST_GUILESS_MAIN(TestCtlDaemon)
#include "tst_ctl_daemon.moc"

// porticoctl against a real porticod: deploy an example, see it in `routes`, a
// conflicting deploy exits 1 naming the conflict, no daemon exits 2.
#include "daemonfixture.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
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
} // namespace

class TestCtlDaemon : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void deployRoutesConflict();
    void noDaemonExitsTwo();
};

void TestCtlDaemon::deployRoutesConflict() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));

    // The shipped example, deployed by file: path-routed static site.
    const ProgramRun deployed =
        ctl(d, {QStringLiteral("deploy"),
                QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples/site/portico.json")});
    QVERIFY2(deployed.code == 0, qPrintable(deployed.out + deployed.err));
    const ProgramRun routes = ctl(d, {QStringLiteral("routes")});
    QCOMPARE(routes.code, 0);
    QVERIFY2(routes.out.contains(QStringLiteral("/site/")), qPrintable(routes.out));
    QVERIFY2(routes.out.contains(QStringLiteral("site")), qPrintable(routes.out));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/site/").status, 200);

    // Two projects that want the same port: the second is refused, exit 1, conflict named.
    QTemporaryDir dir;
    const quint16 port = freePort();
    const QByteArray first =
        QStringLiteral(
            R"({"name":"my-api","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1}})")
            .arg(port)
            .toUtf8();
    const QByteArray second =
        QStringLiteral(
            R"({"name":"other","runtime":"upstream","upstream":"127.0.0.1:9","listen":{"port":%1,"protocol":"tcp"}})")
            .arg(port)
            .toUtf8();
    QCOMPARE(ctl(d, {QStringLiteral("deploy"), writeManifest(dir, QStringLiteral("a.json"), first)}).code, 0);
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

QTEST_GUILESS_MAIN(TestCtlDaemon)
#include "tst_ctl_daemon.moc"

// DeployDialog against a real porticod: the dry run (projects.validate) is shown before
// anything is deployed, and Deploy is only possible when it is clean. Enter in the
// manifest field runs the check (never the file picker), a folder means its portico.json,
// a conflict comes with the nearest free port (and a button that uses it), an upstream
// that does not answer is a warning, and checked manifests are remembered.

#include "dashboardtest.h"
#include "threadedbackend.h"
#include "widgets/deploydialog.h"

#include <QFile>
#include <QFileDialog>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QToolButton>

using namespace portico;
using namespace portico::test;

class TestDeployDialog final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void dryRunRefusesAndKeepsDeployOff_data();
    void dryRunRefusesAndKeepsDeployOff();
    void cleanDryRunDeploys();
    void dryRunFollowsPortsTakenMeanwhile();
    void enterInTheManifestFieldRunsTheCheck_data();
    void enterInTheManifestFieldRunsTheCheck();
    void conflictSuggestsTheNearestFreePort();
    void upstreamThatDoesNotAnswerIsAWarning_data();
    void upstreamThatDoesNotAnswerIsAWarning();
    void remembersRecentManifests();

private:
    QString writeManifest(const QString &file, const QByteArray &json);

    std::unique_ptr<QTemporaryDir> m_settings;
    DaemonFixture m_daemon;
    QTemporaryDir m_dir;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    quint16 m_heldPort = 0;
};

void TestDeployDialog::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_settings = isolateSettings();
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    m_heldPort = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("holder"), m_http->port(), m_heldPort))));
    m_client = makeClient(m_daemon);
    m_client->connectToDaemon(); // may connect before it returns
    QTRY_VERIFY_WITH_TIMEOUT(m_client->isConnected(), 10000);
}

void TestDeployDialog::cleanupTestCase() {
    m_client.reset();
    m_daemon.stop();
}

QString TestDeployDialog::writeManifest(const QString &file, const QByteArray &json) {
    const QString path = m_dir.filePath(file);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    f.write(json);
    return path;
}

void TestDeployDialog::dryRunRefusesAndKeepsDeployOff_data() {
    QTest::addColumn<QByteArray>("manifest");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QStringList>("expectedLines"); // each must be a substring of some shown line

    // Filled in at run time: the port held by "holder".
    QTest::newRow("port held by another project")
        << QByteArray("{\"name\":\"intruder\",\"runtime\":\"upstream\",\"upstream\":\"127.0.0.1:1\","
                      "\"listen\":{\"port\":HELD,\"protocol\":\"http\"}}")
        << int(DryRun::Outcome::Conflict)
        << QStringList{QStringLiteral("conflict: port HELD/tcp is already bound by project 'holder'"),
                       QStringLiteral("+ bind port HELD/http"), QStringLiteral("new project 'intruder'")};
    QTest::newRow("two listen entries on the ingress port and a held one")
        << QByteArray("{\"name\":\"greedy\",\"runtime\":\"upstream\",\"upstream\":\"127.0.0.1:1\","
                      "\"listen\":[{\"port\":HELD,\"protocol\":\"tcp\"},{\"port\":INGRESS}]}")
        << int(DryRun::Outcome::Conflict)
        << QStringList{QStringLiteral("conflict: port HELD/tcp is already bound by project 'holder'"),
                       QStringLiteral("conflict: port INGRESS/tcp is the HTTP ingress port")};
    QTest::newRow("invalid manifest: every error with its path")
        << QByteArray("{\"name\":\"Bad Name\",\"runtime\":\"upstream\",\"upstream\":\"127.0.0.1:1\","
                      "\"listen\":{\"port\":70000},\"colour\":1}")
        << int(DryRun::Outcome::Invalid)
        << QStringList{QStringLiteral("error: name: "), QStringLiteral("error: listen.port: "),
                       QStringLiteral("error: colour")};
    QTest::newRow("not JSON") << QByteArray("{\"name\": ") << int(DryRun::Outcome::Failed)
                              << QStringList{QStringLiteral("is not JSON")};
}

void TestDeployDialog::dryRunRefusesAndKeepsDeployOff() {
    QFETCH(QByteArray, manifest);
    QFETCH(int, outcome);
    QFETCH(QStringList, expectedLines);
    const QByteArray held = QByteArray::number(m_heldPort);
    const QByteArray ingress = QByteArray::number(m_daemon.ingressPort());
    manifest.replace("HELD", held).replace("INGRESS", ingress);

    DeployDialog dialog(m_client.get());
    dialog.show();
    QSignalSpy finished(&dialog, &DeployDialog::dryRunFinished);
    dialog.setManifestPath(writeManifest(QStringLiteral("refused.json"), manifest));
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10000);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(int(dialog.dryRun().outcome), outcome);
    const QString shown = dialog.shownLines().join(QLatin1Char('\n'));
    for (QString expected : expectedLines) {
        expected.replace(QStringLiteral("HELD"), QString::fromLatin1(held))
            .replace(QStringLiteral("INGRESS"), QString::fromLatin1(ingress));
        QVERIFY2(shown.contains(expected),
                 qPrintable(QStringLiteral("'%1' not in:\n%2").arg(expected, shown)));
    }
    QVERIFY(!dialog.isDeployEnabled());
    QVERIFY(!dialog.deployButton()->isEnabled());
    // Clicking anyway (or calling deploy()) sends nothing.
    QTest::mouseClick(dialog.deployButton(), Qt::LeftButton);
    dialog.deploy();
    QVERIFY(!dialog.isBusy());
    const QJsonObject list = m_daemon.call(QStringLiteral("projects.list"));
    QCOMPARE(
        list.value(QStringLiteral("result")).toObject().value(QStringLiteral("projects")).toArray().size(),
        1);
}

void TestDeployDialog::cleanDryRunDeploys() {
    const quint16 port = freePort();
    const QString path = writeManifest(QStringLiteral("fresh.json"),
                                       upstreamManifest(QStringLiteral("fresh"), m_http->port(), port));
    DeployDialog dialog(m_client.get());
    dialog.show();
    QSignalSpy finished(&dialog, &DeployDialog::dryRunFinished);
    QSignalSpy deployed(&dialog, &DeployDialog::deployed);
    dialog.setManifestPath(path);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10000);
    QCOMPARE(finished.first().at(0).toBool(), true);
    QVERIFY(dialog.dryRun().isClean());
    const QStringList lines = dialog.shownLines();
    QVERIFY2(lines.contains(QStringLiteral("new project 'fresh'")),
             qPrintable(lines.join(QLatin1Char('\n'))));
    QVERIFY2(lines.contains(QStringLiteral("+ bind port %1/http").arg(port)),
             qPrintable(lines.join(QLatin1Char('\n'))));
    // The dry run changed nothing.
    QCOMPARE(
        m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("fresh")}})
            .value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("code"))
            .toInt(),
        1003);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isDeployEnabled(), 5000);

    QTest::mouseClick(dialog.deployButton(), Qt::LeftButton);
    QVERIFY(!dialog.deployButton()->isEnabled()); // no second deploy while the first runs
    QVERIFY(deployed.wait(30000));
    QCOMPARE(deployed.first().at(0).toString(), QStringLiteral("fresh"));
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    const QJsonObject got =
        m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("fresh")}});
    QVERIFY2(isOk(got), QJsonDocument(got).toJson().constData());
    QCOMPARE(DaemonFixture::httpGet(port, "/x").status, 200);
}

void TestDeployDialog::dryRunFollowsPortsTakenMeanwhile() {
    const quint16 port = freePort();
    DeployDialog dialog(m_client.get());
    dialog.show();
    dialog.setManifestPath(writeManifest(QStringLiteral("late.json"),
                                         upstreamManifest(QStringLiteral("late"), m_http->port(), port)));
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isDeployEnabled(), 10000);

    // Someone else takes the port while the dialog is open: the dry run runs again.
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("quick"), m_http->port(), port))));
    QTRY_COMPARE_WITH_TIMEOUT(int(dialog.dryRun().outcome), int(DryRun::Outcome::Conflict), 10000);
    QVERIFY(!dialog.isDeployEnabled());
    QVERIFY(dialog.shownLines().join(QLatin1Char('\n')).contains(QStringLiteral("bound by project 'quick'")));

    // And when it is released, Deploy comes back.
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("quick")}})));
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isDeployEnabled(), 20000);
}

void TestDeployDialog::enterInTheManifestFieldRunsTheCheck_data() {
    QTest::addColumn<bool>("folder");
    QTest::addColumn<int>("key");
    QTest::newRow("the file, Return") << false << int(Qt::Key_Return);
    QTest::newRow("its folder, keypad Enter") << true << int(Qt::Key_Enter);
}

void TestDeployDialog::enterInTheManifestFieldRunsTheCheck() {
    QFETCH(bool, folder);
    QFETCH(int, key);
    const quint16 port = freePort();
    const QString dir = m_dir.filePath(QStringLiteral("typed-%1").arg(port));
    const QString file = writeFile(dir + QStringLiteral("/portico.json"),
                                   upstreamManifest(QStringLiteral("typed"), m_http->port(), port));
    DeployDialog dialog(m_client.get());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy finished(&dialog, &DeployDialog::dryRunFinished);
    dialog.pathField()->setFocus();
    QTest::keyClicks(dialog.pathField(), folder ? dir : file);
    QTest::keyClick(dialog.pathField(), Qt::Key(key));
    // The check runs: no file picker, the dialog neither accepted nor closed.
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.first().at(0).toBool(), true);
    QCOMPARE(dialog.manifestPath(), file);
    QVERIFY(dialog.isVisible());
    QCOMPARE(dialog.result(), 0);
    QVERIFY(dialog.findChildren<QFileDialog *>().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isDeployEnabled(), 5000);
    // Enter again checks again; it never deploys.
    QTest::keyClick(dialog.pathField(), Qt::Key(key));
    QVERIFY(finished.wait(10000));
    QVERIFY(dialog.isVisible());
    QVERIFY(!isOk(
        m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("typed")}})));
}

void TestDeployDialog::conflictSuggestsTheNearestFreePort() {
    // "holder" has m_heldPort; "other programs" hold the ports on either side where they
    // can (which ones are free around it is up to the rest of the host: the choice of
    // the nearest among free ports is tst_portfinder's, with a host of its own making).
    QTcpServer above, below;
    const bool aboveHeld = above.listen(QHostAddress::Any, quint16(m_heldPort + 1));
    const bool belowHeld = below.listen(QHostAddress::Any, quint16(m_heldPort - 1));
    const QString file =
        writeManifest(QStringLiteral("wants-held.json"),
                      upstreamManifest(QStringLiteral("wanting"), m_http->port(), m_heldPort));
    DeployDialog dialog(m_client.get());
    dialog.show();
    QSignalSpy ready(&dialog, &DeployDialog::suggestionsReady);
    dialog.setManifestPath(file);
    QVERIFY(ready.wait(10000));
    QCOMPARE(int(dialog.dryRun().outcome), int(DryRun::Outcome::Conflict));
    QCOMPARE(dialog.suggestions().size(), 1);
    const PortSuggestion s = dialog.suggestions().first();
    QCOMPARE(s.from, int(m_heldPort));
    QCOMPARE(s.transport, QStringLiteral("tcp"));
    QVERIFY(s.to > 0);
    QVERIFY(s.to != int(m_heldPort));
    if (aboveHeld)
        QVERIFY(s.to != int(m_heldPort) + 1);
    if (belowHeld)
        QVERIFY(s.to != int(m_heldPort) - 1);
    QVERIFY2(qAbs(s.to - int(m_heldPort)) < 100, qPrintable(QString::number(s.to))); // near it
    QVERIFY(canBind(s.to, QStringLiteral("tcp")));
    QVERIFY(dialog.useSuggestionsButton()->isVisible());
    QCOMPARE(dialog.useSuggestionsButton()->text(), QStringLiteral("Use %1").arg(s.to));

    // Using it: the manifest (not the file) changes, the check runs again and is clean.
    QSignalSpy finished(&dialog, &DeployDialog::dryRunFinished);
    QTest::mouseClick(dialog.useSuggestionsButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.last().at(0).toBool(), true);
    QCOMPARE(
        dialog.manifest().value(QStringLiteral("listen")).toObject().value(QStringLiteral("port")).toInt(),
        s.to);
    QVERIFY(dialog.shownLines().contains(QStringLiteral("+ bind port %1/http").arg(s.to)));
    QFile onDisk(file);
    QVERIFY(onDisk.open(QIODevice::ReadOnly));
    QVERIFY(onDisk.readAll().contains(QByteArray::number(m_heldPort)));
    QSignalSpy deployed(&dialog, &DeployDialog::deployed);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isDeployEnabled(), 5000);
    QTest::mouseClick(dialog.deployButton(), Qt::LeftButton);
    QVERIFY(deployed.wait(30000));
    QCOMPARE(DaemonFixture::httpGet(quint16(s.to), "/x").status, 200);
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("wanting")}})));
}

void TestDeployDialog::upstreamThatDoesNotAnswerIsAWarning_data() {
    QTest::addColumn<bool>("answers");
    QTest::newRow("nothing listens there") << false;
    QTest::newRow("the upstream answers") << true;
}

void TestDeployDialog::upstreamThatDoesNotAnswerIsAWarning() {
    QFETCH(bool, answers);
    const quint16 silent = freePort(); // probed free: nobody listens there
    const quint16 upstream = answers ? m_http->port() : silent;
    const QString file =
        writeManifest(QStringLiteral("up.json"), upstreamManifest(QStringLiteral("maybe"), upstream));
    DeployDialog dialog(m_client.get());
    dialog.show();
    QSignalSpy checked(&dialog, &DeployDialog::upstreamChecked);
    dialog.setManifestPath(file);
    QVERIFY(checked.wait(10000));
    QCOMPARE(checked.first().at(0).toBool(), answers);
    const QString shown = dialog.shownLines().join(QLatin1Char('\n'));
    QCOMPARE(shown.contains(QStringLiteral("warning: nothing answers at 127.0.0.1:%1").arg(silent)),
             !answers);
    // A warning, not a refusal.
    QVERIFY(dialog.dryRun().isClean());
    QVERIFY(dialog.isDeployEnabled());
}

void TestDeployDialog::remembersRecentManifests() {
    QSettings().remove(QStringLiteral("deploy/recent"));
    QStringList paths;
    for (int i = 0; i < 3; ++i)
        paths << writeManifest(QStringLiteral("recent-%1.json").arg(i),
                               upstreamManifest(QStringLiteral("recent-%1").arg(i), m_http->port()));
    {
        DeployDialog dialog(m_client.get());
        for (const QString &p : paths)
            dialog.setManifestPath(p);
    }
    // Newest first, in a new dialog's Recent menu; picking one checks it.
    DeployDialog dialog(m_client.get());
    dialog.show();
    auto *recent = dialog.findChild<QToolButton *>(QStringLiteral("recentButton"));
    QVERIFY(recent && recent->isEnabled());
    Q_EMIT recent->menu()->aboutToShow();
    const auto actions = recent->menu()->actions();
    QCOMPARE(actions.size(), 3);
    QCOMPARE(actions.at(0)->text(), paths.at(2));
    QCOMPARE(actions.at(2)->text(), paths.at(0));
    QSignalSpy finished(&dialog, &DeployDialog::dryRunFinished);
    actions.at(1)->trigger();
    QVERIFY(finished.wait(10000));
    QCOMPARE(dialog.manifestPath(), paths.at(1));
    QCOMPARE(dialog.dryRun().project, QStringLiteral("recent-1"));
}

QTEST_MAIN(TestDeployDialog)
#include "tst_deploydialog.moc"

// The audit trail view's model against a real porticod: audit.list newest first, with who
// (user and pid), the call, the project and the outcome, and new entries as they happen.

#include "dashboardtest.h"
#include "models/auditmodel.h"
#include "threadedbackend.h"
#include "widgets/auditview.h"

#include <QAbstractItemModelTester>
#include <QCoreApplication>

#include <pwd.h>
#include <unistd.h>

using namespace portico;
using namespace portico::test;

class TestAuditModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsEveryAuditedCall_data();
    void showsEveryAuditedCall();
    void readsEntriesOldestFirstShowsNewestFirst();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<AuditModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestAuditModel::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("first"), m_http->port()))));
    m_client = makeClient(m_daemon);
    m_model = std::make_unique<AuditModel>(m_client.get());
    m_tester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(m_model.get(), &AuditModel::loaded);
    m_client->connectToDaemon();
    QVERIFY(loaded.wait(10000));
}

void TestAuditModel::cleanupTestCase() {
    m_tester.reset();
    m_model.reset();
    m_client.reset();
    m_daemon.stop();
}

void TestAuditModel::showsEveryAuditedCall_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QByteArray>("params"); // "MANIFEST" stands for a fresh manifest
    QTest::addColumn<QString>("project");
    QTest::addColumn<QString>("outcome"); // as shown
    QTest::addColumn<bool>("event");      // the call leaves an event behind that tells the model
    QTest::newRow("a deploy") << QStringLiteral("projects.deploy") << QByteArray("MANIFEST")
                              << QStringLiteral("second") << QStringLiteral("ok") << true;
    QTest::newRow("a restart") << QStringLiteral("projects.restart") << QByteArray(R"({"name":"first"})")
                               << QStringLiteral("first") << QStringLiteral("ok")
                               << false; // an upstream: no state change
    QTest::newRow("a refused undeploy")
        << QStringLiteral("projects.undeploy") << QByteArray(R"({"name":"nobody"})")
        << QStringLiteral("nobody") << QStringLiteral("refused (1003)") << false;
    QTest::newRow("an undeploy") << QStringLiteral("projects.undeploy") << QByteArray(R"({"name":"second"})")
                                 << QStringLiteral("second") << QStringLiteral("ok") << true;
}

void TestAuditModel::showsEveryAuditedCall() {
    QFETCH(QString, method);
    QFETCH(QByteArray, params);
    QFETCH(QString, project);
    QFETCH(QString, outcome);
    QFETCH(bool, event);
    const int before = m_model->rowCount();
    const QJsonObject p =
        params == "MANIFEST"
            ? QJsonObject{{QStringLiteral("manifest"),
                           QJsonDocument::fromJson(upstreamManifest(project, m_http->port())).object()}}
            : QJsonDocument::fromJson(params).object();
    m_daemon.call(method, p);
    // Without an event the call shows at the next reload: the view's, while it is shown
    // (every 200 ms here), F5's or a reconnect's.
    std::unique_ptr<AuditView> view;
    if (!event) {
        view = std::make_unique<AuditView>(m_model.get(), 200);
        view->show();
    }
    QTRY_VERIFY_WITH_TIMEOUT(m_model->rowCount() > before, 10000);
    const AuditModel::Entry e = m_model->entry(0);
    QCOMPARE(e.method, method);
    QCOMPARE(e.project, project);
    QCOMPARE(m_model->index(0, AuditModel::Outcome).data().toString(), outcome);
    QCOMPARE(m_model->index(0, AuditModel::Method).data().toString(), method);
    // Who: this test's user (the fixture's connection comes from this process).
    QCOMPARE(e.uid, qint64(getuid()));
    QCOMPARE(e.pid, QCoreApplication::applicationPid());
    const passwd *pw = getpwuid(getuid());
    QVERIFY(pw);
    QCOMPARE(m_model->index(0, AuditModel::Who).data().toString(),
             QStringLiteral("%1 (pid %2)").arg(QString::fromLocal8Bit(pw->pw_name)).arg(e.pid));
    QVERIFY(e.time.isValid());
    QVERIFY(!m_model->index(0, AuditModel::Time).data().toString().isEmpty());
}

void TestAuditModel::readsEntriesOldestFirstShowsNewestFirst() {
    AdminClient offline;
    AuditModel model(&offline);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto entry = [](const char *time, const char *project) {
        return QJsonObject{{QStringLiteral("time"), QLatin1String(time)},
                           {QStringLiteral("uid"), 0},
                           {QStringLiteral("pid"), 1},
                           {QStringLiteral("method"), QStringLiteral("projects.deploy")},
                           {QStringLiteral("project"), QLatin1String(project)},
                           {QStringLiteral("outcome"), QStringLiteral("failed")},
                           {QStringLiteral("error"), QStringLiteral("the backend did not start")}};
    };
    QJsonArray entries{entry("2026-01-01T10:00:00.000Z", "a"), entry("2026-01-01T11:00:00.000Z", "b")};
    model.applyEntries(entries);
    QCOMPARE(model.entry(0).project, QStringLiteral("b"));
    QCOMPARE(model.entry(1).project, QStringLiteral("a"));
    QCOMPARE(model.index(0, AuditModel::Error).data().toString(),
             QStringLiteral("the backend did not start"));
    // A new one on top, the rest in place.
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    entries.append(entry("2026-01-01T12:00:00.000Z", "c"));
    model.applyEntries(entries);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.entry(0).project, QStringLiteral("c"));
    QCOMPARE(resets.count(), 0);
}

QTEST_MAIN(TestAuditModel)
#include "tst_auditmodel.moc"

// LogViewer against a real porticod: the tail from projects.logs, then new lines from
// project.log events while "Follow" is on, and none while it is off.

#include "dashboardtest.h"
#include "widgets/logviewer.h"

using namespace portico;
using namespace portico::test;

class TestLogViewer final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsTheTailThenFollows_data();
    void showsTheTailThenFollows();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<AdminClient> m_client;
};

void TestLogViewer::initTestCase() {
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    const QJsonObject manifest{
        {QStringLiteral("name"), QStringLiteral("talker")},
        {QStringLiteral("runtime"), QStringLiteral("process")},
        {QStringLiteral("command"), QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}};
    const QJsonObject r = m_daemon.deploy(QJsonDocument(manifest).toJson());
    QVERIFY2(isOk(r), QJsonDocument(r).toJson().constData());
    m_client = makeClient(m_daemon);
    m_client->connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(m_client->isConnected(), 10000);
}

void TestLogViewer::cleanupTestCase() {
    m_client.reset();
    m_daemon.stop();
}

void TestLogViewer::showsTheTailThenFollows_data() {
    QTest::addColumn<bool>("follow");
    QTest::newRow("following") << true;
    QTest::newRow("not following") << false;
}

void TestLogViewer::showsTheTailThenFollows() {
    QFETCH(bool, follow);
    LogViewer viewer(m_client.get(), QStringLiteral("talker"));
    viewer.show();
    // The backend printed "testbackend http pid N" and "listening on ..." at start.
    QTRY_VERIFY_WITH_TIMEOUT(viewer.text().contains(QStringLiteral("listening on")), 10000);
    const int before = int(viewer.text().count(QStringLiteral("listening on")));
    viewer.setFollowing(follow);

    // A restart makes the backend print its start lines again: project.log events.
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.restart"),
                               {{QStringLiteral("name"), QStringLiteral("talker")}})));
    if (follow) {
        QTRY_VERIFY_WITH_TIMEOUT(viewer.text().count(QStringLiteral("listening on")) > before, 10000);
    } else {
        // Wait until the daemon has the new lines (its tail shows them), then check the
        // viewer did not take them.
        const auto daemonTail = [this] {
            QStringList lines;
            const QJsonObject r = m_daemon.call(QStringLiteral("projects.logs"),
                                                {{QStringLiteral("name"), QStringLiteral("talker")}});
            for (const QJsonValue &v :
                 r.value(QStringLiteral("result")).toObject().value(QStringLiteral("lines")).toArray())
                lines << v.toObject().value(QStringLiteral("text")).toString();
            return lines.join(QLatin1Char('\n'));
        };
        QTRY_VERIFY_WITH_TIMEOUT(daemonTail().count(QStringLiteral("listening on")) > before, 10000);
        QTest::qWait(0); // let queued events in
        QCoreApplication::processEvents();
        QCOMPARE(int(viewer.text().count(QStringLiteral("listening on"))), before);
        viewer.reload();
        QTRY_VERIFY_WITH_TIMEOUT(viewer.text().count(QStringLiteral("listening on")) > before, 10000);
    }
}

QTEST_MAIN(TestLogViewer)
#include "tst_logviewer.moc"

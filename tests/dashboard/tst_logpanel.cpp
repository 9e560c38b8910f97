// A project's output (LogModel + LogPanel) against a real porticod: the tail from
// projects.logs, new lines from project.log events while following and none while not,
// search, and each line's time and stream (stderr marked) where the daemon gives them.

#include "dashboardtest.h"
#include "models/format.h"
#include "models/logmodel.h"
#include "widgets/logpanel.h"

#include <QAbstractItemModelTester>
#include <QLineEdit>
#include <QScrollBar>
#include <QTableView>

using namespace portico;
using namespace portico::test;

class TestLogPanel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void readsBothLineShapes_data();
    void readsBothLineShapes();
    void staysWithinItsBound();
    void showsTheTailThenFollows_data();
    void showsTheTailThenFollows();
    void searchNarrowsTheLines();
    void marksStderrWithTime();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<AdminClient> m_client;
};

void TestLogPanel::initTestCase() {
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

void TestLogPanel::cleanupTestCase() {
    m_client.reset();
    m_daemon.stop();
}

void TestLogPanel::readsBothLineShapes_data() {
    QTest::addColumn<QJsonValue>("json");
    QTest::addColumn<QString>("time");
    QTest::addColumn<QString>("stream");
    QTest::addColumn<QString>("text");
    QTest::newRow("a bare string (protocol 1)")
        << QJsonValue(QStringLiteral("hello")) << QString() << QString() << QStringLiteral("hello");
    QTest::newRow("an object with time and stream")
        << QJsonValue(QJsonObject{{QStringLiteral("time"), QStringLiteral("2026-01-02T03:04:05.678Z")},
                                  {QStringLiteral("stream"), QStringLiteral("stderr")},
                                  {QStringLiteral("text"), QStringLiteral("boom")}})
        << QStringLiteral("2026-01-02T03:04:05.678Z") << QStringLiteral("stderr") << QStringLiteral("boom");
    QTest::newRow("a protocol 1 event's data")
        << QJsonValue(QJsonObject{{QStringLiteral("project"), QStringLiteral("x")},
                                  {QStringLiteral("line"), QStringLiteral("old")}})
        << QString() << QString() << QStringLiteral("old");
}

void TestLogPanel::readsBothLineShapes() {
    QFETCH(QJsonValue, json);
    QFETCH(QString, time);
    QFETCH(QString, stream);
    QFETCH(QString, text);
    const LogModel::Line line = LogModel::lineFromJson(json);
    QCOMPARE(line.text, text);
    QCOMPARE(line.stream, stream);
    QCOMPARE(line.time.isValid() ? line.time.toUTC().toString(Qt::ISODateWithMs) : QString(), time);

    LogModel model(m_client.get());
    model.append(line);
    const QModelIndex textCell = model.index(0, LogModel::Text);
    QCOMPARE(textCell.data().toString(), text);
    // stderr is marked in the stream column and drawn in the colour of failure.
    QCOMPARE(model.index(0, LogModel::Stream).data().toString(),
             stream == QLatin1String("stderr") ? QStringLiteral("err") : QString());
    QCOMPARE(textCell.data(Qt::ForegroundRole).value<QColor>(),
             stream == QLatin1String("stderr") ? dash::stateColor(QStringLiteral("crashed")) : QColor());
}

void TestLogPanel::staysWithinItsBound() {
    LogModel model(m_client.get(), 10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 25; ++i)
        model.append({{}, {}, QString::number(i)});
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.line(0).text, QStringLiteral("15")); // the oldest went
    QCOMPARE(model.line(9).text, QStringLiteral("24"));
}

void TestLogPanel::showsTheTailThenFollows_data() {
    QTest::addColumn<bool>("follow");
    QTest::newRow("following") << true;
    QTest::newRow("not following") << false;
}

void TestLogPanel::showsTheTailThenFollows() {
    QFETCH(bool, follow);
    LogModel model(m_client.get());
    LogPanel panel(&model);
    panel.resize(800, 180); // fewer rows than the output: following has to scroll
    panel.show();
    model.setProject(QStringLiteral("talker"));
    // The backend printed "testbackend http pid N" and "listening on ..." at start.
    QTRY_VERIFY_WITH_TIMEOUT(model.text().contains(QStringLiteral("listening on")), 10000);
    const int before = int(model.text().count(QStringLiteral("listening on")));
    panel.setFollowing(follow);
    QCOMPARE(model.isFollowing(), follow);

    // A restart makes the backend print its start lines again: project.log events.
    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.restart"),
                               {{QStringLiteral("name"), QStringLiteral("talker")}})));
    if (follow) {
        QTRY_VERIFY_WITH_TIMEOUT(model.text().count(QStringLiteral("listening on")) > before, 10000);
        // The newest line is in view.
        const auto newestInView = [&] {
            const QRect last = panel.table()->visualRect(
                panel.table()->model()->index(panel.visibleLines() - 1, LogModel::Text));
            return panel.table()->viewport()->rect().contains(last);
        };
        QTRY_VERIFY_WITH_TIMEOUT(newestInView(), 5000);
        return;
    }
    // Wait until the daemon has the new lines (its tail shows them), then check the panel
    // did not take them.
    const auto daemonTail = [this] {
        const QJsonObject r = m_daemon.call(QStringLiteral("projects.logs"),
                                            {{QStringLiteral("name"), QStringLiteral("talker")}});
        QStringList lines;
        for (const QJsonValue &v :
             r.value(QStringLiteral("result")).toObject().value(QStringLiteral("lines")).toArray())
            lines << LogModel::lineFromJson(v).text;
        return lines.join(QLatin1Char('\n'));
    };
    QTRY_VERIFY_WITH_TIMEOUT(daemonTail().count(QStringLiteral("listening on")) > before, 10000);
    // An event for those lines went out on the panel's connection before anything the
    // daemon answers there now: after this round trip it has been read, if it was sent.
    bool answered = false;
    m_client->call(QStringLiteral("daemon.info"), {},
                   [&answered](const jsonrpc::Message &) { answered = true; });
    QTRY_VERIFY_WITH_TIMEOUT(answered, 5000);
    QCOMPARE(int(model.text().count(QStringLiteral("listening on"))), before);
    model.reload();
    QTRY_VERIFY_WITH_TIMEOUT(model.text().count(QStringLiteral("listening on")) > before, 10000);
}

void TestLogPanel::searchNarrowsTheLines() {
    LogModel model(m_client.get());
    LogPanel panel(&model);
    panel.show();
    model.setProject(QStringLiteral("talker"));
    QTRY_VERIFY_WITH_TIMEOUT(model.text().contains(QStringLiteral("listening on")), 10000);
    const int all = panel.visibleLines();
    QVERIFY(all >= 2);
    QTest::keyClicks(panel.searchField(), QStringLiteral("LISTENING"));
    QVERIFY(panel.visibleLines() >= 1);
    QVERIFY(panel.visibleLines() < all);
    for (int r = 0; r < panel.visibleLines(); ++r)
        QVERIFY(panel.table()
                    ->model()
                    ->index(r, LogModel::Text)
                    .data()
                    .toString()
                    .contains(QStringLiteral("listening")));
    QVERIFY2(panel.statusText().contains(QStringLiteral("of %1 line(s)").arg(model.rowCount())),
             qPrintable(panel.statusText()));
    panel.setSearch({});
    QCOMPARE(panel.visibleLines(), model.rowCount());
}

void TestLogPanel::marksStderrWithTime() {
    LogModel model(m_client.get());
    LogPanel panel(&model);
    panel.show();
    model.setProject(QStringLiteral("talker"));
    QTRY_VERIFY_WITH_TIMEOUT(model.text().contains(QStringLiteral("testbackend http pid")), 10000);
    int row = -1;
    for (int r = 0; r < model.rowCount() && row < 0; ++r)
        if (model.line(r).text.contains(QStringLiteral("testbackend http pid")))
            row = r;
    const LogModel::Line banner = model.line(row);
    // The backend prints its banner on stderr and "listening on" on stdout.
    QCOMPARE(banner.stream, QStringLiteral("stderr"));
    QVERIFY(banner.time.isValid());
    QVERIFY(!model.index(row, LogModel::Time).data().toString().isEmpty());
    QCOMPARE(model.index(row, LogModel::Stream).data().toString(), QStringLiteral("err"));
    QVERIFY(!panel.table()->isColumnHidden(LogModel::Time));
    QVERIFY(!panel.table()->isColumnHidden(LogModel::Stream));
}

QTEST_MAIN(TestLogPanel)
#include "tst_logpanel.moc"

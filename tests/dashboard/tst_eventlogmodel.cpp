// EventLogModel: bounded, newest first, one readable line per event, noisy kinds left out.

#include "adminclient.h"
#include "models/eventlogmodel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QTest>

using namespace portico;

class TestEventLogModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void describes_data();
    void describes();
    void isBoundedNewestFirst();
    void leavesOutTicksLogLinesAndRouteTables();
};

void TestEventLogModel::describes_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QJsonObject>("data");
    QTest::addColumn<QString>("expected");
    QTest::newRow("state with reason")
        << QStringLiteral("project.state")
        << QJsonObject{{QStringLiteral("project"), QStringLiteral("api")},
                       {QStringLiteral("state"), QStringLiteral("backoff")},
                       {QStringLiteral("reason"), QStringLiteral("exited with code 3")}}
        << QStringLiteral("api is backoff: exited with code 3");
    QTest::newRow("deployed") << QStringLiteral("project.deployed")
                              << QJsonObject{{QStringLiteral("project"), QStringLiteral("site")}}
                              << QStringLiteral("site deployed");
    QTest::newRow("refused with conflicts")
        << QStringLiteral("deploy.refused")
        << QJsonObject{{QStringLiteral("project"), QStringLiteral("b")},
                       {QStringLiteral("conflicts"),
                        QJsonArray{
                            QJsonObject{{QStringLiteral("message"),
                                         QStringLiteral("port 3000/tcp is already bound by project 'a'")}}}}}
        << QStringLiteral("deploy of b refused: port 3000/tcp is already bound by project 'a'");
    QTest::newRow("refused with errors")
        << QStringLiteral("deploy.refused")
        << QJsonObject{{QStringLiteral("project"), QStringLiteral("b")},
                       {QStringLiteral("errors"),
                        QJsonArray{
                            QJsonObject{{QStringLiteral("path"), QStringLiteral("listen.port")},
                                        {QStringLiteral("message"), QStringLiteral("70000 is not a port")}}}}}
        << QStringLiteral("deploy of b refused: listen.port: 70000 is not a port");
    QTest::newRow("port conflict at start")
        << QStringLiteral("route.conflict")
        << QJsonObject{{QStringLiteral("project"), QStringLiteral("a")},
                       {QStringLiteral("port"), 3000},
                       {QStringLiteral("transport"), QStringLiteral("tcp")},
                       {QStringLiteral("reason"), QStringLiteral("in use")}}
        << QStringLiteral("a: port 3000/tcp: in use");
}

void TestEventLogModel::describes() {
    QFETCH(QString, kind);
    QFETCH(QJsonObject, data);
    QFETCH(QString, expected);
    QCOMPARE(EventLogModel::describe(kind, data), expected);
}

void TestEventLogModel::isBoundedNewestFirst() {
    AdminClient client; // never connected: events are fed by hand
    EventLogModel model(&client, 10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 25; ++i)
        model.addEvent(QStringLiteral("project.deployed"),
                       {{QStringLiteral("project"), QStringLiteral("p%1").arg(i)}},
                       QDateTime::currentDateTimeUtc());
    QCOMPARE(model.rowCount(), 10);
    QVERIFY(model.index(0).data().toString().endsWith(QLatin1String("p24 deployed")));
    QVERIFY(model.index(9).data().toString().endsWith(QLatin1String("p15 deployed")));
}

void TestEventLogModel::leavesOutTicksLogLinesAndRouteTables() {
    AdminClient client;
    EventLogModel model(&client, 10);
    model.addEvent(QStringLiteral("stats.tick"), {}, {});
    model.addEvent(QStringLiteral("project.log"), {{QStringLiteral("line"), QStringLiteral("x")}}, {});
    model.addEvent(QStringLiteral("routes.changed"), {{QStringLiteral("routes"), QJsonArray{}}}, {});
    QCOMPARE(model.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestEventLogModel)
#include "tst_eventlogmodel.moc"

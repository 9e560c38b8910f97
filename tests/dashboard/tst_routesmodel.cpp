// RoutesModel against a real porticod: the rows of routes.list, then kept live by
// routes.changed and stats.tick, in place.

#include "dashboardtest.h"
#include "models/routesmodel.h"
#include "threadedbackend.h"

#include <QAbstractItemModelTester>
#include <QTcpSocket>

using namespace portico;
using namespace portico::test;

class TestRoutesModel final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showsIngressAndDeployedRows();
    void followsDeployAndUndeploy();
    void countersFollowTraffic_data();
    void countersFollowTraffic();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<ThreadedBackend> m_echo;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<RoutesModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
    quint16 m_tcpPort = 0;
};

void TestRoutesModel::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    m_echo = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Echo, "echo");
    m_daemon.config.insert(QStringLiteral("drain_timeout_ms"), 300);
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    // Deployed before the dashboard connects: they must come with routes.list.
    const QJsonObject first = m_daemon.deploy(upstreamManifest(QStringLiteral("web"), m_http->port()));
    QVERIFY2(isOk(first), QJsonDocument(first).toJson().constData());
    m_tcpPort = freePort();
    QVERIFY(isOk(m_daemon.deploy(
        upstreamManifest(QStringLiteral("raw"), m_echo->port(), m_tcpPort, QStringLiteral("tcp")))));

    m_client = makeClient(m_daemon);
    m_model = std::make_unique<RoutesModel>(m_client.get());
    m_tester = std::make_unique<QAbstractItemModelTester>(
        m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(m_model.get(), &RoutesModel::loaded);
    m_client->connectToDaemon();
    QVERIFY(loaded.wait(10000));
}

void TestRoutesModel::cleanupTestCase() {
    m_tester.reset();
    m_model.reset();
    m_client.reset();
    m_daemon.stop();
}

void TestRoutesModel::showsIngressAndDeployedRows() {
    QCOMPARE(m_model->rowCount(), 3);
    const int ingress = m_model->findRow({}, m_daemon.ingressPort());
    QVERIFY(ingress >= 0);
    QCOMPARE(m_model->route(ingress).backend, QStringLiteral("path-based routing"));
    QCOMPARE(m_model->index(ingress, RoutesModel::Project).data().toString(), QStringLiteral("(ingress)"));

    const int web = m_model->findRow(QStringLiteral("web"), m_daemon.ingressPort());
    QVERIFY(web >= 0);
    QCOMPARE(m_model->index(web, RoutesModel::Path).data().toString(), QStringLiteral("/web/"));
    QCOMPARE(m_model->index(web, RoutesModel::Protocol).data().toString(), QStringLiteral("http"));
    QCOMPARE(m_model->index(web, RoutesModel::Backend).data().toString(),
             QStringLiteral("127.0.0.1:%1").arg(m_http->port()));

    const int raw = m_model->findRow(QStringLiteral("raw"), m_tcpPort, QStringLiteral("tcp"));
    QVERIFY(raw >= 0);
    QCOMPARE(m_model->index(raw, RoutesModel::State).data().toString(), QStringLiteral("active"));
    QCOMPARE(m_model->index(raw, RoutesModel::Port).data(RoutesModel::SortRole).toInt(), int(m_tcpPort));
    // States are coloured.
    QVERIFY(m_model->index(raw, RoutesModel::State).data(Qt::ForegroundRole).value<QColor>().isValid());
}

void TestRoutesModel::followsDeployAndUndeploy() {
    QSignalSpy resets(m_model.get(), &QAbstractItemModel::modelReset);
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
    // The rows already shown stay where they are while others come and go.
    const QPersistentModelIndex web =
        m_model->index(m_model->findRow(QStringLiteral("web"), m_daemon.ingressPort()), 0);

    const quint16 port = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("late"), m_http->port(), port))));
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("late"), port, QStringLiteral("http")) >= 0,
                             10000);
    const int late = m_model->findRow(QStringLiteral("late"), port);
    QCOMPARE(m_model->route(late).state, QStringLiteral("active"));
    QVERIFY(inserted.count() >= 1);

    QVERIFY(isOk(m_daemon.call(QStringLiteral("projects.undeploy"),
                               {{QStringLiteral("name"), QStringLiteral("late")}})));
    // The port drains (a "draining" row for drain_timeout_ms), then the row goes.
    QTRY_VERIFY_WITH_TIMEOUT(m_model->findRow(QStringLiteral("late"), port) < 0, 10000);
    QVERIFY(removed.count() >= 1);
    QCOMPARE(resets.count(), 0);
    QVERIFY(web.isValid());
    QCOMPARE(web.data(RoutesModel::ProjectRole).toString(), QStringLiteral("web"));
    QCOMPARE(m_model->rowCount(), 3);
}

void TestRoutesModel::countersFollowTraffic_data() {
    QTest::addColumn<QString>("project");
    QTest::addColumn<bool>("dedicatedTcp");
    QTest::newRow("path route on the ingress") << QStringLiteral("web") << false;
    QTest::newRow("dedicated tcp port") << QStringLiteral("raw") << true;
}

void TestRoutesModel::countersFollowTraffic() {
    QFETCH(QString, project);
    QFETCH(bool, dedicatedTcp);
    const quint16 port = dedicatedTcp ? m_tcpPort : m_daemon.ingressPort();
    const int row = m_model->findRow(project, port);
    QVERIFY(row >= 0);
    // The daemon samples rates once a second from a route's first sample on: let it take
    // one (two ticks) so that this traffic shows as a rate.
    int ticks = 0;
    const auto tickCounter =
        connect(m_client.get(), &AdminClient::eventReceived, this,
                [&](const QString &kind) { ticks += kind == QLatin1String("stats.tick"); });
    QTRY_VERIFY_WITH_TIMEOUT(ticks >= 2, 5000);
    disconnect(tickCounter);
    const RouteCounters before = m_model->route(row).counters;
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    // A rate is non-zero for about one tick after the traffic: keep the highest seen.
    double peakRate = 0;
    const auto watch = connect(m_model.get(), &QAbstractItemModel::dataChanged, this, [&] {
        const auto r = m_model->rates(row);
        peakRate = qMax(peakRate, r.bytesInPerSec + r.bytesOutPerSec);
    });

    constexpr int kRounds = 5;
    qint64 sent = 0;
    for (int i = 0; i < kRounds; ++i) {
        if (dedicatedTcp) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, port);
            QVERIFY(s.waitForConnected(5000));
            const QByteArray payload(1000 + i, 'x');
            s.write(payload);
            QByteArray echoed;
            while (echoed.size() < payload.size() && s.waitForReadyRead(5000))
                echoed += s.readAll();
            QCOMPARE(echoed, payload);
            sent += payload.size();
        } else {
            const auto reply = DaemonFixture::httpGet(port, "/web/n" + QByteArray::number(i));
            QCOMPARE(reply.status, 200);
        }
    }
    // stats.tick (1 Hz) brings the new counters into the same row.
    if (dedicatedTcp) {
        QTRY_VERIFY_WITH_TIMEOUT(
            m_model->route(row).counters.connectionsTotal >= before.connectionsTotal + kRounds, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_model->route(row).counters.bytesIn >= before.bytesIn + quint64(sent),
                                 10000);
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(m_model->route(row).counters.requests >= before.requests + kRounds, 10000);
    }
    QVERIFY(m_model->route(row).counters.bytesOut > before.bytesOut);
    QCOMPARE(m_model->route(row).project, project);
    QVERIFY(!changed.isEmpty());
    // The rate columns are filled from the same ticks.
    QTRY_VERIFY_WITH_TIMEOUT(peakRate > 0, 5000);
    disconnect(watch);
    QVERIFY(m_model->index(row, RoutesModel::BytesOut).data().toString().endsWith(QLatin1String("B")));
}

QTEST_GUILESS_MAIN(TestRoutesModel)
#include "tst_routesmodel.moc"

// TrafficHistory and TrafficChart: bytes/s, requests/s and errors/s per route from
// stats.tick, per project or for all of them with the ingress's own share, never counting
// a request twice; a quarter of an hour and more kept; values on hover. Ticks of the
// test's making first, then a real porticod's.

#include "dashboardtest.h"
#include "models/traffichistory.h"
#include "threadedbackend.h"
#include "widgets/trafficchart.h"

#include <QChart>
#include <QChartView>
#include <QDateTime>

using namespace portico;
using namespace portico::test;

namespace {

using Metric = TrafficHistory::Metric;

struct RouteTick {
    const char *project; // "" for the ingress
    int port;
    const char *path;
    double bytesPerSec;
    double requestsPerSec;
    quint64 errors; // the counter
};

QJsonObject tick(qint64 timeMs, const QList<RouteTick> &routes) {
    QJsonArray rows;
    for (const RouteTick &r : routes) {
        QJsonObject o{
            {QStringLiteral("host_port"), r.port},
            {QStringLiteral("protocol"), QStringLiteral("http")},
            {QStringLiteral("project"), *r.project ? QJsonValue(QLatin1String(r.project)) : QJsonValue()},
            {QStringLiteral("backend"), QStringLiteral("127.0.0.1:1")},
            {QStringLiteral("state"), QStringLiteral("active")},
            {QStringLiteral("counters"), QJsonObject{{QStringLiteral("errors"), double(r.errors)}}},
            {QStringLiteral("rates"), QJsonObject{{QStringLiteral("bytes_in_per_s"), r.bytesPerSec / 2},
                                                  {QStringLiteral("bytes_out_per_s"), r.bytesPerSec / 2},
                                                  {QStringLiteral("requests_per_s"), r.requestsPerSec}}}};
        if (*r.path)
            o.insert(QStringLiteral("path"), QLatin1String(r.path));
        rows.append(o);
    }
    return {
        {QStringLiteral("time"), QDateTime::fromMSecsSinceEpoch(timeMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("routes"), rows}};
}

const TrafficHistory::Line *find(const QList<TrafficHistory::Line> &lines, const QString &label) {
    for (const auto &l : lines)
        if (l.label == label)
            return &l;
    return nullptr;
}

constexpr qint64 kT0 = 1'700'000'000'000;

} // namespace

class TestTrafficHistory final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void ingressIsNotCountedTwice_data();
    void ingressIsNotCountedTwice();
    void errorsPerSecondFromTheCounter();
    void oneProjectShowsItsRoutes();
    void keepsAQuarterOfAnHourAndMore();
    void chartShowsValuesOnHover();
    void realDaemonTrafficIsCountedOnce();

private:
    AdminClient m_offline; // ticks are fed by hand in the first tests
};

void TestTrafficHistory::ingressIsNotCountedTwice_data() {
    QTest::addColumn<QList<RouteTick>>("routes");
    QTest::addColumn<double>("site");
    QTest::addColumn<double>("api");
    QTest::addColumn<double>("ingressOwn");
    QTest::addColumn<double>("total");
    // The ingress row counts every request on :8080, /site/'s among them.
    QTest::newRow("all ingress traffic is /site/'s")
        << QList<RouteTick>{{"", 8080, "/", 1000, 10, 0}, {"site", 8080, "/site/", 1000, 10, 0}} << 10.0
        << -1.0 << 0.0 << 10.0;
    QTest::newRow("some ingress traffic is for nobody (404s)")
        << QList<RouteTick>{{"", 8080, "/", 1000, 12, 0}, {"site", 8080, "/site/", 800, 10, 0}} << 10.0
        << -1.0 << 2.0 << 12.0;
    QTest::newRow("a project on its own port adds to the total")
        << QList<RouteTick>{{"", 8080, "/", 500, 5, 0},
                            {"site", 8080, "/site/", 500, 5, 0},
                            {"api", 3000, "", 300, 7, 0}}
        << 5.0 << 7.0 << 0.0 << 12.0;
    QTest::newRow("a project both behind the ingress and on its own port")
        << QList<RouteTick>{{"", 8080, "/", 500, 5, 0},
                            {"api", 8080, "/api/", 500, 5, 0},
                            {"api", 3000, "", 300, 7, 0}}
        << -1.0 << 12.0 << 0.0 << 12.0;
}

void TestTrafficHistory::ingressIsNotCountedTwice() {
    QFETCH(QList<RouteTick>, routes);
    QFETCH(double, site);
    QFETCH(double, api);
    QFETCH(double, ingressOwn);
    QFETCH(double, total);
    TrafficHistory history(&m_offline);
    history.addTick(tick(kT0, routes));
    const auto lines = history.lines(Metric::Requests);
    const auto value = [&](const QString &label) {
        const auto *l = find(lines, label);
        return l && !l->points.isEmpty() ? l->points.last().y() : -1.0;
    };
    QCOMPARE(value(QStringLiteral("site")), site);
    QCOMPARE(value(QStringLiteral("api")), api);
    QCOMPARE(value(TrafficHistory::ingressLabel(8080)), ingressOwn);
    QCOMPARE(value(TrafficHistory::totalLabel()), total);
    QVERIFY(find(lines, TrafficHistory::totalLabel())->isTotal);
}

void TestTrafficHistory::errorsPerSecondFromTheCounter() {
    TrafficHistory history(&m_offline);
    history.addTick(tick(kT0, {{"api", 3000, "", 0, 0, 100}}));
    history.addTick(tick(kT0 + 1000, {{"api", 3000, "", 0, 0, 104}}));
    history.addTick(tick(kT0 + 3000, {{"api", 3000, "", 0, 0, 110}}));
    // A restarted daemon counts from zero again: no negative rate.
    history.addTick(tick(kT0 + 4000, {{"api", 3000, "", 0, 0, 1}}));
    const auto *api = find(history.lines(Metric::Errors), QStringLiteral("api"));
    QVERIFY(api);
    QList<double> values;
    for (const QPointF &p : api->points)
        values << p.y();
    QCOMPARE(values, (QList<double>{0, 4, 3, 0}));
}

void TestTrafficHistory::oneProjectShowsItsRoutes() {
    TrafficHistory history(&m_offline);
    history.addTick(tick(kT0, {{"", 8080, "/", 100, 1, 0},
                               {"api", 8080, "/api/", 100, 1, 0},
                               {"api", 3000, "", 2048, 3, 0},
                               {"other", 4000, "", 1, 1, 0}}));
    QCOMPARE(history.projects(), (QStringList{QStringLiteral("api"), QStringLiteral("other")}));
    const auto lines = history.lines(Metric::Bytes, QStringLiteral("api"));
    QCOMPARE(lines.size(), 2);
    QVERIFY(find(lines, QStringLiteral("/api/ on :8080")));
    QCOMPARE(find(lines, QStringLiteral("3000/http"))->points.last().y(), 2048.0);
    QVERIFY(!find(lines, TrafficHistory::totalLabel()));
}

void TestTrafficHistory::keepsAQuarterOfAnHourAndMore() {
    TrafficHistory history(&m_offline);
    QVERIFY(history.maxSamples() >= 15 * 60);
    const int ticks = history.maxSamples() + 100;
    for (int i = 0; i < ticks; ++i)
        history.addTick(tick(kT0 + i * 1000, {{"api", 3000, "", double(i), 1, 0}}));
    const auto *api = find(history.lines(Metric::Bytes), QStringLiteral("api"));
    QCOMPARE(api->points.size(), history.maxSamples());
    QCOMPARE(api->points.last().y(), double(ticks - 1));
    QVERIFY(history.lastTimeMs() - history.firstTimeMs() >= 15 * 60 * 1000);
}

void TestTrafficHistory::chartShowsValuesOnHover() {
    TrafficHistory history(&m_offline);
    for (int i = 0; i < 30; ++i)
        history.addTick(tick(kT0 + i * 1000, {{"", 8080, "/", 0, 0, 0},
                                              {"site", 8080, "/site/", 0, 0, 0},
                                              {"api", 3000, "", 1024.0 * i, i < 15 ? 2.0 : 6.0, 0}}));
    TrafficChart chart(&history);
    chart.resize(900, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    // Only what carried something, and the total.
    QCOMPARE(chart.seriesNames(), (QStringList{QStringLiteral("api"), TrafficHistory::totalLabel()}));
    QCOMPARE(chart.valuesAt(kT0 + 10'000),
             QDateTime::fromMSecsSinceEpoch(kT0 + 10'000).toString(QStringLiteral("HH:mm:ss")) +
                 QStringLiteral("\napi: 10 KiB/s\ntotal: 10 KiB/s"));
    chart.setMetric(Metric::Requests);
    QVERIFY(chart.valuesAt(kT0 + 20'000).contains(QStringLiteral("api: 6.0/s")));
    chart.setScope(QStringLiteral("api"));
    QCOMPARE(chart.seriesNames(), QStringList{QStringLiteral("3000/http")});

    // The pointer over the plot shows the values at that moment.
    chart.setScope({});
    const QRectF plot = chart.view()->chart()->plotArea();
    const QPoint at = chart.view()->mapFromScene(QPointF(plot.right() - 2, plot.center().y()));
    QTest::mouseMove(chart.view()->viewport(), at);
    QTRY_VERIFY(chart.hoverText().contains(QStringLiteral("api: 6.0/s")));
    QVERIFY(chart.hoverText().contains(QStringLiteral("total: 6.0/s")));
}

void TestTrafficHistory::realDaemonTrafficIsCountedOnce() {
    ThreadedBackend http(ThreadedBackend::Mode::Http, "up");
    DaemonFixture daemon;
    QString why;
    QVERIFY2(daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(daemon.deploy(upstreamManifest(QStringLiteral("site"), http.port()))));
    auto client = makeClient(daemon);
    TrafficHistory history(client.get());
    client->connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(history.projects().contains(QStringLiteral("site")), 10000);
    // Every request goes to /site/ through the ingress: the ingress's own share stays 0
    // and the total is /site/'s, not twice it.
    for (int i = 0; i < 20; ++i)
        QCOMPARE(DaemonFixture::httpGet(daemon.ingressPort(), "/site/x").status, 200);
    const auto sum = [&](const QString &label) {
        const auto lines = history.lines(Metric::Requests);
        const auto *l = find(lines, label);
        double s = 0;
        for (const QPointF &p : l ? l->points : QList<QPointF>{})
            s += p.y();
        return s;
    };
    // The rates of all 20 are in (each a count over the daemon's own second, so the sum is
    // near 20, not exact).
    QTRY_VERIFY_WITH_TIMEOUT(sum(QStringLiteral("site")) >= 15, 15000);
    const double site = sum(QStringLiteral("site"));
    const double own = sum(TrafficHistory::ingressLabel(daemon.ingressPort()));
    const double total = sum(TrafficHistory::totalLabel());
    // The ingress counts a request a moment before the project does, so a tick may catch
    // one in between; counted twice, its share would be as large as /site/'s.
    QVERIFY2(own <= 2.0, qPrintable(QStringLiteral("ingress's own %1, site %2").arg(own).arg(site)));
    QVERIFY(qAbs(total - (site + own)) < 1e-6);
    client.reset();
    daemon.stop();
}

QTEST_MAIN(TestTrafficHistory)
#include "tst_traffichistory.moc"

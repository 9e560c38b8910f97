// The Prometheus endpoint (metrics_listen) of a real porticod: what /metrics counts for a
// route after real traffic through the ingress (requests, bytes, an error by kind), the
// deploy counters, the data-plane figures, /healthz, what it refuses (other paths, other
// methods, oversized heads), that it is off unless configured, that a bad address is a
// clear error, and that `promtool check metrics` accepts the page.
#include "daemonfixture.h"
#include "skips.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace portico::test;

namespace {

QJsonObject result(const QJsonObject &response) {
    return response.value(QStringLiteral("result")).toObject();
}

QByteArray pathRouted(const QString &name) {
    return QJsonDocument(QJsonObject{{QStringLiteral("name"), name},
                                     {QStringLiteral("runtime"), QStringLiteral("process")},
                                     {QStringLiteral("command"),
                                      QJsonArray{QStringLiteral(TESTBACKEND_PATH), QStringLiteral("http")}}})
        .toJson(QJsonDocument::Compact);
}

// The samples of a page by series ("name{labels}" as printed); -1 when absent.
QHash<QByteArray, double> samples(const QByteArray &page) {
    QHash<QByteArray, double> out;
    for (const QByteArray &line : page.split('\n')) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        out.insert(line.left(space), line.mid(space + 1).toDouble());
    }
    return out;
}

double value(const QByteArray &page, const QByteArray &series) {
    return samples(page).value(series, -1);
}

} // namespace

class TestMetricsE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void addressInDaemonInfo();
    void countsRequestsAndBytesOfARoute();
    void countsA502AsABackendError();
    void countsDeploysByOutcome();
    void dataPlaneAndBuildInfo();
    void promtoolAcceptsThePage();
    void healthz();
    void refuses_data();
    void refuses();
    void oversizedHeadIsRefused();
    void idleConnectionDoesNotHoldTheEndpoint();
    void offByDefault();
    void badAddressIsAClearError_data();
    void badAddressIsAClearError();
    void busyPortStopsTheStart();

private:
    QByteArray scrape(const QByteArray &path = "/metrics", int *status = nullptr) const {
        const auto r = DaemonFixture::httpGet(m_metricsPort, path);
        if (status)
            *status = r.status;
        return r.body;
    }
    QJsonObject routeCounters(const QString &project) const {
        const QJsonArray rows =
            result(m_daemon.call(QStringLiteral("stats.get"))).value(QStringLiteral("routes")).toArray();
        for (const auto &v : rows) {
            const QJsonObject r = v.toObject();
            if (r.value(QStringLiteral("project")).toString() == project &&
                r.value(QStringLiteral("host_port")).toInt() == m_daemon.ingressPort())
                return r.value(QStringLiteral("counters")).toObject();
        }
        return {};
    }
    QByteArray series(const QByteArray &name, const QString &project, const QByteArray &extra = {}) const {
        return name + "{port=\"" + QByteArray::number(m_daemon.ingressPort()) +
               "\",protocol=\"http\",project=\"" + project.toUtf8() + '"' + extra + '}';
    }

    DaemonFixture m_daemon;
    quint16 m_metricsPort = 0;
};

void TestMetricsE2e::initTestCase() {
    m_daemon.config.insert(QStringLiteral("metrics_listen"), QStringLiteral("127.0.0.1:0"));
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    const QString address = result(m_daemon.call(QStringLiteral("daemon.info")))
                                .value(QStringLiteral("metrics_address"))
                                .toString();
    QVERIFY2(address.startsWith(QStringLiteral("127.0.0.1:")), qPrintable(address));
    m_metricsPort = quint16(address.section(QLatin1Char(':'), 1).toUInt());
    QVERIFY(m_metricsPort != 0);
}

void TestMetricsE2e::cleanupTestCase() {
    m_daemon.stop();
}

void TestMetricsE2e::addressInDaemonInfo() {
    // The log names it too, for whoever reads the journal.
    QVERIFY(m_daemon.output().contains("metrics on http://127.0.0.1:" + QByteArray::number(m_metricsPort) +
                                       "/metrics"));
}

void TestMetricsE2e::countsRequestsAndBytesOfARoute() {
    QVERIFY(result(m_daemon.deploy(pathRouted(QStringLiteral("m1")))).contains(QStringLiteral("name")));
    const int n = 5;
    for (int i = 0; i < n; ++i) {
        const auto r = DaemonFixture::httpGet(m_daemon.ingressPort(), "/m1/bytes/1000");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body.size(), 1000);
    }
    const QByteArray requests = series("portico_route_requests_total", QStringLiteral("m1"));
    QTRY_COMPARE(value(scrape(), requests), double(n));
    const QByteArray page = scrape();
    // At least the bodies went out, and the requests' heads came in.
    const double sent = value(page, series("portico_route_sent_bytes_total", QStringLiteral("m1")));
    const double received = value(page, series("portico_route_received_bytes_total", QStringLiteral("m1")));
    QVERIFY2(sent >= n * 1000, qPrintable(QString::number(sent)));
    QVERIFY2(received >= n * qstrlen("GET /m1/bytes/1000 HTTP/1.1\r\n"),
             qPrintable(QString::number(received)));
    QCOMPARE(value(page, series("portico_route_connections_total", QStringLiteral("m1"))), double(n));
    QCOMPARE(value(page, series("portico_route_state", QStringLiteral("m1"), ",state=\"active\"")), 1.0);
    QCOMPARE(value(page, series("portico_route_state", QStringLiteral("m1"), ",state=\"crashed\"")), 0.0);
    QCOMPARE(value(page, "portico_project_state{project=\"m1\",state=\"active\"}"), 1.0);
    QCOMPARE(value(page, "portico_project_up{project=\"m1\"}"), 1.0);
    QCOMPARE(value(page, "portico_project_restarts_total{project=\"m1\"}"), 0.0);
    // The same numbers stats.get tells (nothing moves now).
    const QJsonObject c = routeCounters(QStringLiteral("m1"));
    QCOMPARE(sent, c.value(QStringLiteral("bytes_out")).toDouble());
    QCOMPARE(received, c.value(QStringLiteral("bytes_in")).toDouble());
    QCOMPARE(value(page, series("portico_route_errors_total", QStringLiteral("m1"), ",kind=\"backend\"")),
             0.0);
}

void TestMetricsE2e::countsA502AsABackendError() {
    // An upstream nobody listens on: the ingress answers 502.
    const QByteArray manifest =
        QStringLiteral(R"({"name":"dead","runtime":"upstream","upstream":"127.0.0.1:%1"})")
            .arg(freePort())
            .toUtf8();
    QVERIFY(result(m_daemon.deploy(manifest)).contains(QStringLiteral("name")));
    QCOMPARE(DaemonFixture::httpGet(m_daemon.ingressPort(), "/dead/x").status, 502);
    QTRY_COMPARE(
        value(scrape(), series("portico_route_errors_total", QStringLiteral("dead"), ",kind=\"backend\"")),
        1.0);
    const QByteArray page = scrape();
    QCOMPARE(value(page, series("portico_route_errors_total", QStringLiteral("dead"), ",kind=\"client\"")),
             0.0);
    QCOMPARE(
        value(page, series("portico_route_errors_total", QStringLiteral("dead"), ",kind=\"unavailable\"")),
        0.0);
}

void TestMetricsE2e::countsDeploysByOutcome() {
    const double deployedBefore = value(scrape(), "portico_deploys_total{outcome=\"deployed\"}");
    QVERIFY(deployedBefore >= 1);
    QVERIFY(result(m_daemon.deploy(pathRouted(QStringLiteral("m2")))).contains(QStringLiteral("name")));
    const QJsonObject refused = m_daemon.deploy(R"({"name":"Bad Name!","runtime":"process"})");
    QVERIFY(refused.contains(QStringLiteral("error")));
    QVERIFY(result(m_daemon.call(QStringLiteral("projects.undeploy"),
                                 {{QStringLiteral("name"), QStringLiteral("m2")}}))
                .value(QStringLiteral("undeployed"))
                .toBool());
    QTRY_COMPARE(value(scrape(), "portico_undeploys_total"), 1.0);
    const QByteArray page = scrape();
    QCOMPARE(value(page, "portico_deploys_total{outcome=\"deployed\"}"), deployedBefore + 1);
    QCOMPARE(value(page, "portico_deploys_total{outcome=\"invalid\"}"), 1.0);
    QCOMPARE(value(page, "portico_deploys_total{outcome=\"conflict\"}"), 0.0);
    // An undeployed project's rows are gone.
    QCOMPARE(value(page, "portico_project_up{project=\"m2\"}"), -1.0);
}

void TestMetricsE2e::dataPlaneAndBuildInfo() {
    const QByteArray page = scrape();
    QCOMPARE(value(page, "portico_build_info{version=\"" PORTICO_VERSION "\",protocol_version=\"2\"}"), 1.0);
    const QJsonObject dp =
        result(m_daemon.call(QStringLiteral("stats.get"))).value(QStringLiteral("data_plane")).toObject();
    QCOMPARE(value(page, "portico_data_plane_workers"), 2.0); // the fixture's config
    QCOMPARE(value(page, "portico_data_plane_descriptor_budget"),
             dp.value(QStringLiteral("descriptor_budget")).toDouble());
    QVERIFY(value(page, "portico_data_plane_buffers_cached") >= 0);
    QVERIFY(value(page, "portico_data_plane_descriptors_in_use") > 0);
    // The start: within the last day, and the same on every page.
    const double start = value(page, "portico_process_start_time_seconds");
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    QVERIFY2(start > now - 86400 && start <= now, qPrintable(QString::number(start, 'f')));
    QCOMPARE(value(scrape(), "portico_process_start_time_seconds"), start);
    QCOMPARE(value(page, "portico_projects"), double(result(m_daemon.call(QStringLiteral("projects.list")))
                                                         .value(QStringLiteral("projects"))
                                                         .toArray()
                                                         .size()));
}

void TestMetricsE2e::promtoolAcceptsThePage() {
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    PORTICO_REQUIRE(!promtool.isEmpty(),
                    "promtool (Debian's prometheus package; installer/deps.sh installs it)");
    const QByteArray page = scrape();
    // The page carries every kind of row: routes with traffic and errors, projects, counters.
    QVERIFY(page.contains("portico_route_errors_total{"));
    QVERIFY(page.contains("portico_project_state{"));
    QProcess p;
    p.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY(p.waitForStarted(10000));
    p.write(page);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    const QByteArray said = p.readAllStandardOutput() + p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, said.constData());
    // Each family has its HELP and TYPE once.
    const QRegularExpression type(QStringLiteral("^# TYPE (\\S+) "), QRegularExpression::MultilineOption);
    QSet<QString> families;
    for (auto it = type.globalMatch(QString::fromUtf8(page)); it.hasNext();) {
        const QString name = it.next().captured(1);
        QVERIFY2(!families.contains(name), qPrintable(name));
        families.insert(name);
    }
    QVERIFY(families.contains(QStringLiteral("portico_route_requests_total")));
}

void TestMetricsE2e::healthz() {
    const auto r = DaemonFixture::httpGet(m_metricsPort, "/healthz");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("ok\n"));
    const auto m = DaemonFixture::httpGet(m_metricsPort, "/metrics");
    QCOMPARE(m.status, 200);
    QVERIFY(m.headers.toLower().contains("content-type: text/plain; version=0.0.4"));
}

void TestMetricsE2e::refuses_data() {
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("hasBody");
    QTest::newRow("other path") << QByteArray("GET /metrics/x HTTP/1.1\r\nHost: x\r\n\r\n") << 404 << true;
    QTest::newRow("root") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << 404 << true;
    QTest::newRow("ingress API path") << QByteArray("GET /_api/routes HTTP/1.1\r\n\r\n") << 404 << true;
    QTest::newRow("POST") << QByteArray("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n") << 405 << true;
    QTest::newRow("DELETE") << QByteArray("DELETE /healthz HTTP/1.1\r\n\r\n") << 405 << true;
    QTest::newRow("not HTTP") << QByteArray("hello there\r\n\r\n") << 400 << true;
    QTest::newRow("absolute form") << QByteArray("GET http://x/metrics HTTP/1.1\r\n\r\n") << 400 << true;
    QTest::newRow("HEAD") << QByteArray("HEAD /metrics HTTP/1.1\r\n\r\n") << 200 << false;
    QTest::newRow("query ignored") << QByteArray("GET /healthz?x=1 HTTP/1.0\r\n\r\n") << 200 << true;
}

void TestMetricsE2e::refuses() {
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(bool, hasBody);
    const auto r = DaemonFixture::httpRequest(m_metricsPort, request);
    QCOMPARE(r.status, status);
    QCOMPARE(!r.body.isEmpty(), hasBody);
    if (status == 405)
        QVERIFY(r.headers.contains("Allow: GET, HEAD"));
}

void TestMetricsE2e::oversizedHeadIsRefused() {
    const QByteArray request =
        "GET /metrics HTTP/1.1\r\nX-Filler: " + QByteArray(16 * 1024, 'a') + "\r\n\r\n";
    QCOMPARE(DaemonFixture::httpRequest(m_metricsPort, request).status, 431);
}

void TestMetricsE2e::idleConnectionDoesNotHoldTheEndpoint() {
    // Clients that connect and say nothing (or half a line) do not keep others waiting.
    std::vector<std::unique_ptr<QTcpSocket>> idle;
    for (int i = 0; i < 4; ++i) {
        auto s = std::make_unique<QTcpSocket>();
        s->connectToHost(QHostAddress::LocalHost, m_metricsPort);
        QVERIFY(s->waitForConnected(5000));
        s->write("GET /metr");
        QVERIFY(s->waitForBytesWritten(5000));
        idle.push_back(std::move(s));
    }
    QCOMPARE(DaemonFixture::httpGet(m_metricsPort, "/healthz").status, 200);
}

void TestMetricsE2e::offByDefault() {
    DaemonFixture plain;
    QString why;
    QVERIFY2(plain.start(&why), qPrintable(why));
    const QJsonObject info = result(plain.call(QStringLiteral("daemon.info")));
    QVERIFY(info.contains(QStringLiteral("metrics_address")));
    QVERIFY(info.value(QStringLiteral("metrics_address")).isNull());
    QVERIFY(!plain.output().contains("metrics on"));
    // Nothing but the ingress listens: the only TCP sockets of the daemon in LISTEN state
    // are the ingress's (one per worker with SO_REUSEPORT, or one).
    const ProgramRun ss = runProgram(QStringLiteral("ss"), {QStringLiteral("-Htlnp")});
    if (ss.code == 0) {
        const QString pidTag = QStringLiteral("pid=%1,").arg(plain.pid());
        for (const QString &line : ss.out.split(QLatin1Char('\n'))) {
            if (line.contains(pidTag))
                QVERIFY2(line.contains(QStringLiteral(":%1 ").arg(plain.ingressPort())), qPrintable(line));
        }
    }
}

void TestMetricsE2e::badAddressIsAClearError_data() {
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("message");
    QTest::newRow("no port") << QStringLiteral("127.0.0.1") << QStringLiteral("is not HOST:PORT");
    QTest::newRow("name") << QStringLiteral("localhost:9464") << QStringLiteral("is not an IP address");
    QTest::newRow("port too big") << QStringLiteral("127.0.0.1:70000") << QStringLiteral("is not a port");
    QTest::newRow("port not a number") << QStringLiteral("127.0.0.1:http") << QStringLiteral("is not a port");
    QTest::newRow("IPv6 without brackets")
        << QStringLiteral("::1:9464") << QStringLiteral("goes in brackets");
}

void TestMetricsE2e::badAddressIsAClearError() {
    QFETCH(QString, address);
    QFETCH(QString, message);
    // The command line and the config file give the same sentence.
    const ProgramRun cli =
        runProgram(QStringLiteral(PORTICOD_PATH),
                   {QStringLiteral("--metrics-listen"), address, QStringLiteral("--print-config")});
    QCOMPARE(cli.code, 1);
    QVERIFY2(cli.err.contains(QStringLiteral("metrics_listen: '%1'").arg(address)) &&
                 cli.err.contains(message),
             qPrintable(cli.err));
    QTemporaryDir dir;
    const QString cfg =
        writeFile(dir.path(), QStringLiteral("c.json"),
                  QJsonDocument(QJsonObject{{QStringLiteral("metrics_listen"), address}}).toJson());
    const ProgramRun file = runProgram(QStringLiteral(PORTICOD_PATH),
                                       {QStringLiteral("--config"), cfg, QStringLiteral("--print-config")});
    QCOMPARE(file.code, 1);
    QVERIFY2(file.err.contains(QStringLiteral("metrics_listen: '%1'").arg(address)) &&
                 file.err.contains(message),
             qPrintable(file.err));
}

void TestMetricsE2e::busyPortStopsTheStart() {
    QTcpServer holder;
    QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
    DaemonFixture d;
    // The command line wins over the config file.
    d.config.insert(QStringLiteral("metrics_listen"), QStringLiteral("127.0.0.1:0"));
    d.extraArgs = {QStringLiteral("--metrics-listen"),
                   QStringLiteral("127.0.0.1:%1").arg(holder.serverPort())};
    QVERIFY(!d.start());
    QTRY_VERIFY(!d.isRunning());
    QVERIFY2(d.output().contains("cannot listen on 127.0.0.1:" + QByteArray::number(holder.serverPort()) +
                                 " for metrics"),
             d.output().constData());
}

QTEST_MAIN(TestMetricsE2e)
#include "tst_metrics_e2e.moc"

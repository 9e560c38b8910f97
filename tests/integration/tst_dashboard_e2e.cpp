// portico-dashboard as a user starts it: a process with --socket and --screenshot, against
// a real porticod (and, to see which socket it talks to, against a listener of the test's
// own). The window's inner workings are tests/dashboard's.
#include "daemonfixture.h"
#include "skips.h"
#include "threadedbackend.h"

#include <QImage>
#include <QJsonDocument>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace portico::test;

namespace {

// Runs the dashboard to its end; its exit code, or -1 when it did not finish in time.
int runDashboard(const QStringList &args, QByteArray *output, int timeoutMs = 60000) {
#ifdef DASHBOARD_PATH
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(DASHBOARD_PATH), args);
    // The event loop keeps turning meanwhile: a QLocalServer of this test may be its peer.
    const bool finished = QTest::qWaitFor([&] { return p.state() == QProcess::NotRunning; }, timeoutMs);
    if (!finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    *output = p.readAll();
    return finished && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
#else
    Q_UNUSED(args);
    Q_UNUSED(output);
    Q_UNUSED(timeoutMs);
    return -1;
#endif
}

// How many different colours an image has (a blank or failed render has one or two).
int colours(const QImage &image) {
    QSet<QRgb> seen;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3)
            seen.insert(image.pixel(x, y));
    return int(seen.size());
}

} // namespace

class TestDashboardE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void talksToTheSocketItIsGiven();
    void screenshotOfARealDaemon();
};

void TestDashboardE2e::initTestCase() {
#ifndef DASHBOARD_PATH
    PORTICO_SKIP_EXPECTED("built without the dashboard (PORTICO_BUILD_DASHBOARD=OFF)");
#endif
}

// --socket: the dashboard connects there, and asks for what it shows.
void TestDashboardE2e::talksToTheSocketItIsGiven() {
    QTemporaryDir dir;
    QLocalServer server;
    QVERIFY(server.listen(dir.filePath(QStringLiteral("fake.sock"))));
    QStringList methods;
    QList<QLocalSocket *> peers;
    connect(&server, &QLocalServer::newConnection, this, [&] {
        while (QLocalSocket *s = server.nextPendingConnection()) {
            peers.append(s);
            connect(s, &QLocalSocket::readyRead, this, [s, &methods] {
                while (s->canReadLine())
                    methods.append(QJsonDocument::fromJson(s->readLine())
                                       .object()
                                       .value(QStringLiteral("method"))
                                       .toString());
            });
        }
    });
    QByteArray output;
    const int code =
        runDashboard({QStringLiteral("--socket"), server.fullServerName(), QStringLiteral("--screenshot"),
                      dir.filePath(QStringLiteral("nodata.png")), QStringLiteral("--screenshot-timeout"),
                      QStringLiteral("3000"), QStringLiteral("--screenshot-settle"), QStringLiteral("0")},
                     &output);
    QVERIFY2(code == 0, output.constData()); // no answers: the screenshot is taken at the timeout
    QVERIFY2(!peers.isEmpty(), "the dashboard never connected to the socket it was given");
    QVERIFY2(methods.contains(QStringLiteral("routes.list")) &&
                 methods.contains(QStringLiteral("events.subscribe")),
             qPrintable(methods.join(u", ")));
    QVERIFY(!QImage(dir.filePath(QStringLiteral("nodata.png"))).isNull());
}

// --screenshot against a real daemon: a PNG of the window with the daemon's data in it,
// which is not the picture of a window that got nothing.
void TestDashboardE2e::screenshotOfARealDaemon() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend http(ThreadedBackend::Mode::Http, "shown");
    QVERIFY(d.deploy(QStringLiteral(R"({"name":"shown","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                         .arg(http.port())
                         .toUtf8())
                .contains(QStringLiteral("result")));
    QTemporaryDir dir;
    const QString withData = dir.filePath(QStringLiteral("data.png"));
    const QString without = dir.filePath(QStringLiteral("nodaemon.png"));
    QByteArray output;
    QCOMPARE(runDashboard({QStringLiteral("--socket"), d.socketPath(), QStringLiteral("--screenshot"),
                           withData, QStringLiteral("--screenshot-settle"), QStringLiteral("0")},
                          &output),
             0);
    QCOMPARE(
        runDashboard({QStringLiteral("--socket"), dir.filePath(QStringLiteral("nobody.sock")),
                      QStringLiteral("--screenshot"), without, QStringLiteral("--screenshot-timeout"),
                      QStringLiteral("1000"), QStringLiteral("--screenshot-settle"), QStringLiteral("0")},
                     &output),
        0);
    const QImage image(withData);
    QVERIFY(!image.isNull());
    QVERIFY2(image.width() >= 400 && image.height() >= 300,
             qPrintable(QStringLiteral("%1x%2").arg(image.width()).arg(image.height())));
    QVERIFY2(colours(image) > 8, "a blank picture");
    const QImage empty(without);
    QCOMPARE(empty.size(), image.size());
    QVERIFY2(empty != image, "the window with the daemon's data looks like one without a daemon");
}

QTEST_GUILESS_MAIN(TestDashboardE2e)
#include "tst_dashboard_e2e.moc"

// The whole window against a real porticod: first data, the daemon going away (the window
// says so and keeps its rows), and coming back (it reconnects, reloads and follows
// events again). Also --screenshot's rendering.

#include "dashboardtest.h"
#include "models/daemonstatus.h"
#include "models/projectsmodel.h"
#include "models/routesmodel.h"
#include "threadedbackend.h"
#include "widgets/connectionstatus.h"
#include "widgets/mainwindow.h"
#include "widgets/screenshot.h"

#include <QImage>
#include <QTemporaryDir>

using namespace portico;
using namespace portico::test;

class TestMainWindow final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void showsFirstData();
    void survivesTheDaemonGoingAwayAndReconnects();
    void screenshotRendersTheWindow();
    void cleanupTestCase();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<ThreadedBackend> m_http;
    std::unique_ptr<AdminClient> m_client;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "up");
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("site"), m_http->port()))));
    // As main.cpp does: the window subscribes; the client reconnects by itself.
    m_client = std::make_unique<AdminClient>();
    m_client->setSocketPath(m_daemon.socketPath());
    m_client->setAutoReconnect(true, 100, 1000);
    m_window = std::make_unique<MainWindow>(m_client.get());
    m_window->show();
    m_client->connectToDaemon();
}

void TestMainWindow::cleanupTestCase() {
    m_window.reset();
    m_client.reset();
    m_daemon.stop();
}

void TestMainWindow::showsFirstData() {
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasData(), 10000);
    QCOMPARE(m_window->routesModel()->rowCount(), 2);
    QCOMPARE(m_window->projectsModel()->rowCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->daemonStatus()->hasInfo(), 5000);
    QCOMPARE(m_window->daemonStatus()->ingressPort(), int(m_daemon.ingressPort()));
    QCOMPARE(m_window->connectionStatus()->connectionText(), QStringLiteral("● connected"));
    QVERIFY(
        m_window->connectionStatus()->infoText().contains(QStringLiteral(":%1").arg(m_daemon.ingressPort())));
    QVERIFY(m_window->connectionStatus()->infoText().startsWith(QStringLiteral("porticod ")));
}

void TestMainWindow::survivesTheDaemonGoingAwayAndReconnects() {
    QTRY_VERIFY_WITH_TIMEOUT(m_window->hasData(), 10000);
    const quint16 oldIngress = m_daemon.ingressPort();
    m_daemon.stop();

    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->connection(), DaemonStatus::Connection::Retrying,
                              10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->connectionStatus()->connectionText(),
                              QStringLiteral("● disconnected — retrying"), 3000);
    QVERIFY(m_window->connectionStatus()->infoText().startsWith(QStringLiteral("last seen: ")));
    // The last rows stay on screen, and the window keeps handling events (it is not
    // blocked on the socket): a few reconnect attempts go by.
    QCOMPARE(m_window->routesModel()->rowCount(), 2);
    QSignalSpy attempts(m_client.get(), &AdminClient::connectError);
    QTRY_VERIFY_WITH_TIMEOUT(attempts.count() >= 2, 10000);
    QVERIFY(!m_window->grab().isNull());

    // Back, on another ingress port (the fixture picks a new one): the window reloads.
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(m_daemon.ingressPort() != oldIngress);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->connection(), DaemonStatus::Connection::Connected,
                              10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->routesModel()->findRow({}, m_daemon.ingressPort()) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        m_window->routesModel()->findRow(QStringLiteral("site"), m_daemon.ingressPort()) >= 0, 10000);
    QCOMPARE(m_window->routesModel()->findRow({}, oldIngress), -1);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->daemonStatus()->ingressPort(), int(m_daemon.ingressPort()), 5000);
    QCOMPARE(m_window->connectionStatus()->connectionText(), QStringLiteral("● connected"));

    // Events flow again: the subscription was renewed on the new connection.
    const quint16 port = freePort();
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("after"), m_http->port(), port))));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->routesModel()->findRow(QStringLiteral("after"), port) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->projectsModel()->findRow(QStringLiteral("after")) >= 0, 10000);
}

void TestMainWindow::screenshotRendersTheWindow() {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("dash.png"));
    bool done = false, written = false;
    screenshotWhenReady(m_window.get(), file, 5000, 0, [&](bool ok) {
        done = true;
        written = ok;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QVERIFY(written);
    const QImage image(file);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size() / image.devicePixelRatio(), m_window->size());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"

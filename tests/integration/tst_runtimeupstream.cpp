// The upstream runtime: nothing started, ready at once, and a periodic connect check that
// flips the state between running and unhealthy as the upstream goes away and comes back.
#include "daemonfixture.h"
#include "runtime/backend.h"
#include "skips.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalServer>
#include <QNetworkDatagram>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUdpSocket>
#include <QtTest>

using namespace portico;

class tst_RuntimeUpstream : public QObject {
    Q_OBJECT

private:
    Config m_config;
    RuntimeContext m_context;
    QTemporaryDir m_tmp;

private Q_SLOTS:
    void init() {
        m_config = Config();
        m_config.healthCheckIntervalMs = 50;
        m_config.backendConnectTimeoutMs = 1000;
        m_context = RuntimeContext();
        m_context.config = &m_config;
    }

    void healthFollowsTheUpstream_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("ipv4") << QStringLiteral("ipv4");
        QTest::newRow("ipv6") << QStringLiteral("ipv6");
        QTest::newRow("unix") << QStringLiteral("unix");
    }
    void healthFollowsTheUpstream() {
        QFETCH(QString, kind);
        QTcpServer tcp;
        QLocalServer local;
        QString upstream;
        quint16 port = 0;
        const QString socketPath = m_tmp.filePath(QStringLiteral("up-%1.sock").arg(kind));
        auto listen = [&]() -> bool {
            if (kind == QLatin1String("unix"))
                return local.listen(socketPath);
            const QHostAddress host(kind == QLatin1String("ipv6") ? QHostAddress::LocalHostIPv6
                                                                  : QHostAddress::LocalHost);
            return tcp.listen(host, port);
        };
        if (!listen()) {
            if (kind == QLatin1String("ipv6"))
                PORTICO_SKIP_EXPECTED("no IPv6 loopback here");
            QFAIL("cannot listen");
        }
        port = tcp.serverPort();
        if (kind == QLatin1String("unix"))
            upstream = QStringLiteral("unix:") + socketPath;
        else if (kind == QLatin1String("ipv6"))
            upstream = QStringLiteral("[::1]:%1").arg(port);
        else
            upstream = QStringLiteral("127.0.0.1:%1").arg(port);

        Manifest m;
        m.name = QStringLiteral("up");
        m.runtime = RuntimeKind::Upstream;
        m.upstream = upstream;
        QString error;
        auto b = createBackend(m, QString(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        const BackendTarget t = b->target();
        if (kind == QLatin1String("unix")) {
            QCOMPARE(t.kind, BackendTarget::Kind::Unix);
            QCOMPARE(t.unixPath, socketPath);
        } else {
            QCOMPARE(t.kind, BackendTarget::Kind::Tcp);
            QCOMPARE(t.host,
                     kind == QLatin1String("ipv6") ? QStringLiteral("::1") : QStringLiteral("127.0.0.1"));
            QCOMPARE(t.port, port);
        }

        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QCOMPARE(ready.count(), 1); // nothing to wait for
        QCOMPARE(b->state(), BackendState::Running);

        // Away: the next checks fail.
        if (kind == QLatin1String("unix"))
            local.close();
        else
            tcp.close();
        QTRY_COMPARE_WITH_TIMEOUT(b->state(), BackendState::Unhealthy, 5000);
        QVERIFY2(b->stateReason().contains(QLatin1String("does not accept connections")),
                 qPrintable(b->stateReason()));
        QCOMPARE(b->target(), t); // the address stays; only the state says it is down

        // Back on the same address.
        QVERIFY(listen());
        QTRY_COMPARE_WITH_TIMEOUT(b->state(), BackendState::Running, 5000);

        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->stop();
        QCOMPARE(stopped.count(), 1);
        QCOMPARE(b->state(), BackendState::Stopped);
        // No checks after stop: the state stays even when the upstream goes away. A window
        // of four check intervals that must see no change.
        QSignalSpy changed(b.get(), &Backend::stateChanged);
        if (kind == QLatin1String("unix"))
            local.close();
        else
            tcp.close();
        QVERIFY(!changed.wait(200));
        QCOMPARE(b->state(), BackendState::Stopped);
    }

    // A project whose ports are all udp (WireGuard behind Portico) is checked by UDP: it is
    // running while nothing refuses an empty datagram, and unhealthy once the kernel says
    // nothing listens (ICMP port unreachable). A TCP connect would call it unhealthy forever.
    void udpOnlyUpstreamIsCheckedByUdp() {
        QUdpSocket server;
        QVERIFY(server.bind(QHostAddress::LocalHost, 0));
        const quint16 port = server.localPort();
        Manifest m;
        m.name = QStringLiteral("wg");
        m.runtime = RuntimeKind::Upstream;
        m.upstream = QStringLiteral("127.0.0.1:%1").arg(port);
        m.listen = {ListenSpec{51820, Protocol::Udp}};
        QString error;
        auto b = createBackend(m, QString(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        int changes = 0;
        connect(b.get(), &Backend::stateChanged, this, [&changes] { ++changes; });
        b->start();
        QCOMPARE(b->state(), BackendState::Running);
        // Several checks pass against a server that never answers, without a flip.
        QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingDatagrams(), 5000);
        QCOMPARE(server.receiveDatagram().data(), QByteArray()); // the probe is an empty datagram
        QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingDatagrams(), 5000);
        QCOMPARE(b->state(), BackendState::Running);
        QCOMPARE(changes, 1);

        server.close();
        QTRY_COMPARE_WITH_TIMEOUT(b->state(), BackendState::Unhealthy, 5000);
        QVERIFY2(b->stateReason().contains(QLatin1String("ICMP port unreachable")),
                 qPrintable(b->stateReason()));

        QVERIFY(server.bind(QHostAddress::LocalHost, port));
        QTRY_COMPARE_WITH_TIMEOUT(b->state(), BackendState::Running, 5000);
        b->stop();
    }

    // The same through a real porticod: the route of a udp-only upstream shows active.
    void udpOnlyUpstreamRouteIsActive() {
        QUdpSocket server;
        QVERIFY(server.bind(QHostAddress::LocalHost, 0));
        test::DaemonFixture daemon;
        daemon.config.insert(QStringLiteral("health_check_interval_ms"), 100);
        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        const quint16 listen = test::freePort(true);
        const QByteArray manifest = QStringLiteral(R"({"name": "wg", "runtime": "upstream",
            "upstream": "127.0.0.1:%1", "listen": {"port": %2, "protocol": "udp"}})")
                                        .arg(server.localPort())
                                        .arg(listen)
                                        .toUtf8();
        const QJsonObject r = daemon.deploy(manifest);
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
        const auto routeState = [&daemon] {
            const QJsonArray routes = daemon.call(QStringLiteral("routes.list"))
                                          .value(QStringLiteral("result"))
                                          .toObject()
                                          .value(QStringLiteral("routes"))
                                          .toArray();
            for (const auto &v : routes)
                if (v.toObject().value(QStringLiteral("project")).toString() == QLatin1String("wg"))
                    return v.toObject().value(QStringLiteral("state")).toString();
            return QStringLiteral("(no route)");
        };
        // Several health intervals pass; the route stays active.
        QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingDatagrams(), 5000);
        while (server.hasPendingDatagrams())
            server.receiveDatagram();
        QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingDatagrams(), 5000);
        QCOMPARE(routeState(), QStringLiteral("active"));
        server.close();
        QTRY_COMPARE_WITH_TIMEOUT(routeState(), QStringLiteral("unhealthy"), 5000);
    }

    void stateChangesAreTransitions() {
        QTcpServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
        Manifest m;
        m.name = QStringLiteral("up");
        m.runtime = RuntimeKind::Upstream;
        m.upstream = QStringLiteral("127.0.0.1:%1").arg(tcp.serverPort());
        QString error;
        auto b = createBackend(m, QString(), m_context, &error);
        QVERIFY(b);
        int changes = 0;
        connect(b.get(), &Backend::stateChanged, this, [&changes] { ++changes; });
        // Each health check is a connection to the upstream: count them, not milliseconds.
        int checks = 0;
        connect(&tcp, &QTcpServer::newConnection, this, [&] {
            while (QTcpSocket *s = tcp.nextPendingConnection()) {
                ++checks;
                s->deleteLater();
            }
        });
        b->start();
        QTRY_VERIFY_WITH_TIMEOUT(checks >= 6, 10000); // six checks, all healthy
        QCOMPARE(changes, 1);                         // stopped -> running, then nothing new
        b->stop();
    }

    void malformedUpstreamRefused_data() {
        QTest::addColumn<QString>("upstream");
        QTest::newRow("empty") << QString();
        QTest::newRow("no-port") << QStringLiteral("127.0.0.1");
        QTest::newRow("port-too-big") << QStringLiteral("127.0.0.1:99999");
        QTest::newRow("relative-unix") << QStringLiteral("unix:relative.sock");
        QTest::newRow("unclosed-v6") << QStringLiteral("[::1:80");
    }
    void malformedUpstreamRefused() {
        QFETCH(QString, upstream);
        Manifest m;
        m.name = QStringLiteral("up");
        m.runtime = RuntimeKind::Upstream;
        m.upstream = upstream;
        QString error;
        QVERIFY(!createBackend(m, QString(), m_context, &error));
        QVERIFY2(error.contains(QLatin1String("upstream")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeUpstream)
#include "tst_runtimeupstream.moc"

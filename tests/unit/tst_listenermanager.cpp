#include "net/filelimit.h"
#include "relayfixture.h"
#include "relayutil.h"
#include "skips.h"
#include "testutil.h"

#include "httpbackend.h"

#include <QFile>
#include <QNetworkDatagram>
#include <QSignalSpy>
#include <QTest>
#include <QUdpSocket>

#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <future>
#include <thread>

using namespace portico;
using namespace portico::test;

// ListenerManager: synchronous bind errors, probe, live open/drain/close, isolation
// between listeners. Real sockets on loopback; the test thread is the control thread.
class TestListenerManager final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void busyTcpPort_data();
    void busyTcpPort();
    void busyUdpPort();
    void badOptions_data();
    void badOptions();
    void permissionDenied();
    void tcpAndUdpShareAPortNumber();
    void probe_data();
    void probe();
    void portZeroServedByAllWorkers();
    void closeReleasesThePortAtOnce();
    void drainLetsATransferFinish();
    void drainTimeoutClosesConnections();
    void drainWithoutConnections_data();
    void drainWithoutConnections();
    void closeKillsConnections();
    void closingOneListenerLeavesOthersAlone();
    void httpListenerStartsHttpSessions();
    void connectionLimit();
    void fileLimitRaisedToHard();

private:
    ListenerId openTcp(ListenerManager *m, const QString &project, quint16 backendPort, quint16 port = 0,
                       QString *error = nullptr, std::shared_ptr<RouteStats> *stats = nullptr);
    static bool echoes(int fd, const QByteArray &payload);
    std::unique_ptr<RelayFixture> m_fx;
    int m_projects = 0;
};

void TestListenerManager::initTestCase() {
    m_fx = std::make_unique<RelayFixture>();
}

ListenerId TestListenerManager::openTcp(ListenerManager *m, const QString &project, quint16 backendPort,
                                        quint16 port, QString *error, std::shared_ptr<RouteStats> *stats) {
    m_fx->setTarget(project, tcpTarget(QStringLiteral("127.0.0.1"), backendPort));
    ListenerOptions o = RelayFixture::options(Protocol::Tcp, project, port);
    if (stats)
        *stats = o.stats;
    QString e;
    const ListenerId id = m->open(o, &e);
    if (error)
        *error = e;
    return id;
}

bool TestListenerManager::echoes(int fd, const QByteArray &payload) {
    return fd >= 0 && sendAll(fd, payload, 3000) && recvExactly(fd, payload.size(), 3000) == payload;
}

void TestListenerManager::busyTcpPort_data() {
    QTest::addColumn<QString>("holder");
    QTest::newRow("a plain listener") << "plain";
    // Would share the port silently if open() bound with SO_REUSEPORT straight away.
    QTest::newRow("a SO_REUSEPORT listener of this user") << "reuseport";
    QTest::newRow("another Portico listener") << "portico";
    QTest::newRow("an http listener, opening tcp") << "portico-http";
}

void TestListenerManager::busyTcpPort() {
    QFETCH(QString, holder);
    ListenerManager *m = m_fx->manager();
    quint16 port = 0;
    int fd = -1;
    if (holder == QLatin1String("plain")) {
        fd = tcpListen(QHostAddress::LocalHost, &port);
    } else if (holder == QLatin1String("reuseport")) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QVERIFY(::bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) == 0);
        QVERIFY(::listen(fd, 8) == 0);
        socklen_t len = sizeof sin;
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len);
        port = ntohs(sin.sin_port);
    } else {
        ListenerOptions o = RelayFixture::options(
            holder == QLatin1String("portico") ? Protocol::Tcp : Protocol::Http, QStringLiteral("holder"));
        m_fx->setTarget(QStringLiteral("holder"), tcpTarget(QStringLiteral("127.0.0.1"), 9));
        QString e;
        port = m->boundPort(m->open(o, &e));
    }
    QVERIFY(port != 0);
    QString error;
    QCOMPARE(openTcp(m, QStringLiteral("second"), 9, port, &error), ListenerId(0));
    QCOMPARE(error, QStringLiteral("port %1/tcp: address already in use").arg(port));
    QString probeError;
    QVERIFY(!ListenerManager::probe(QHostAddress::LocalHost, port, Transport::Tcp, &probeError));
    QCOMPARE(probeError, error);
    closeFd(fd);
}

void TestListenerManager::busyUdpPort() {
    QUdpSocket holder;
    QVERIFY(holder.bind(QHostAddress::LocalHost, 0));
    ListenerManager *m = m_fx->manager();
    m_fx->setTarget(QStringLiteral("dns"), tcpTarget(QStringLiteral("127.0.0.1"), 9));
    QString error;
    QCOMPARE(m->open(RelayFixture::options(Protocol::Udp, QStringLiteral("dns"), holder.localPort()), &error),
             ListenerId(0));
    QCOMPARE(error, QStringLiteral("port %1/udp: address already in use").arg(holder.localPort()));
}

void TestListenerManager::badOptions_data() {
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<QString>("project");
    QTest::addColumn<QString>("error");
    QTest::newRow("no address") << "" << int(Protocol::Tcp) << "p"
                                << "port 0/tcp: no listen address";
    QTest::newRow("tcp without a project") << "127.0.0.1" << int(Protocol::Tcp) << ""
                                           << "a tcp listener needs a project";
    QTest::newRow("udp without a project") << "127.0.0.1" << int(Protocol::Udp) << ""
                                           << "a udp listener needs a project";
    // A link-local address scoped to the loopback interface: an address this host does not
    // have (the kernel refuses the bind), and one that could never leave the host if it did.
    QTest::newRow("address not on this host")
        << QStringLiteral("fe80::1%") + QString::number(::if_nametoindex("lo")) << int(Protocol::Tcp) << "p"
        << "port 0/tcp: address not available";
}

void TestListenerManager::badOptions() {
    QFETCH(QString, address);
    QFETCH(int, protocol);
    QFETCH(QString, project);
    QFETCH(QString, error);
    ListenerManager *m = m_fx->manager();
    ListenerOptions o = RelayFixture::options(Protocol(protocol), project, 0, QHostAddress(address));
    QString got;
    QCOMPARE(m->open(o, &got), ListenerId(0));
    QCOMPARE(got, error);
}

void TestListenerManager::permissionDenied() {
    QFile f(QStringLiteral("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
    if (f.open(QIODevice::ReadOnly) && f.readAll().trimmed().toInt() <= 80)
        PORTICO_SKIP_EXPECTED("privileged ports are open to everyone on this host");
    if (::geteuid() != 0) {
        ListenerManager *m = m_fx->manager();
        QString error;
        QCOMPARE(openTcp(m, QStringLiteral("priv"), 9, 80, &error), ListenerId(0));
        QCOMPARE(error, QStringLiteral("port 80/tcp: permission denied"));
        return;
    }
    // As root: drop the effective uid in one thread only (the raw syscall, unlike glibc's
    // seteuid, changes the calling thread alone), which also drops its capabilities.
    QString error;
    bool denied = false;
    std::thread unprivileged([&] {
        if (::syscall(SYS_setresuid, -1, 65534, -1) != 0) {
            error = QStringLiteral("setresuid failed");
            return;
        }
        denied = !ListenerManager::probe(QHostAddress::LocalHost, 80, Transport::Tcp, &error);
        ::syscall(SYS_setresuid, -1, 0, -1);
    });
    unprivileged.join();
    QVERIFY(denied);
    QCOMPARE(error, QStringLiteral("port 80/tcp: permission denied"));
}

// 5353/tcp and 5353/udp are different ports: both open and both relay.
void TestListenerManager::tcpAndUdpShareAPortNumber() {
    EchoServer tcpEcho;
    UdpEchoServer udpEcho;
    ListenerManager *m = m_fx->manager();
    QString error;
    const ListenerId tcpId = openTcp(m, QStringLiteral("both-tcp"), tcpEcho.port(), 0, &error);
    QVERIFY2(tcpId, qPrintable(error));
    const quint16 port = m->boundPort(tcpId);
    m_fx->setTarget(QStringLiteral("both-udp"), tcpTarget(QStringLiteral("127.0.0.1"), udpEcho.port()));
    const ListenerId udpId =
        m->open(RelayFixture::options(Protocol::Udp, QStringLiteral("both-udp"), port), &error);
    QVERIFY2(udpId, qPrintable(error));
    QCOMPARE(m->boundPort(udpId), port);

    const int fd = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(echoes(fd, "over tcp"));
    closeFd(fd);
    QUdpSocket client;
    QVERIFY(client.bind(QHostAddress::LocalHost, 0));
    client.writeDatagram("over udp", QHostAddress::LocalHost, port);
    QVERIFY(client.waitForReadyRead(3000));
    QCOMPARE(client.receiveDatagram().data(), QByteArray("over udp"));
}

void TestListenerManager::probe_data() {
    QTest::addColumn<QString>("held"); // "", "tcp", "udp"
    QTest::addColumn<int>("probed");   // Transport
    QTest::addColumn<bool>("free");
    QTest::newRow("nothing held, tcp") << "" << int(Transport::Tcp) << true;
    QTest::newRow("nothing held, udp") << "" << int(Transport::Udp) << true;
    QTest::newRow("tcp held, tcp") << "tcp" << int(Transport::Tcp) << false;
    QTest::newRow("tcp held, udp") << "tcp" << int(Transport::Udp) << true;
    QTest::newRow("udp held, udp") << "udp" << int(Transport::Udp) << false;
    QTest::newRow("udp held, tcp") << "udp" << int(Transport::Tcp) << true;
}

void TestListenerManager::probe() {
    QFETCH(QString, held);
    QFETCH(int, probed);
    QFETCH(bool, free);
    const quint16 port = freePort(true);
    QVERIFY(port != 0);
    int tcpFd = -1;
    QUdpSocket udp;
    if (held == QLatin1String("tcp")) {
        quint16 p = port;
        tcpFd = tcpListen(QHostAddress::LocalHost, &p);
        QVERIFY(tcpFd >= 0);
    } else if (held == QLatin1String("udp")) {
        QVERIFY(udp.bind(QHostAddress::LocalHost, port));
    }
    QString error;
    QCOMPARE(ListenerManager::probe(QHostAddress::LocalHost, port, Transport(probed), &error), free);
    if (!free)
        QCOMPARE(error, QStringLiteral("port %1/%2: address already in use").arg(port).arg(held));
    // The probe released what it bound.
    if (free)
        QVERIFY(ListenerManager::probe(QHostAddress::LocalHost, port, Transport(probed), &error));
    closeFd(tcpFd);
}

void TestListenerManager::portZeroServedByAllWorkers() {
    EchoServer echo;
    ListenerManager *m = m_fx->manager();
    std::shared_ptr<RouteStats> stats;
    const ListenerId id = openTcp(m, QStringLiteral("zero"), echo.port(), 0, nullptr, &stats);
    QVERIFY(id);
    const quint16 port = m->boundPort(id);
    QVERIFY(port != 0);
    // Every worker's socket is bound to the one port the OS picked; the kernel spreads
    // connections over them, and each must be served.
    std::vector<int> fds;
    for (int i = 0; i < 40; ++i)
        fds.push_back(tcpConnect(QHostAddress::LocalHost, port));
    for (int i = 0; i < 40; ++i)
        QVERIFY(echoes(fds[size_t(i)], "worker check " + QByteArray::number(i)));
    for (int fd : fds)
        closeFd(fd);
    QCOMPARE(stats->sum().connectionsTotal, quint64(40));
}

// A redeploy may reopen the same port right after closing it, without waiting for the
// workers: close() stops the kernel listening synchronously.
void TestListenerManager::closeReleasesThePortAtOnce() {
    ListenerManager *m = m_fx->manager();
    QString error;
    const ListenerId first = openTcp(m, QStringLiteral("moving"), 9, 0, &error);
    QVERIFY2(first, qPrintable(error));
    const quint16 port = m->boundPort(first);
    m->close(first);
    QVERIFY2(ListenerManager::probe(QHostAddress::LocalHost, port, Transport::Tcp, &error),
             qPrintable(error));
    const ListenerId second = openTcp(m, QStringLiteral("moving"), 9, port, &error);
    QVERIFY2(second, qPrintable(error));
    QCOMPARE(m->boundPort(second), port);
    m->close(second);

    // UDP: the worker closes the socket on its next turn.
    m_fx->setTarget(QStringLiteral("udpmoving"), tcpTarget(QStringLiteral("127.0.0.1"), 9));
    const ListenerId udp = m->open(RelayFixture::options(Protocol::Udp, QStringLiteral("udpmoving")), &error);
    QVERIFY(udp);
    const quint16 udpPort = m->boundPort(udp);
    m->close(udp);
    QTRY_VERIFY(ListenerManager::probe(QHostAddress::LocalHost, udpPort, Transport::Udp, nullptr));
}

// Undeploy: new visitors are refused at once, a transfer in flight completes intact, then
// drained() comes.
void TestListenerManager::drainLetsATransferFinish() {
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    ListenerManager *m = m_fx->manager();
    QSignalSpy spy(m, &ListenerManager::drained);
    const ListenerId id = openTcp(m, QStringLiteral("draining"), backendPort);
    QVERIFY(id);
    const quint16 port = m->boundPort(id);
    const int visitor = tcpConnect(QHostAddress::LocalHost, port);
    const int backend = acceptWithin(backendListen, 5000);
    QVERIFY(visitor >= 0 && backend >= 0);

    ChunkSource source(3);
    const QByteArray part1 = source.chunk(0, 1024 * 1024);
    QByteArray part2;
    for (quint64 i = 1; i <= 8; ++i)
        part2 += source.chunk(i, 1024 * 1024);
    std::promise<void> go;
    auto sender = std::async(std::launch::async, [&, goFuture = go.get_future()] {
        bool ok = sendAll(backend, part1);
        if (goFuture.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
            return false;
        ok = ok && sendAll(backend, part2, 20000);
        closeFd(backend);
        return ok;
    });
    QCOMPARE(recvExactly(visitor, part1.size()), part1);

    m->drain(id, 20000);
    QCOMPARE(tcpConnect(QHostAddress::LocalHost, port, 1000), -1); // refused, not queued
    // The port is free again at once: a successor (a redeploy on the same port) serves
    // new visitors while the old transfer is still open.
    EchoServer successorBackend;
    QString error;
    const ListenerId successor =
        openTcp(m, QStringLiteral("successor"), successorBackend.port(), port, &error);
    QVERIFY2(successor, qPrintable(error));
    const int fresh = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(echoes(fresh, "served by the successor"));
    closeFd(fresh);
    QVERIFY(!spy.wait(300)); // not drained while the transfer is open
    go.set_value();
    bool eof = false;
    const QByteArray rest = recvUntilEof(visitor, 20000, &eof);
    QVERIFY(sender.get());
    QVERIFY(eof);
    QCOMPARE(rest.size(), part2.size());
    QCOMPARE(sha256Hex(rest), sha256Hex(part2));
    closeFd(visitor);
    QVERIFY(spy.wait(5000));
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).value<ListenerId>(), id);
    QCOMPARE(m->boundPort(id), quint16(0));
    QCOMPARE(m->boundPort(successor), port);
    m->close(successor);
    closeFd(backendListen);
}

void TestListenerManager::drainTimeoutClosesConnections() {
    EchoServer echo;
    ListenerManager *m = m_fx->manager();
    QSignalSpy spy(m, &ListenerManager::drained);
    const ListenerId id = openTcp(m, QStringLiteral("stubborn"), echo.port());
    const int visitor = tcpConnect(QHostAddress::LocalHost, m->boundPort(id));
    QVERIFY(echoes(visitor, "still here"));
    m->drain(id, 300);
    // A window that must see nothing: the open connection holds the drain back until
    // its timeout (300 ms), whatever the load; then drained() comes and the visitor is cut.
    QVERIFY(!spy.wait(150));
    QCOMPARE(waitClosed(visitor, 0), qint64(-1));
    QVERIFY(spy.wait(5000));
    QCOMPARE(waitClosed(visitor, 3000), qint64(0));
    closeFd(visitor);
}

void TestListenerManager::drainWithoutConnections_data() {
    QTest::addColumn<int>("protocol");
    QTest::newRow("tcp") << int(Protocol::Tcp);
    QTest::newRow("http") << int(Protocol::Http);
    QTest::newRow("udp") << int(Protocol::Udp);
    QTest::newRow("unknown id") << -1;
}

void TestListenerManager::drainWithoutConnections() {
    QFETCH(int, protocol);
    ListenerManager *m = m_fx->manager();
    QSignalSpy spy(m, &ListenerManager::drained);
    ListenerId id = 999999;
    if (protocol >= 0) {
        m_fx->setTarget(QStringLiteral("quiet"), tcpTarget(QStringLiteral("127.0.0.1"), 9));
        QString error;
        id = m->open(RelayFixture::options(Protocol(protocol), QStringLiteral("quiet")), &error);
        QVERIFY2(id, qPrintable(error));
    }
    m->drain(id, 60000);
    QVERIFY(spy.wait(10000)); // did not sit out the 60 s timeout
    QCOMPARE(spy.at(0).at(0).value<ListenerId>(), id);
}

void TestListenerManager::closeKillsConnections() {
    EchoServer echo;
    ListenerManager *m = m_fx->manager();
    std::shared_ptr<RouteStats> stats;
    const ListenerId id = openTcp(m, QStringLiteral("killed"), echo.port(), 0, nullptr, &stats);
    std::vector<int> visitors;
    for (int i = 0; i < 6; ++i) {
        visitors.push_back(tcpConnect(QHostAddress::LocalHost, m->boundPort(id)));
        QVERIFY(echoes(visitors.back(), "hi"));
    }
    m->close(id);
    for (int fd : visitors) {
        QCOMPARE(waitClosed(fd, 5000), qint64(0));
        closeFd(fd);
    }
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(0));
}

void TestListenerManager::closingOneListenerLeavesOthersAlone() {
    EchoServer echoA;
    EchoServer echoB;
    ListenerManager *m = m_fx->manager();
    const ListenerId a = openTcp(m, QStringLiteral("project-a"), echoA.port());
    const ListenerId b = openTcp(m, QStringLiteral("project-b"), echoB.port());
    QVERIFY(a && b);
    const int va = tcpConnect(QHostAddress::LocalHost, m->boundPort(a));
    const int vb = tcpConnect(QHostAddress::LocalHost, m->boundPort(b));
    QVERIFY(echoes(va, "a") && echoes(vb, "b"));
    m->close(a);
    QVERIFY(waitClosed(va, 3000) >= 0);
    for (int i = 0; i < 20; ++i)
        QVERIFY(echoes(vb, "b is untouched " + QByteArray::number(i)));
    const int vb2 = tcpConnect(QHostAddress::LocalHost, m->boundPort(b));
    QVERIFY(echoes(vb2, "and still accepting"));
    closeFd(va);
    closeFd(vb);
    closeFd(vb2);
}

// A dedicated http port hands its connections to the HTTP engine (startHttpSession): the
// request reaches the project's backend whole, without a path prefix, and the answer
// comes back. (It used to point at a port that was free a moment ago: under load another
// program could take it, and the test waited for an answer from a stranger.)
void TestListenerManager::httpListenerStartsHttpSessions() {
    HttpTestBackend backend;
    ListenerManager *m = m_fx->manager();
    m_fx->setTarget(QStringLiteral("web"), tcpTarget(QStringLiteral("127.0.0.1"), backend.port()));
    QString error;
    const ListenerId id = m->open(RelayFixture::options(Protocol::Http, QStringLiteral("web")), &error);
    QVERIFY2(id, qPrintable(error));
    const int fd = tcpConnect(QHostAddress::LocalHost, m->boundPort(id));
    QVERIFY(
        sendAll(fd, "GET /redirect?to=/elsewhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    bool eof = false;
    const QByteArray answer = recvUntilEof(fd, 20000, &eof);
    closeFd(fd);
    QVERIFY2(eof, answer.constData());
    QVERIFY2(answer.startsWith("HTTP/1.1 302 "), answer.constData());
    // A dedicated port strips no prefix, so it rewrites no Location either.
    QVERIFY2(answer.contains("\r\nLocation: /elsewhere\r\n") ||
                 answer.contains("\r\nlocation: /elsewhere\r\n"),
             answer.constData());
    QCOMPARE(backend.requestsServed(), 1);
}

void TestListenerManager::connectionLimit() {
    EchoServer echo;
    Config config;
    config.maxConnectionsPerListener = 2;
    ListenerManager *m = m_fx->manager(config);
    std::shared_ptr<RouteStats> stats;
    const ListenerId id = openTcp(m, QStringLiteral("limited"), echo.port(), 0, nullptr, &stats);
    const quint16 port = m->boundPort(id);
    const int v1 = tcpConnect(QHostAddress::LocalHost, port);
    const int v2 = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(echoes(v1, "one") && echoes(v2, "two"));
    const int v3 = tcpConnect(QHostAddress::LocalHost, port);
    QCOMPARE(waitClosed(v3, 5000), qint64(0));
    closeFd(v3);
    QTRY_COMPARE(stats->sum().errors, quint64(1));
    QCOMPARE(stats->sum().connectionsOpen, quint64(2));
    closeFd(v1);
    // A slot frees up once the first relay is gone (its teardown runs in a worker, so the
    // first tries may still be refused).
    const auto servedOnce = [&] {
        const int v4 = tcpConnect(QHostAddress::LocalHost, port);
        const bool served = echoes(v4, "four");
        closeFd(v4);
        return served;
    };
    // QTRY_* evaluates its expression once more at the end: remember the success, or that
    // last connection would meet the slot the one before it still holds.
    bool served = false;
    QTRY_VERIFY_WITH_TIMEOUT(served || (served = servedOnce()), 10000);
    closeFd(v2);
}

void TestListenerManager::fileLimitRaisedToHard() {
    rlimit before{};
    QCOMPARE(::getrlimit(RLIMIT_NOFILE, &before), 0);
    if (before.rlim_max > 256) { // start from a low soft limit so that raising is visible
        rlimit low = before;
        low.rlim_cur = 256;
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &low), 0);
    }
    QString error;
    const qint64 soft = raiseFileLimit(&error);
    QVERIFY2(soft > 0, qPrintable(error));
    rlimit after{};
    QCOMPARE(::getrlimit(RLIMIT_NOFILE, &after), 0);
    QCOMPARE(after.rlim_cur, before.rlim_max);
    QCOMPARE(quint64(soft), quint64(after.rlim_cur));
}

QTEST_GUILESS_MAIN(TestListenerManager)
#include "tst_listenermanager.moc"

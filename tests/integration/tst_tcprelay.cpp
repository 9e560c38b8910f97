#include "net/filelimit.h"
#include "relayfixture.h"
#include "relayutil.h"
#include "skips.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <QFile>
#include <QHostInfo>
#include <QTemporaryDir>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

using namespace portico;
using namespace portico::test;

// The raw TCP relay end to end: real sockets on loopback, a real WorkerPool (two workers),
// the test thread as the control thread.
class TestTcpRelay final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void bulkChecksum();
    void halfClose_data();
    void halfClose();
    void concurrentConnections();
    void backpressure();
    void closedAtOnce_data();
    void closedAtOnce();
    void connectTimeout();
    void idleTimeout();
    void proxyProtocol_data();
    void proxyProtocol();
    void unixBackend();
    void backendByName_data();
    void backendByName();

private:
    // A tcp listener for `project` (backend = target) on 127.0.0.1, port from the OS.
    quint16 relayTo(const QString &project, const BackendTarget &target, const Config &config = Config(),
                    ProxyProtocol proxy = ProxyProtocol::None,
                    const QHostAddress &address = QHostAddress(QHostAddress::LocalHost),
                    std::shared_ptr<RouteStats> *stats = nullptr);
    std::unique_ptr<RelayFixture> m_fx;
    int m_projects = 0;
};

void TestTcpRelay::initTestCase() {
    QString error;
    QVERIFY2(raiseFileLimit(&error) > 0, qPrintable(error));
    m_fx = std::make_unique<RelayFixture>();
}

quint16 TestTcpRelay::relayTo(const QString &project, const BackendTarget &target, const Config &config,
                              ProxyProtocol proxy, const QHostAddress &address,
                              std::shared_ptr<RouteStats> *stats) {
    m_fx->setTarget(project, target);
    ListenerOptions o = RelayFixture::options(Protocol::Tcp, project, 0, address);
    o.proxyProtocol = proxy;
    if (stats)
        *stats = o.stats;
    return m_fx->openListener(o, config);
}

// 256 MiB visitor -> backend, streamed from a generator; both ends hash what they saw (a
// lost, repeated or reordered byte anywhere changes the digest; the relay's bulk path,
// splice, carries most of it). The backend answers with its digest after the visitor's
// FIN, so the reply also crosses a half-closed relay. Speed is the benchmark's business.
void TestTcpRelay::bulkChecksum() {
    constexpr qint64 total = qint64(256) << 20;
    constexpr qsizetype chunkSize = 256 * 1024;
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    QVERIFY(backendListen >= 0);
    std::shared_ptr<RouteStats> stats;
    const quint16 port =
        relayTo(QStringLiteral("bulk"), tcpTarget(QStringLiteral("127.0.0.1"), backendPort), Config(),
                ProxyProtocol::None, QHostAddress(QHostAddress::LocalHost), &stats);
    QVERIFY(port != 0);

    std::atomic<bool> backendDone{false};
    std::atomic<bool> visitorDone{false};
    QByteArray backendDigest;
    qint64 backendBytes = 0;
    std::thread backend([&] {
        const int fd = acceptWithin(backendListen, 10000);
        timeval tv{30, 0}; // a stuck relay fails the test instead of hanging it
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        QByteArray buf(1024 * 1024, Qt::Uninitialized);
        for (;;) {
            const ssize_t n = ::recv(fd, buf.data(), size_t(buf.size()), 0);
            if (n <= 0)
                break;
            hash.addData(QByteArrayView(buf.constData(), n));
            backendBytes += n;
        }
        backendDigest = hash.result().toHex();
        sendAll(fd, backendDigest);
        closeFd(fd);
        backendDone = true;
    });

    QByteArray visitorDigest;
    QByteArray echoedDigest;
    std::thread visitor([&] {
        // Blocking socket with a receive/send timeout so that a broken relay fails the test
        // instead of hanging it.
        const int fd = tcpConnect(QHostAddress::LocalHost, port);
        timeval tv{20, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ChunkSource source(42);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        for (qint64 sent = 0, i = 0; sent < total; ++i) {
            const QByteArray c = source.chunk(quint64(i), qsizetype(qMin<qint64>(chunkSize, total - sent)));
            hash.addData(c);
            qsizetype off = 0;
            while (off < c.size()) {
                const ssize_t n = ::send(fd, c.constData() + off, size_t(c.size() - off), MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                off += n;
            }
            if (off < c.size())
                break;
            sent += c.size();
        }
        visitorDigest = hash.result().toHex();
        ::shutdown(fd, SHUT_WR);
        bool eof = false;
        echoedDigest = recvUntilEof(fd, 20000, &eof);
        closeFd(fd);
        visitorDone = true;
    });

    // Both threads end on their own (every socket has a timeout): join before judging.
    backend.join();
    visitor.join();
    QVERIFY(backendDone && visitorDone);
    closeFd(backendListen);
    // How fast is tests/bench's question (tcprelaybench); here only that every byte came through.
    QCOMPARE(backendBytes, total);
    QCOMPARE(backendDigest, visitorDigest);
    QCOMPARE(echoedDigest, visitorDigest);
    QTRY_COMPARE(stats->sum().bytesIn, quint64(total));
    QCOMPARE(stats->sum().bytesOut, quint64(visitorDigest.size()));
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(0));
    QCOMPARE(stats->sum().connectionsTotal, quint64(1));
}

void TestTcpRelay::halfClose_data() {
    QTest::addColumn<bool>("visitorFirst");
    QTest::addColumn<int>("firstSize");
    QTest::addColumn<int>("secondSize");
    QTest::newRow("visitor closes first, small") << true << 11 << 17;
    QTest::newRow("backend closes first, small") << false << 9 << 23;
    // Bigger than the relay buffer both ways: backpressure and half-close together.
    QTest::newRow("visitor closes first, 3 MiB") << true << 3 * 1024 * 1024 << 3 * 1024 * 1024 + 7;
    QTest::newRow("backend closes first, 3 MiB") << false << 3 * 1024 * 1024 + 1 << 2 * 1024 * 1024;
}

// The side that closes first sends `first` then FIN; the other side reads it to EOF, then
// answers `second` through the half-open relay, then closes.
void TestTcpRelay::halfClose() {
    QFETCH(bool, visitorFirst);
    QFETCH(int, firstSize);
    QFETCH(int, secondSize);
    ChunkSource source(7);
    QByteArray first, second;
    for (quint64 i = 0; first.size() < firstSize; ++i)
        first += source.chunk(i, 1024 * 1024);
    first.truncate(firstSize);
    for (quint64 i = 100; second.size() < secondSize; ++i)
        second += source.chunk(i, 1024 * 1024);
    second.truncate(secondSize);

    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    Config config;
    config.relayBufferBytes = 64 * 1024;
    const quint16 port = relayTo(QStringLiteral("half%1").arg(++m_projects),
                                 tcpTarget(QStringLiteral("127.0.0.1"), backendPort), config);
    QVERIFY(port != 0);
    const int visitor = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(visitor >= 0);
    const int backend = acceptWithin(backendListen, 5000);
    QVERIFY(backend >= 0);
    const int closer = visitorFirst ? visitor : backend;
    const int other = visitorFirst ? backend : visitor;

    auto sender = std::async(std::launch::async, [&] {
        const bool ok = sendAll(closer, first, 20000);
        ::shutdown(closer, SHUT_WR);
        return ok;
    });
    bool eof = false;
    const QByteArray got = recvUntilEof(other, 20000, &eof);
    QVERIFY(sender.get());
    QVERIFY2(eof, "the FIN did not cross the relay");
    QCOMPARE(got.size(), first.size());
    QVERIFY(got == first);

    // The half-closed relay still carries the other direction.
    auto answer = std::async(std::launch::async, [&] {
        const bool ok = sendAll(other, second, 20000);
        ::shutdown(other, SHUT_WR);
        return ok;
    });
    const QByteArray back = recvUntilEof(closer, 20000, &eof);
    QVERIFY(answer.get());
    QVERIFY(eof);
    QCOMPARE(back.size(), second.size());
    QVERIFY(back == second);
    closeFd(visitor);
    closeFd(backend);
    closeFd(backendListen);
}

// 1000 visitors at once, each with its own payload, through an echo backend.
void TestTcpRelay::concurrentConnections() {
    constexpr int count = 1000;
    EchoServer echo;
    QVERIFY(echo.port() != 0);
    std::shared_ptr<RouteStats> stats;
    const quint16 port =
        relayTo(QStringLiteral("many"), tcpTarget(QStringLiteral("127.0.0.1"), echo.port()), Config(),
                ProxyProtocol::None, QHostAddress(QHostAddress::LocalHost), &stats);
    QVERIFY(port != 0);

    QObject scope;
    int matched = 0;
    int failed = 0;
    std::vector<QByteArray> payloads(count);
    std::vector<QByteArray> received(count);
    for (int i = 0; i < count; ++i) {
        payloads[size_t(i)] = QByteArray::number(i).rightJustified(6, '0') + ':' +
                              QCryptographicHash::hash(QByteArray::number(i), QCryptographicHash::Sha256)
                                  .toHex()
                                  .repeated(1 + i % 40);
        auto *s = new QTcpSocket(&scope);
        connect(s, &QTcpSocket::connected, s, [s, &payloads, i] { s->write(payloads[size_t(i)]); });
        connect(s, &QTcpSocket::readyRead, s, [s, &payloads, &received, &matched, &failed, i] {
            QByteArray &r = received[size_t(i)];
            r += s->readAll();
            const QByteArray &p = payloads[size_t(i)];
            if (r.size() >= p.size()) {
                if (r == p)
                    ++matched;
                else
                    ++failed;
                s->disconnectFromHost();
            }
        });
        connect(s, &QTcpSocket::errorOccurred, s, [&failed, s](QAbstractSocket::SocketError e) {
            if (e != QAbstractSocket::RemoteHostClosedError) {
                qWarning() << "client error" << s->errorString();
                ++failed;
            }
        });
        s->connectToHost(QHostAddress::LocalHost, port);
    }
    QTRY_VERIFY_WITH_TIMEOUT(matched + failed >= count, 30000);
    QCOMPARE(failed, 0);
    QCOMPARE(matched, count);
    QCOMPARE(echo.accepted(), count);
    QTRY_COMPARE_WITH_TIMEOUT(stats->sum().connectionsOpen, quint64(0), 10000);
    QCOMPARE(stats->sum().connectionsTotal, quint64(count));
    QCOMPARE(stats->sum().errors, quint64(0));
}

// A backend that stops reading pushes back all the way to the visitor: the relay holds at
// most its buffer, so the visitor's writes stall after the kernel buffers on the path fill
// (a few MiB on loopback) instead of the relay soaking up everything.
void TestTcpRelay::backpressure() {
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    const quint16 port =
        relayTo(QStringLiteral("pushback"), tcpTarget(QStringLiteral("127.0.0.1"), backendPort));
    const int visitor = tcpConnect(QHostAddress::LocalHost, port);
    const int backend = acceptWithin(backendListen, 5000);
    QVERIFY(visitor >= 0 && backend >= 0);
    constexpr qint64 ceiling = 256LL * 1024 * 1024;
    QCryptographicHash sent(QCryptographicHash::Sha256);
    const qint64 written = sendUntilPushedBack(visitor, 11, ceiling, &sent);
    qInfo("visitor stalled after %lld KiB with the backend not reading", written / 1024);
    QVERIFY2(written < 64LL * 1024 * 1024, "the relay kept accepting data nobody read");
    // Everything accepted arrives intact once the backend reads.
    ::shutdown(visitor, SHUT_WR);
    bool eof = false;
    const QByteArray got = recvUntilEof(backend, 20000, &eof);
    QVERIFY(eof);
    QCOMPARE(qint64(got.size()), written);
    QCOMPARE(QCryptographicHash::hash(got, QCryptographicHash::Sha256), sent.result());
    closeFd(visitor);
    closeFd(backend);
    closeFd(backendListen);
}

void TestTcpRelay::closedAtOnce_data() {
    QTest::addColumn<QString>("situation");
    QTest::newRow("backend refuses") << "refused";
    QTest::newRow("route has no backend") << "none";
    QTest::newRow("project not in the table") << "missing";
}

// The connect timeout is long, so only an immediate close passes.
void TestTcpRelay::closedAtOnce() {
    QFETCH(QString, situation);
    Config config;
    config.tcpConnectTimeoutMs = 20000;
    const QString project = QStringLiteral("gone%1").arg(++m_projects);
    BackendTarget target;
    RefusingPort down;
    if (situation == QLatin1String("refused"))
        target = tcpTarget(QStringLiteral("127.0.0.1"), down.port());
    std::shared_ptr<RouteStats> stats;
    const quint16 port =
        relayTo(project, target, config, ProxyProtocol::None, QHostAddress(QHostAddress::LocalHost), &stats);
    QVERIFY(port != 0);
    if (situation == QLatin1String("missing"))
        m_fx->removeProject(project);

    const int fd = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(fd >= 0);
    // Closed well within the 20 s connect timeout: only an immediate close passes.
    const qint64 closed = waitClosed(fd, 5000);
    closeFd(fd);
    QVERIFY2(closed == 0, "the visitor was not closed");
    QTRY_COMPARE(stats->sum().errors, quint64(1));
    QTRY_COMPARE(stats->sum().connectionsOpen, quint64(0));
}

// A backend whose accept queue is full never completes the handshake (Linux drops the SYN).
void TestTcpRelay::connectTimeout() {
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort, 0);
    QVERIFY(backendListen >= 0);
    std::vector<int> fillers;
    for (int i = 0; i < 8; ++i) {
        const int f = tcpConnect(QHostAddress::LocalHost, backendPort, 200);
        if (f < 0)
            break;
        fillers.push_back(f);
    }
    QVERIFY2(tcpConnect(QHostAddress::LocalHost, backendPort, 300) < 0, "could not fill the backend's queue");

    Config config;
    config.tcpConnectTimeoutMs = 400;
    std::shared_ptr<RouteStats> stats;
    const quint16 port = relayTo(QStringLiteral("slow"), tcpTarget(QStringLiteral("127.0.0.1"), backendPort),
                                 config, ProxyProtocol::None, QHostAddress(QHostAddress::LocalHost), &stats);
    const int fd = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(fd >= 0);
    // A window that must see nothing: the relay waits for the backend (timeout 400 ms)
    // instead of giving up at once; then it gives up and closes the visitor.
    const qint64 early = waitClosed(fd, 200);
    const qint64 closed = waitClosed(fd, 5000);
    closeFd(fd);
    for (int f : fillers)
        closeFd(f);
    closeFd(backendListen);
    QCOMPARE(early, qint64(-1));
    QCOMPARE(closed, qint64(0));
    QTRY_COMPARE(stats->sum().errors, quint64(1));
}

// Traffic keeps a connection alive past the idle timeout; silence closes it.
void TestTcpRelay::idleTimeout() {
    EchoServer echo;
    Config config;
    config.tcpIdleTimeoutMs = 1000;
    const quint16 port =
        relayTo(QStringLiteral("idle"), tcpTarget(QStringLiteral("127.0.0.1"), echo.port()), config);
    const int fd = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(fd >= 0);
    // Five pauses of 300 ms, each a window that must see no close (shorter than the
    // 1 s timeout), add up to more than the timeout: traffic kept the relay open.
    for (int i = 0; i < 5; ++i) {
        const QByteArray ping = "ping" + QByteArray::number(i);
        QVERIFY(sendAll(fd, ping));
        QCOMPARE(recvExactly(fd, ping.size(), 5000), ping);
        QCOMPARE(waitClosed(fd, 300), qint64(-1));
    }
    // Silence: closed, with no byte sent the other way.
    const qint64 closed = waitClosed(fd, 5000);
    closeFd(fd);
    QCOMPARE(closed, qint64(0));
}

void TestTcpRelay::proxyProtocol_data() {
    QTest::addColumn<int>("version");
    QTest::addColumn<QString>("address");
    QTest::newRow("v1 ipv4") << int(ProxyProtocol::V1) << "127.0.0.1";
    QTest::newRow("v2 ipv4") << int(ProxyProtocol::V2) << "127.0.0.1";
    QTest::newRow("v1 ipv6") << int(ProxyProtocol::V1) << "::1";
    QTest::newRow("v2 ipv6") << int(ProxyProtocol::V2) << "::1";
}

// A backend that parses the header sees the visitor's own address and port, then the data.
void TestTcpRelay::proxyProtocol() {
    QFETCH(int, version);
    QFETCH(QString, address);
    const QHostAddress host(address);
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    const quint16 port =
        relayTo(QStringLiteral("pp%1").arg(++m_projects), tcpTarget(QStringLiteral("127.0.0.1"), backendPort),
                Config(), ProxyProtocol(version), host);
    if (port == 0 && host.protocol() == QAbstractSocket::IPv6Protocol)
        PORTICO_SKIP_EXPECTED("no IPv6 loopback here");
    QVERIFY(port != 0);
    const int visitor = tcpConnect(host, port);
    QVERIFY(visitor >= 0);
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    ::getsockname(visitor, reinterpret_cast<sockaddr *>(&local), &len);
    const QHostAddress visitorAddress(reinterpret_cast<sockaddr *>(&local));
    const quint16 visitorPort = local.ss_family == AF_INET6
                                    ? ntohs(reinterpret_cast<sockaddr_in6 *>(&local)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in *>(&local)->sin_port);
    QVERIFY(sendAll(visitor, "hello after the header"));

    const int backend = acceptWithin(backendListen, 5000);
    QVERIFY(backend >= 0);
    QString error;
    const auto header = readProxyHeader(backend, 5000, &error);
    QVERIFY2(header, qPrintable(error));
    QCOMPARE(header->version, version == int(ProxyProtocol::V1) ? 1 : 2);
    QVERIFY(!header->unknown);
    QCOMPARE(header->source, visitorAddress);
    QCOMPARE(header->sourcePort, visitorPort);
    QCOMPARE(header->destination, host);
    QCOMPARE(header->destinationPort, port);
    QCOMPARE(recvExactly(backend, 22, 5000), QByteArray("hello after the header"));
    QVERIFY(sendAll(backend, "and back"));
    QCOMPARE(recvExactly(visitor, 8, 5000), QByteArray("and back"));
    closeFd(visitor);
    closeFd(backend);
    closeFd(backendListen);
}

// Backends reachable only through a Unix socket (docker-style, or a local app).
void TestTcpRelay::unixBackend() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("app.sock"));
    const int listenFd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, QFile::encodeName(path).constData(), sizeof sun.sun_path - 1);
    QVERIFY(::bind(listenFd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) == 0);
    QVERIFY(::listen(listenFd, 8) == 0);
    BackendTarget target;
    target.kind = BackendTarget::Kind::Unix;
    target.unixPath = path;
    const quint16 port = relayTo(QStringLiteral("unix"), target);
    const int visitor = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(visitor >= 0);
    const int backend = acceptWithin(listenFd, 5000);
    QVERIFY(backend >= 0);
    QVERIFY(sendAll(visitor, "over unix"));
    QCOMPARE(recvExactly(backend, 9), QByteArray("over unix"));
    ::shutdown(backend, SHUT_WR);
    bool eof = false;
    QVERIFY(recvUntilEof(visitor, 5000, &eof).isEmpty());
    QVERIFY(eof);
    closeFd(visitor);
    closeFd(backend);
    closeFd(listenFd);
}

void TestTcpRelay::backendByName_data() {
    QTest::addColumn<QString>("listenOn");
    QTest::newRow("backend on 127.0.0.1") << "127.0.0.1";
    QTest::newRow("backend on ::1") << "::1";
}

// A backend given by name is resolved asynchronously, and every address is tried in turn.
void TestTcpRelay::backendByName() {
    QFETCH(QString, listenOn);
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress(listenOn), &backendPort);
    if (backendListen < 0)
        PORTICO_SKIP_EXPECTED("address not available here");
    const QHostInfo info = QHostInfo::fromName(QStringLiteral("localhost"));
    if (!info.addresses().contains(QHostAddress(listenOn)))
        PORTICO_SKIP_EXPECTED("localhost does not resolve to this address here");
    const quint16 port = relayTo(QStringLiteral("byname%1").arg(++m_projects),
                                 tcpTarget(QStringLiteral("localhost"), backendPort));
    const int visitor = tcpConnect(QHostAddress::LocalHost, port);
    QVERIFY(visitor >= 0);
    const int backend = acceptWithin(backendListen, 5000);
    QVERIFY(backend >= 0);
    QVERIFY(sendAll(visitor, "by name"));
    QCOMPARE(recvExactly(backend, 7), QByteArray("by name"));
    closeFd(visitor);
    closeFd(backend);
    closeFd(backendListen);
}

QTEST_GUILESS_MAIN(TestTcpRelay)
#include "tst_tcprelay.moc"

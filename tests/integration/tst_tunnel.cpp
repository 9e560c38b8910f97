// The HTTP upgrade tunnel (101 Switching Protocols) with raw bytes, not WebSocket frames:
// after the 101 the session hands both connections to a TcpRelay, so the tunnel can
// half-close both ways, keeps the bytes that travelled with the heads, pushes back on a
// slow reader and still ends at its idle timeout.
#include "httpharness.h"
#include "relayutil.h"
#include "testutil.h"
#include "tunnellistener.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace portico;
using namespace portico::test;

namespace {

const QByteArray kUpgradeRequest = "GET /raw/tunnel HTTP/1.1\r\nHost: tunnel.test\r\n"
                                   "Connection: Upgrade\r\nUpgrade: raw-echo\r\n\r\n";
const QByteArray k101 =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: raw-echo\r\n\r\n";

// Reads one HTTP head byte by byte, so that whatever follows it stays in the socket.
QByteArray readHead(int fd, int timeoutMs = 5000) {
    const QDeadlineTimer deadline(timeoutMs);
    QByteArray head;
    while (!head.endsWith("\r\n\r\n") && head.size() < 16 * 1024) {
        const QByteArray c = recvExactly(fd, 1, int(qMax<qint64>(1, deadline.remainingTime())));
        if (c.isEmpty())
            break;
        head += c;
    }
    return head;
}

int unixListen(const QString &path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const QByteArray p = path.toLocal8Bit();
    std::memcpy(sun.sun_path, p.constData(), size_t(qMin<qsizetype>(p.size(), sizeof sun.sun_path - 1)));
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) != 0 || ::listen(fd, 16) != 0) {
        closeFd(fd);
        return -1;
    }
    return fd;
}

// A client connection whose path holds little in the kernel (small MSS and receive
// buffer), so that what the proxy writes while it does not read stays in the proxy.
int smallWindowConnect(quint16 port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int mss = 536;
    const int rcvbuf = 4096;
    ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
        closeFd(fd);
        return -1;
    }
    return fd;
}

QByteArray pattern(quint64 seed, qsizetype size) {
    ChunkSource source(seed);
    QByteArray out;
    out.reserve(size);
    for (quint64 i = 0; out.size() < size; ++i)
        out += source.chunk(i, qMin<qsizetype>(1024 * 1024, size - out.size()));
    return out;
}

QByteArray sha(const QByteArray &data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

} // namespace

class TestTunnel final : public QObject {
    Q_OBJECT

private:
    struct Tunnel {
        int client = -1;
        int backend = -1;
        QByteArray backendSawHead;
        ~Tunnel() {
            closeFd(client);
            closeFd(backend);
        }
    };

    // Opens a tunnel through the proxy: upgrade request, backend's 101 (plus extra bytes
    // in the same send), client reads the 101 head.
    static bool open(Tunnel &t, quint16 proxyPort, int backendListen, const QByteArray &behind101 = {},
                     const QByteArray &behindRequest = {}) {
        t.client = tcpConnect(QHostAddress::LocalHost, proxyPort);
        if (t.client < 0 || !sendAll(t.client, kUpgradeRequest + behindRequest))
            return false;
        t.backend = acceptWithin(backendListen, 5000);
        if (t.backend < 0)
            return false;
        t.backendSawHead = readHead(t.backend);
        if (!t.backendSawHead.startsWith("GET /tunnel HTTP/1.1\r\n"))
            return false;
        if (!sendAll(t.backend, k101 + behind101))
            return false;
        return readHead(t.client).startsWith("HTTP/1.1 101 ");
    }

    static Config config(int idleMs = 30'000) {
        Config c;
        c.relayBufferBytes = 256 * 1024;
        c.tunnelIdleTimeoutMs = idleMs;
        return c;
    }

    // A proxy whose project "raw" is routed to a raw TCP listener of the test's own.
    struct RawProject {
        explicit RawProject(int idleMs = 30'000) : proxy(config(idleMs)) {
            listenFd = tcpListen(QHostAddress::LocalHost, &backendPort);
            table = proxy.publish({{QStringLiteral("raw"), HttpProxyHarness::tcp(backendPort)}});
        }
        ~RawProject() { closeFd(listenFd); }
        HttpProxyHarness proxy;
        quint16 backendPort = 0;
        int listenFd = -1;
        std::shared_ptr<const RouteTable> table;
    };

    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase() {
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=false"));
        QVERIFY(m_dir.isValid());
    }

    // The client sends its request, half-closes, and still reads the backend's whole
    // answer, which the backend only starts after it has seen the client's EOF.
    void clientHalfCloseGetsAnswer_data() {
        QTest::addColumn<bool>("unixBackend");
        QTest::addColumn<int>("requestBytes");
        QTest::addColumn<int>("answerBytes");
        QTest::newRow("tcp, 64 KiB then 4 MiB") << false << 64 * 1024 << 4 * 1024 * 1024;
        QTest::newRow("tcp, 1 byte then 4 MiB") << false << 1 << 4 * 1024 * 1024;
        QTest::newRow("unix backend, 300 KiB then 4 MiB") << true << 300 * 1024 << 4 * 1024 * 1024;
    }
    void clientHalfCloseGetsAnswer() {
        QFETCH(bool, unixBackend);
        QFETCH(int, requestBytes);
        QFETCH(int, answerBytes);
        HttpProxyHarness proxy(config());
        quint16 backendPort = 0;
        BackendTarget target;
        int listenFd = -1;
        if (unixBackend) {
            const QString path = m_dir.filePath(QStringLiteral("backend.sock"));
            ::unlink(path.toLocal8Bit().constData());
            listenFd = unixListen(path);
            target.kind = BackendTarget::Kind::Unix;
            target.unixPath = path;
        } else {
            listenFd = tcpListen(QHostAddress::LocalHost, &backendPort);
            target = HttpProxyHarness::tcp(backendPort);
        }
        QVERIFY(listenFd >= 0);
        const auto table = proxy.publish({{QStringLiteral("raw"), target}});

        Tunnel t;
        QVERIFY(open(t, proxy.port(), listenFd));
        const QByteArray request = pattern(1, requestBytes);
        const QByteArray answer = pattern(2, answerBytes);

        // The backend reads until the client's EOF arrives, then answers and closes.
        QByteArray backendGot;
        bool backendEof = false;
        std::jthread backend([&] {
            backendGot = recvUntilEof(t.backend, 15000, &backendEof);
            if (backendEof)
                sendAll(t.backend, answer, 15000);
            ::shutdown(t.backend, SHUT_WR);
        });
        const bool sent = sendAll(t.client, request);
        ::shutdown(t.client, SHUT_WR);
        bool clientEof = false;
        const QByteArray got = recvUntilEof(t.client, 20000, &clientEof);
        backend.join();

        QVERIFY(sent);
        QVERIFY2(backendEof, "the client's half-close did not reach the backend");
        QCOMPARE(backendGot.size(), request.size());
        QCOMPARE(sha(backendGot), sha(request));
        QVERIFY(clientEof);
        QCOMPARE(got.size(), answer.size());
        QCOMPARE(sha(got), sha(answer));

        // Counters: the tunnel's bytes are on the ingress and project rows; the connection
        // is closed on both once the relay ends.
        const RouteCounters ingress = table->ingressStats->sum();
        const RouteCounters project = table->project(QStringLiteral("raw"))->ingressStats->sum();
        QVERIFY(ingress.bytesIn >= quint64(requestBytes + kUpgradeRequest.size()));
        QVERIFY(ingress.bytesOut >= quint64(answerBytes + k101.size()));
        QVERIFY(project.bytesIn >= quint64(requestBytes));
        QVERIFY(project.bytesOut >= quint64(answerBytes));
        QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(table->project(QStringLiteral("raw"))->ingressStats->sum().connectionsOpen,
                                  quint64(0), 5000);
        QCOMPARE(proxy.sessionCount(), 0);
        closeFd(listenFd);
    }

    // The client sends its Upgrade request and its data and half-closes at once, before
    // the 101 exists (`printf ... | nc -N`): it still gets the 101 and the whole answer,
    // and the backend gets the data and the EOF. A refused upgrade just ends.
    void clientHalfClosesBeforeThe101_data() {
        QTest::addColumn<bool>("accept");
        QTest::newRow("backend switches protocols") << true;
        QTest::newRow("backend refuses (404)") << false;
    }
    void clientHalfClosesBeforeThe101() {
        QFETCH(bool, accept);
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        Tunnel t;
        t.client = tcpConnect(QHostAddress::LocalHost, raw.proxy.port());
        QVERIFY(sendAll(t.client, kUpgradeRequest + "the question"));
        ::shutdown(t.client, SHUT_WR);
        t.backend = acceptWithin(raw.listenFd, 5000);
        QVERIFY(t.backend >= 0);
        QVERIFY(readHead(t.backend).startsWith("GET /tunnel "));
        // The client's FIN went out before the proxy even connected to the backend: the
        // proxy has read it (and Qt has closed its socket) before any answer exists.
        if (!accept) {
            QVERIFY(sendAll(t.backend, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"));
            bool eof = false;
            recvUntilEof(t.client, 5000, &eof); // the answer cannot be delivered: just the end
            QVERIFY(eof);
            QVERIFY(waitClosed(t.backend, 5000) >= 0);
        } else {
            const QByteArray answer = pattern(9, 1024 * 1024);
            QVERIFY(sendAll(t.backend, k101));
            bool eof = false;
            const QByteArray question = recvUntilEof(t.backend, 5000, &eof);
            QCOMPARE(question, QByteArray("the question"));
            QVERIFY(eof);
            std::jthread backend([&] {
                sendAll(t.backend, answer, 15000);
                ::shutdown(t.backend, SHUT_WR);
            });
            QVERIFY(readHead(t.client).startsWith("HTTP/1.1 101 "));
            const QByteArray got = recvUntilEof(t.client, 15000, &eof);
            QVERIFY(eof);
            QCOMPARE(sha(got), sha(answer));
        }
        closeFd(std::exchange(t.client, -1));
        closeFd(std::exchange(t.backend, -1));
        QTRY_COMPARE_WITH_TIMEOUT(raw.table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(
            raw.table->project(QStringLiteral("raw"))->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        QCOMPARE(raw.proxy.sessionCount(), 0);
    }

    // The backend says everything and half-closes; the client sees the EOF, keeps sending,
    // and the backend receives all of it.
    void backendHalfCloseClientKeepsSending_data() {
        QTest::addColumn<int>("backendBytes");
        QTest::addColumn<int>("clientBytes");
        QTest::newRow("small, then 2 MiB") << 100 << 2 * 1024 * 1024;
        QTest::newRow("1 MiB, then 1 byte") << 1024 * 1024 << 1;
    }
    void backendHalfCloseClientKeepsSending() {
        QFETCH(int, backendBytes);
        QFETCH(int, clientBytes);
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        Tunnel t;
        QVERIFY(open(t, raw.proxy.port(), raw.listenFd));

        const QByteArray fromBackend = pattern(3, backendBytes);
        const QByteArray fromClient = pattern(4, clientBytes);
        bool backendSent = false;
        std::jthread backend([&] {
            backendSent = sendAll(t.backend, fromBackend, 15000);
            ::shutdown(t.backend, SHUT_WR);
        });
        bool clientEof = false;
        const QByteArray got = recvUntilEof(t.client, 15000, &clientEof);
        backend.join();
        QVERIFY(backendSent);
        QVERIFY(clientEof);
        QCOMPARE(sha(got), sha(fromBackend));

        // After the backend's FIN, the other direction still flows.
        QByteArray backendGot;
        bool backendEof = false;
        std::jthread reader([&] { backendGot = recvUntilEof(t.backend, 15000, &backendEof); });
        const bool sent = sendAll(t.client, fromClient);
        ::shutdown(t.client, SHUT_WR);
        reader.join();
        QVERIFY(sent);
        QVERIFY(backendEof);
        QCOMPARE(backendGot.size(), fromClient.size());
        QCOMPARE(sha(backendGot), sha(fromClient));
    }

    // Bytes that travel in the same packet as a head are not lost at the handover: the
    // backend's right behind its 101, the client's right behind its request.
    void bytesBehindTheHeads_data() {
        QTest::addColumn<int>("behind101");
        QTest::addColumn<int>("behindRequest");
        QTest::newRow("backend 16 bytes") << 16 << 0;
        QTest::newRow("backend 200 KiB (more than one read)") << 200 * 1024 << 0;
        QTest::newRow("client 16 bytes") << 0 << 16;
        QTest::newRow("both") << 1000 << 1000;
    }
    void bytesBehindTheHeads() {
        QFETCH(int, behind101);
        QFETCH(int, behindRequest);
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        const QByteArray early = pattern(5, behind101);
        const QByteArray eager = pattern(6, behindRequest);
        Tunnel t;
        QVERIFY(open(t, raw.proxy.port(), raw.listenFd, early, eager));
        if (behind101 > 0)
            QCOMPARE(sha(recvExactly(t.client, behind101)), sha(early));
        if (behindRequest > 0)
            QCOMPARE(sha(recvExactly(t.backend, behindRequest)), sha(eager));
        // ... and the tunnel carries on, in order, both ways.
        QVERIFY(sendAll(t.client, "ping"));
        QCOMPARE(recvExactly(t.backend, 4), QByteArray("ping"));
        QVERIFY(sendAll(t.backend, "pong"));
        QCOMPARE(recvExactly(t.client, 4), QByteArray("pong"));
    }

    // One side goes away completely (close, not half-close) right after the handover:
    // what it sent still reaches the other side, which then sees the end; when that one
    // closes too, the relay ends and the counters are balanced.
    void peerClosesAtOnce_data() {
        QTest::addColumn<bool>("backendCloses");
        QTest::newRow("backend: 101 + bytes, close") << true;
        QTest::newRow("client: bytes, close") << false;
    }
    void peerClosesAtOnce() {
        QFETCH(bool, backendCloses);
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        Tunnel t;
        const QByteArray last = "last words before the close";
        if (backendCloses) {
            t.client = tcpConnect(QHostAddress::LocalHost, raw.proxy.port());
            QVERIFY(sendAll(t.client, kUpgradeRequest));
            t.backend = acceptWithin(raw.listenFd, 5000);
            QVERIFY(readHead(t.backend).startsWith("GET /tunnel "));
            QVERIFY(sendAll(t.backend, k101 + last));
            closeFd(std::exchange(t.backend, -1));
            QVERIFY(readHead(t.client).startsWith("HTTP/1.1 101 "));
            bool eof = false;
            QCOMPARE(recvUntilEof(t.client, 5000, &eof), last);
            QVERIFY(eof);
            // A FIN may be a half-close: the tunnel ends when the client closes too.
            closeFd(std::exchange(t.client, -1));
        } else {
            QVERIFY(open(t, raw.proxy.port(), raw.listenFd));
            QVERIFY(sendAll(t.client, last));
            closeFd(std::exchange(t.client, -1));
            bool eof = false;
            QCOMPARE(recvUntilEof(t.backend, 5000, &eof), last);
            QVERIFY(eof);
            closeFd(std::exchange(t.backend, -1));
        }
        QTRY_COMPARE_WITH_TIMEOUT(raw.table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(
            raw.table->project(QStringLiteral("raw"))->ingressStats->sum().connectionsOpen, quint64(0), 5000);
    }

    // A keep-alive exchange, then a pipelined upgrade on the same client connection:
    // the earlier answer, the 101 head, the backend's first bytes and the client's
    // early bytes all arrive whole and in order across the handover.
    void pipelinedRequestThenUpgrade_data() {
        QTest::addColumn<bool>("stallClient");
        QTest::newRow("client reads on") << false;
        QTest::newRow("client stalls while the upgrade is dispatched") << true;
    }
    void pipelinedRequestThenUpgrade() {
        QFETCH(bool, stallClient);
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        // Stalled row: the proxy's client-side socket gets a small, fixed send buffer
        // (inherited from the listening socket) and the client a small window, so what
        // the proxy writes while the client does not read stays in the proxy's socket.
        quint16 stallPort = 0;
        const int stallListen = tcpListen(QHostAddress::LocalHost, &stallPort);
        const int sndbuf = 4096;
        ::setsockopt(stallListen, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        const Config cfg = config();
        auto ctx = std::make_shared<HttpListenerContext>();
        ctx->config = &cfg;
        ctx->routes = &raw.proxy.routes();
        ListenerThread stallListener(ctx, stallListen);
        QVERIFY(stallListener.started());
        std::atomic<bool> sent101{false};
        const QByteArray body = pattern(8, 2 * 1024 * 1024);
        int plain = -1;
        int upgraded = -1;
        QByteArray plainHead, upgradeHead, early, ping;
        bool backendOk = false;
        std::jthread backend([&] {
            plain = acceptWithin(raw.listenFd, 5000);
            plainHead = readHead(plain);
            if (!sendAll(plain,
                         "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) +
                             "\r\n\r\n" + body,
                         15000))
                return;
            upgraded = acceptWithin(raw.listenFd, 5000); // upgrades never use pooled connections
            upgradeHead = readHead(upgraded);
            if (!sendAll(upgraded, k101 + "hi"))
                return;
            sent101 = true;
            early = recvExactly(upgraded, 5);
            ping = recvExactly(upgraded, 4);
            backendOk = sendAll(upgraded, "pong");
        });
        const int client = stallClient ? smallWindowConnect(stallPort)
                                       : tcpConnect(QHostAddress::LocalHost, raw.proxy.port());
        const bool sent = client >= 0 && sendAll(client, "GET /raw/file HTTP/1.1\r\nHost: t\r\n\r\n" +
                                                             kUpgradeRequest + "early");
        const QByteArray head200 = readHead(client);
        QByteArray got;
        if (stallClient) {
            // Read the answer until 192 KiB are left, then stop: the proxy can hold that
            // much (its bound is 256 KiB), so it reads the whole answer from the backend,
            // dispatches the upgrade and gets the 101 while the client reads nothing, and
            // the 101 head queues behind the unread rest of the answer. (Stopping when the
            // backend accepted the upgrade raced that thread under load.)
            const qsizetype left = 192 * 1024;
            while (body.size() - got.size() > left)
                got += recvExactly(client, qMin<qsizetype>(4096, body.size() - got.size() - left));
            QTRY_VERIFY_WITH_TIMEOUT(sent101.load(), 5000);
            // The proxy has written the 101 head (its bytes are counted when queued) ...
            const auto project = raw.proxy.routes().current()->project(QStringLiteral("raw"))->ingressStats;
            QTRY_VERIFY_WITH_TIMEOUT(project->sum().bytesOut > quint64(head200.size() + body.size()), 5000);
            // ... behind far more unread answer (192 KiB) than the kernel path holds (4 KiB
            // send buffer, 4 KiB window): it waited in the proxy, and the handover had to
            // wait for it; what the client reads next must be the answer's rest, then the 101.
        }
        got += recvExactly(client, body.size() - got.size(), 15000);
        const QByteArray head101 = readHead(client);
        const QByteArray hi = recvExactly(client, 2);
        const bool pinged = sendAll(client, "ping");
        const QByteArray pong = recvExactly(client, 4);
        backend.join();
        closeFd(client);
        closeFd(plain);
        closeFd(upgraded);
        QVERIFY(sent && pinged);
        QVERIFY(plainHead.startsWith("GET /file HTTP/1.1"));
        QVERIFY(head200.startsWith("HTTP/1.1 200 "));
        QCOMPARE(sha(got), sha(body));
        QVERIFY(upgradeHead.startsWith("GET /tunnel HTTP/1.1"));
        QVERIFY(head101.startsWith("HTTP/1.1 101 "));
        QCOMPARE(hi, QByteArray("hi"));
        QCOMPARE(early, QByteArray("early"));
        QCOMPARE(ping, QByteArray("ping"));
        QVERIFY(backendOk);
        QCOMPARE(pong, QByteArray("pong"));
    }

    // A client that does not read: the backend is pushed back at a bound instead of the
    // daemon buffering the stream; everything it got out arrives intact later.
    void slowReaderPushesBack() {
        RawProject raw;
        QVERIFY(raw.listenFd >= 0);
        Tunnel t;
        QVERIFY(open(t, raw.proxy.port(), raw.listenFd));

        constexpr qint64 ceiling = 128LL * 1024 * 1024;
        QCryptographicHash sent(QCryptographicHash::Sha256);
        const qint64 written = sendUntilPushedBack(t.backend, 7, ceiling, &sent, 15000);
        qInfo("backend stalled after %lld KiB with the client not reading", written / 1024);
        QVERIFY2(written < 64LL * 1024 * 1024, "the tunnel kept accepting data nobody read");
        ::shutdown(t.backend, SHUT_WR);
        bool eof = false;
        const QByteArray got = recvUntilEof(t.client, 20000, &eof);
        QVERIFY(eof);
        QCOMPARE(qint64(got.size()), written);
        QCOMPARE(QCryptographicHash::hash(got, QCryptographicHash::Sha256), sent.result());
    }

    // No byte either way for tunnelIdleTimeoutMs closes both connections; traffic keeps
    // the tunnel open past it.
    void idleTimeoutCloses() {
        RawProject raw(600);
        QVERIFY(raw.listenFd >= 0);
        Tunnel t;
        QVERIFY(open(t, raw.proxy.port(), raw.listenFd));
        // 5 x 300 ms of traffic, each pause a window that must see nothing: longer in all
        // than the 600 ms timeout, so traffic kept the tunnel open.
        for (int i = 0; i < 5; ++i) {
            QVERIFY(sendAll(t.client, "x"));
            QCOMPARE(recvExactly(t.backend, 1), QByteArray("x"));
            pollfd p{t.client, POLLIN, 0};
            QCOMPARE(::poll(&p, 1, 300), 0);
        }
        // Then silence closes it, without a byte sent either way.
        QVERIFY2(waitClosed(t.client, 5000) == 0, "the idle tunnel was not closed (or sent data)");
        QVERIFY(waitClosed(t.backend, 5000) >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(raw.table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
    }

    // Under a real TcpListener, the tunnel still counts as the listener's connection after
    // the session has handed it to a relay: connectionCount() and the port's live count
    // hold it, a drain (stopAccepting) lets it run, and allClosed() comes when it ends.
    // Deleting the listener ends a tunnel that is still open.
    void listenerCountsTheTunnel() {
        HttpProxyHarness tables(config()); // only for its routing table holder
        quint16 backendPort = 0;
        const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
        QVERIFY(backendListen >= 0);
        const auto table = tables.publish({{QStringLiteral("raw"), HttpProxyHarness::tcp(backendPort)}});
        const Config cfg = config();
        auto ctx = std::make_shared<HttpListenerContext>();
        ctx->config = &cfg;
        ctx->routes = &tables.routes();

        {
            quint16 port = 0;
            ListenerThread listener(ctx, tcpListen(QHostAddress::LocalHost, &port));
            QVERIFY(listener.started());
            Tunnel t;
            QVERIFY(open(t, port, backendListen));
            QVERIFY(sendAll(t.client, "ping"));
            QCOMPARE(recvExactly(t.backend, 4), QByteArray("ping"));
            QTRY_COMPARE_WITH_TIMEOUT(listener.counts(), std::pair(1, 0), 5000); // a relay, no session
            QCOMPARE(listener.live(), 1);
            listener.stopAccepting();
            QVERIFY(sendAll(t.backend, "pong"));
            QCOMPARE(recvExactly(t.client, 4), QByteArray("pong"));
            QCOMPARE(listener.allClosed(), 0);
            ::shutdown(t.client, SHUT_WR);
            QVERIFY(waitClosed(t.backend, 5000) >= 0); // the client's FIN arrived
            QVERIFY(sendAll(t.backend, "last words"));
            ::shutdown(t.backend, SHUT_WR);
            bool eof = false;
            QCOMPARE(recvUntilEof(t.client, 5000, &eof), QByteArray("last words"));
            QVERIFY(eof);
            QTRY_COMPARE_WITH_TIMEOUT(listener.allClosed(), 1, 5000);
            QCOMPARE(listener.counts(), std::pair(0, 0));
            QCOMPARE(listener.live(), 0);
            QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        }
        {
            // A tunnel still open when its listener goes is closed with it.
            quint16 port = 0;
            ListenerThread listener(ctx, tcpListen(QHostAddress::LocalHost, &port));
            QVERIFY(listener.started());
            Tunnel t;
            QVERIFY(open(t, port, backendListen));
            QVERIFY(sendAll(t.client, "ping"));
            QCOMPARE(recvExactly(t.backend, 4), QByteArray("ping"));
            QTRY_COMPARE_WITH_TIMEOUT(listener.counts(), std::pair(1, 0), 5000);
            listener.destroyListener();
            QVERIFY(waitClosed(t.client, 5000) >= 0);
            QVERIFY(waitClosed(t.backend, 5000) >= 0);
            QCOMPARE(listener.live(), 0);
            QTRY_COMPARE_WITH_TIMEOUT(table->ingressStats->sum().connectionsOpen, quint64(0), 5000);
            QTRY_COMPARE_WITH_TIMEOUT(
                table->project(QStringLiteral("raw"))->ingressStats->sum().connectionsOpen, quint64(0), 5000);
        }
        closeFd(backendListen);
    }
};

QTEST_GUILESS_MAIN(TestTunnel)
#include "tst_tunnel.moc"

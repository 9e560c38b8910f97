#pragma once

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QSet>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

class QCryptographicHash;
class QThread;

// Helpers for the relay tests: plain blocking sockets with bounded waits (the code under
// test runs in worker threads, so the test thread may block), and small backends that run
// in their own threads.
namespace portico::test {

// A listening TCP socket on address:port (0: the OS picks; *port tells). -1 on failure.
int tcpListen(const QHostAddress &address, quint16 *port, int backlog = 128);
// Connects (blocking, bounded). -1 on failure or timeout.
int tcpConnect(const QHostAddress &address, quint16 port, int timeoutMs = 5000);
// Accepts one connection within timeoutMs, or -1.
int acceptWithin(int listenFd, int timeoutMs);
bool sendAll(int fd, const QByteArray &data, int timeoutMs = 10000);
// Reads exactly n bytes (fewer if EOF / error / timeout comes first).
QByteArray recvExactly(int fd, qsizetype n, int timeoutMs = 10000);
// Reads until EOF; *eof tells whether EOF (or a reset) came before the timeout.
QByteArray recvUntilEof(int fd, int timeoutMs, bool *eof, qsizetype max = 64 * 1024 * 1024);
// Waits for EOF or a reset without data: 0 when it came, -1 on timeout, -2 if data arrived
// instead. (No duration: tests bound waits, they do not time them.)
qint64 waitClosed(int fd, int timeoutMs);
void closeFd(int fd);

// A parsed PROXY protocol header (v1 text or v2 binary), read off a socket byte by byte up
// to its exact end so that the data after it stays in the socket.
struct ProxyHeader {
    int version = 0;
    bool unknown = false; // "PROXY UNKNOWN" / AF_UNSPEC / LOCAL
    QHostAddress source;
    QHostAddress destination;
    quint16 sourcePort = 0;
    quint16 destinationPort = 0;
};
std::optional<ProxyHeader> readProxyHeader(int fd, int timeoutMs = 5000, QString *error = nullptr);

// Deterministic bulk data: 1 MiB of pseudo-random bytes, each chunk stamped with its index
// so that a lost, repeated or reordered chunk changes the checksum.
class ChunkSource {
public:
    explicit ChunkSource(quint64 seed);
    // Fills the chunk with index i (size <= 1 MiB).
    QByteArray chunk(quint64 index, qsizetype size) const;

private:
    QByteArray m_block;
};

// Writes ChunkSource(seed) chunks to fd without blocking until a write stalls for half a
// second (pushed back), ceiling bytes are out or budgetMs (-1: no limit) have passed.
// Returns the bytes written; *sent hashes exactly those.
qint64 sendUntilPushedBack(int fd, quint64 seed, qint64 ceiling, QCryptographicHash *sent, int budgetMs = -1);

// A TCP echo backend in its own thread (Qt event loop), on 127.0.0.1, port from the OS.
class EchoServer {
public:
    EchoServer();
    ~EchoServer();
    quint16 port() const { return m_port; }
    int accepted() const { return m_accepted.load(); }

private:
    std::unique_ptr<QThread> m_thread;
    QObject *m_root = nullptr;
    quint16 m_port = 0;
    std::atomic<int> m_accepted{0};
};

// A UDP echo backend in its own thread (std::thread, poll); remembers which source
// addresses (the relay's per-session sockets) it heard from.
class UdpEchoServer {
public:
    explicit UdpEchoServer(const QHostAddress &address = QHostAddress(QHostAddress::LocalHost),
                           quint16 port = 0);
    ~UdpEchoServer();
    bool isValid() const { return m_fd >= 0; }
    quint16 port() const { return m_port; }
    QSet<quint16> sourcePorts() const;
    // The source port the last datagram with exactly this payload came from (0: none).
    quint16 sourceOf(const QByteArray &payload) const;
    int datagrams() const { return m_datagrams.load(); }

private:
    void run();
    int m_fd = -1;
    int m_wake[2] = {-1, -1};
    quint16 m_port = 0;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    QSet<quint16> m_sources;
    QHash<QByteArray, quint16> m_sourceOf;
    std::atomic<int> m_datagrams{0};
};

} // namespace portico::test

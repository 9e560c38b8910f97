// tcpbench: a bounded loopback TCP throughput probe for tests/bench (plain POSIX, no Qt, so
// the probe costs as little CPU as possible and measures the relay, not itself).
//
//   tcpbench server PORT MAX_SECONDS
//       Listens on 127.0.0.1:PORT (thread per connection, at most kMaxConnections at once)
//       and exits after MAX_SECONDS. Each connection sends a 9-byte header: one byte mode
//       ('U' or 'D') and a big-endian uint64 size.
//         'U': the server reads exactly size bytes, then answers 8 bytes (the count read).
//         'D': the server writes size bytes, then closes.
//   tcpbench client HOST PORT MODE TOTAL_BYTES STREAMS TIMEOUT_SECONDS
//       Runs STREAMS connections at once, each moving TOTAL_BYTES/STREAMS in MODE, and
//       prints one line: "bytes=N seconds=S mib_per_s=R". Exit 1 on any error, short
//       transfer or timeout (every socket has SO_RCVTIMEO/SO_SNDTIMEO and the whole run a
//       deadline), so a stalled relay never hangs the benchmark.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kChunk = 256 * 1024;
constexpr int kMaxConnections = 256;
constexpr int kMaxStreams = 64;
constexpr uint64_t kMaxBytes = uint64_t(64) << 30; // 64 GiB: far above any sane run

using Clock = std::chrono::steady_clock;

std::atomic<int> g_active{0};

bool writeAll(int fd, const char *p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

bool readExact(int fd, char *p, size_t n) {
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= size_t(r);
    }
    return true;
}

void setTimeouts(int fd, int seconds) {
    timeval tv{};
    tv.tv_sec = seconds;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

uint64_t getU64(const char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | uint8_t(p[i]);
    return v;
}

void putU64(char *p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = char(v & 0xff);
        v >>= 8;
    }
}

// Moves `size` bytes in direction `mode` on a connected socket; `server` flips the roles.
bool transfer(int fd, char mode, uint64_t size, bool server, std::vector<char> &buf) {
    const bool sending = (mode == 'U') != server;
    uint64_t left = size;
    while (left > 0) {
        const size_t n = size_t(std::min<uint64_t>(left, buf.size()));
        if (sending) {
            if (!writeAll(fd, buf.data(), n))
                return false;
            left -= n;
        } else {
            const ssize_t r = ::recv(fd, buf.data(), n, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
            left -= uint64_t(r);
        }
    }
    return true;
}

void serveOne(int fd) {
    setTimeouts(fd, 30);
    std::vector<char> buf(kChunk, 'x');
    char hdr[9];
    if (readExact(fd, hdr, sizeof hdr) && (hdr[0] == 'U' || hdr[0] == 'D')) {
        const uint64_t size = getU64(hdr + 1);
        if (size <= kMaxBytes && transfer(fd, hdr[0], size, true, buf) && hdr[0] == 'U') {
            char ack[8];
            putU64(ack, size);
            writeAll(fd, ack, sizeof ack);
        }
    }
    ::close(fd);
    --g_active;
}

int runServer(int port, int maxSeconds) {
    const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(ls, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(ls, 128) != 0) {
        std::perror("tcpbench server: bind/listen");
        return 1;
    }
    // accept() wakes at least once a second so the deadline holds with no client at all.
    setTimeouts(ls, 1);
    const auto deadline = Clock::now() + std::chrono::seconds(maxSeconds);
    while (Clock::now() < deadline) {
        const int fd = ::accept(ls, nullptr, nullptr);
        if (fd < 0)
            continue;
        if (g_active.load() >= kMaxConnections) {
            ::close(fd);
            continue;
        }
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ++g_active;
        std::thread(serveOne, fd).detach();
    }
    return 0;
}

int runClient(const char *host, int port, char mode, uint64_t total, int streams, int timeout) {
    std::atomic<bool> failed{false};
    std::atomic<uint64_t> moved{0};
    const uint64_t each = total / uint64_t(streams);
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < streams; ++i) {
        threads.emplace_back([&] {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            setTimeouts(fd, timeout);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(uint16_t(port));
            ::inet_pton(AF_INET, host, &a.sin_addr);
            std::vector<char> buf(kChunk, 'y');
            char hdr[9];
            hdr[0] = mode;
            putU64(hdr + 1, each);
            bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
                      writeAll(fd, hdr, sizeof hdr) && transfer(fd, mode, each, false, buf);
            if (ok && mode == 'U') {
                char ack[8];
                ok = readExact(fd, ack, sizeof ack) && getU64(ack) == each;
            }
            ::close(fd);
            if (ok)
                moved += each;
            else
                failed = true;
        });
    }
    for (auto &t : threads)
        t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (failed || secs > timeout) {
        std::fprintf(stderr, "tcpbench client: transfer failed or timed out (%.1f s, %llu of %llu bytes)\n",
                     secs, static_cast<unsigned long long>(moved.load()),
                     static_cast<unsigned long long>(each * uint64_t(streams)));
        return 1;
    }
    std::printf("bytes=%llu seconds=%.4f mib_per_s=%.1f\n", static_cast<unsigned long long>(moved.load()),
                secs, double(moved.load()) / (1024.0 * 1024.0) / secs);
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc == 4 && std::strcmp(argv[1], "server") == 0)
        return runServer(std::atoi(argv[2]), std::atoi(argv[3]));
    if (argc == 8 && std::strcmp(argv[1], "client") == 0) {
        const char mode = argv[4][0];
        const uint64_t total = std::strtoull(argv[5], nullptr, 10);
        const int streams = std::atoi(argv[6]);
        const int timeout = std::atoi(argv[7]);
        if ((mode != 'U' && mode != 'D') || total == 0 || total > kMaxBytes || streams < 1 ||
            streams > kMaxStreams || timeout < 1) {
            std::fprintf(stderr, "tcpbench client: bad arguments\n");
            return 2;
        }
        return runClient(argv[2], std::atoi(argv[3]), mode, total, streams, timeout);
    }
    std::fprintf(stderr, "usage: tcpbench server PORT MAX_SECONDS\n"
                         "       tcpbench client HOST PORT U|D TOTAL_BYTES STREAMS TIMEOUT_SECONDS\n");
    return 2;
}

// httpload: the connection-count and tunnel probes of tests/bench (plain POSIX, no Qt).
// Every socket has a timeout and every mode a deadline, so a broken proxy ends the run
// with an error instead of hanging it.
//
//   httpload idle HOST PORT PATH N TIMEOUT
//       Opens N keep-alive connections, sends one GET on each and reads each answer whole
//       (Content-Length), then prints "ready N" and holds them open until stdin closes;
//       then closes them and exits. (The caller measures the proxy's memory meanwhile.)
//   httpload burst HOST PORT PATH N TIMEOUT
//       N connections at once, one GET each with Connection: close, each read to EOF.
//       Prints "ok=N failed=M seconds=S".
//   httpload ws HOST PORT PATH TOTAL_BYTES TIMEOUT
//       Upgrades one connection (GET with Upgrade: websocket), then streams TOTAL_BYTES
//       through it while reading the echo back; prints "bytes=N seconds=S mib_per_s=R".
//   httpload wsecho PORT MAX_SECONDS
//       The tunnel's origin: answers any request head with 101 and echoes every byte
//       after it (thread per connection, at most 256), half-closing when the client does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
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

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const char *what) {
    std::fprintf(stderr, "httpload: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

sockaddr_in address(const char *host, int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    if (::inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        std::fprintf(stderr, "httpload: %s is not an IPv4 address\n", host);
        std::exit(2);
    }
    return a;
}

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// One client connection of the idle and burst modes, driven by epoll.
struct Conn {
    int fd = -1;
    std::string out;
    size_t sent = 0;
    std::string in;
    long long need = -1; // body bytes still expected (idle mode), -1: head not complete
    bool done = false;
    bool failed = false;
};

// Opens n non-blocking connections, at most `window` of them waiting for their answer at a
// time, and runs them until each is done (answer read: idle mode keeps the socket open;
// burst mode reads to EOF). Returns how many failed.
int runMany(const sockaddr_in &to, const std::string &request, int n, bool untilEof, int timeoutSeconds,
            std::vector<Conn> &conns, int window = 1 << 30) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    conns.assign(size_t(n), Conn{});
    int opened = 0;
    const auto open = [&] {
        const int i = opened++;
        Conn &c = conns[size_t(i)];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0)
            fail("socket (raise the descriptor limit)");
        if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0 && errno != EINPROGRESS)
            fail("connect");
        c.out = request;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u32 = uint32_t(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    };
    while (opened < std::min(n, window))
        open();
    int remaining = n;
    int failed = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(timeoutSeconds);
    std::vector<epoll_event> events(1024);
    char buf[65536];
    while (remaining > 0) {
        if (Clock::now() > deadline) {
            std::fprintf(stderr, "httpload: %d connections unanswered at the deadline\n", remaining);
            return failed + remaining;
        }
        const int k = ::epoll_wait(ep, events.data(), int(events.size()), 200);
        for (int e = 0; e < k; ++e) {
            Conn &c = conns[events[size_t(e)].data.u32];
            if (c.done)
                continue;
            if (c.sent < c.out.size()) {
                const ssize_t w = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
                if (w > 0)
                    c.sent += size_t(w);
                else if (w < 0 && errno != EAGAIN && errno != ENOTCONN) {
                    c.done = c.failed = true;
                }
            }
            for (;;) {
                const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
                if (r > 0) {
                    if (c.need >= 0)
                        c.need -= r; // body bytes after the head: only counted
                    else if (c.in.size() < 64 * 1024)
                        c.in.append(buf, size_t(r));
                    continue;
                }
                if (r == 0) {
                    c.done = true;
                    c.failed = !untilEof || c.in.compare(0, 12, "HTTP/1.1 200") != 0;
                } else if (errno != EAGAIN) {
                    c.done = c.failed = true;
                }
                break;
            }
            if (!c.done && !untilEof) {
                if (c.need < 0) {
                    const size_t end = c.in.find("\r\n\r\n");
                    if (end != std::string::npos) {
                        const size_t cl = c.in.find("Content-Length: ");
                        c.need = cl == std::string::npos ? 0 : std::atoll(c.in.c_str() + cl + 16);
                        c.need -= (long long)(c.in.size() - end - 4);
                        c.failed = c.in.compare(0, 12, "HTTP/1.1 200") != 0;
                    }
                }
                if (c.need == 0)
                    c.done = true;
                if (c.done)
                    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            }
            if (c.done) {
                --remaining;
                failed += c.failed ? 1 : 0;
                c.in.clear();
                c.in.shrink_to_fit();
                if (opened < n)
                    open();
            }
        }
    }
    ::close(ep);
    return failed;
}

int idle(int argc, char **argv) {
    if (argc != 7)
        return 2;
    const sockaddr_in to = address(argv[2], std::atoi(argv[3]));
    const std::string request = std::string("GET ") + argv[4] + " HTTP/1.1\r\nHost: bench\r\n\r\n";
    const int n = std::atoi(argv[5]);
    std::vector<Conn> conns;
    // Opened 500 at a time: each request needs a backend connection while it is answered,
    // and 10,000 at once would need 20,000 descriptors in the proxy. What is measured is
    // the connections held afterwards.
    const int failed = runMany(to, request, n, false, std::atoi(argv[6]), conns, 500);
    if (failed) {
        std::fprintf(stderr, "httpload: %d of %d answers missing or not 200\n", failed, n);
        return 1;
    }
    std::printf("ready %d\n", n);
    std::fflush(stdout);
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    for (Conn &x : conns)
        ::close(x.fd);
    return 0;
}

int burst(int argc, char **argv) {
    if (argc != 7)
        return 2;
    const sockaddr_in to = address(argv[2], std::atoi(argv[3]));
    const std::string request =
        std::string("GET ") + argv[4] + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    const int n = std::atoi(argv[5]);
    std::vector<Conn> conns;
    const auto t0 = Clock::now();
    const int failed = runMany(to, request, n, true, std::atoi(argv[6]), conns);
    const double s = secondsSince(t0);
    for (Conn &x : conns)
        ::close(x.fd);
    std::printf("ok=%d failed=%d seconds=%.3f\n", n - failed, failed, s);
    return failed ? 1 : 0;
}

int ws(int argc, char **argv) {
    if (argc != 7)
        return 2;
    const sockaddr_in to = address(argv[2], std::atoi(argv[3]));
    const long long total = std::atoll(argv[5]);
    const int timeout = std::atoi(argv[6]);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{timeout, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0)
        fail("connect");
    const std::string up = std::string("GET ") + argv[4] +
                           " HTTP/1.1\r\nHost: bench\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    if (::send(fd, up.data(), up.size(), MSG_NOSIGNAL) != ssize_t(up.size()))
        fail("send upgrade");
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos) {
        if (::recv(fd, &c, 1, 0) != 1)
            fail("read 101");
        head += c;
    }
    if (head.compare(0, 12, "HTTP/1.1 101") != 0) {
        std::fprintf(stderr, "httpload: no 101: %s\n", head.c_str());
        return 1;
    }
    const auto t0 = Clock::now();
    std::atomic<bool> writerFailed{false};
    std::thread writer([&] {
        std::vector<char> buf(64 * 1024, 'w');
        long long left = total;
        while (left > 0) {
            const ssize_t w = ::send(fd, buf.data(), size_t(std::min<long long>(left, (long long)buf.size())),
                                     MSG_NOSIGNAL);
            if (w <= 0) {
                writerFailed = true;
                return;
            }
            left -= w;
        }
        // No half-close: nginx ends an upgraded connection at the first end of input from
        // either side, so the client reads every echoed byte before it closes, as a real
        // WebSocket client would before its closing handshake.
    });
    std::vector<char> buf(256 * 1024);
    long long got = 0;
    while (got < total) {
        const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
        if (r <= 0)
            break;
        got += r;
    }
    writer.join();
    const double s = secondsSince(t0);
    ::close(fd);
    if (writerFailed || got != total) {
        std::fprintf(stderr, "httpload: echoed %lld of %lld bytes\n", got, total);
        return 1;
    }
    std::printf("bytes=%lld seconds=%.3f mib_per_s=%.1f\n", got, s, double(got) / (1 << 20) / s);
    return 0;
}

void echoOne(int fd) {
    timeval tv{60, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string head;
    char buf[256 * 1024];
    size_t end = std::string::npos;
    while (end == std::string::npos) {
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r <= 0) {
            ::close(fd);
            return;
        }
        head.append(buf, size_t(r));
        end = head.find("\r\n\r\n");
    }
    static const char k101[] =
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    std::string first = k101 + head.substr(end + 4);
    bool ok = ::send(fd, first.data(), first.size(), MSG_NOSIGNAL) == ssize_t(first.size());
    while (ok) {
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        for (ssize_t off = 0; off < r;) {
            const ssize_t w = ::send(fd, buf + off, size_t(r - off), MSG_NOSIGNAL);
            if (w <= 0) {
                ok = false;
                break;
            }
            off += w;
        }
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

int wsecho(int argc, char **argv) {
    if (argc != 4)
        return 2;
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = address("127.0.0.1", std::atoi(argv[2]));
    if (::bind(lfd, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0 || ::listen(lfd, 256) != 0)
        fail("listen");
    const auto deadline = Clock::now() + std::chrono::seconds(std::atoi(argv[3]));
    static std::atomic<int> active{0};
    while (Clock::now() < deadline) {
        pollfd p{lfd, POLLIN, 0};
        if (::poll(&p, 1, 500) <= 0)
            continue;
        const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        if (active >= 256) {
            ::close(fd);
            continue;
        }
        ++active;
        std::thread([fd] {
            echoOne(fd);
            --active;
        }).detach();
    }
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    int rc = 2;
    if (mode == "idle")
        rc = idle(argc, argv);
    else if (mode == "burst")
        rc = burst(argc, argv);
    else if (mode == "ws")
        rc = ws(argc, argv);
    else if (mode == "wsecho")
        rc = wsecho(argc, argv);
    if (rc == 2)
        std::fprintf(stderr, "usage: see the comment at the top of tests/bench/httpload.cpp\n");
    return rc;
}

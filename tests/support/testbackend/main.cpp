// portico-testbackend: a small, real backend for Portico's tests (and for anyone who needs
// a process that behaves in a known way). It follows the process runtime's contract:
// listen on $HOST:$PORT (HOST defaults to 127.0.0.1). Tests find it through the
// TESTBACKEND_PATH compile definition of portico_testsupport.
//
//   portico-testbackend MODE [ARGS] [--name NAME] [--ignore-term] [--ignore-hup]
//
// Modes
//   http               HTTP/1.1 (keep-alive, Content-Length or chunked bodies):
//                        GET  /hello      -> "hello from NAME"
//                        GET  /env/VAR    -> value of VAR (404 when unset)
//                        GET  /pid        -> the process id
//                        GET  /cwd        -> the working directory
//                        GET  /headers    -> the request head as received
//                        GET  /bytes/N    -> N bytes of "0123456789abcdef" repeated, streamed
//                                            with backpressure (N <= 4 GiB)
//                        GET  /sleep/MS   -> "slept MS" after MS milliseconds (<= 60000)
//                        GET  /status/N   -> status N with a short body
//                        HEAD             -> the same heads, no body
//                        POST|PUT any     -> echoes the body
//                        anything else    -> 404
//                      Requests on one connection are answered in order (pipelining works).
//   tcp-echo           echoes every byte on each TCP connection
//   udp-echo           echoes every datagram to its sender
//   crash-after MS     like http, then exits with code 3 after MS milliseconds
//   exit-now CODE      prints a line on stderr and exits with CODE at once
//   no-listen          runs (and prints on stderr) but never listens
//   spawn-child        like http, and first starts a grandchild `sleep 600` (in the same
//                      process group), printing "child <pid>" on stdout
//   spawn-escaped      like http, and first starts a grandchild that escapes as a daemon
//                      does (fork, setsid, fork, the middle one exits), printing
//                      "escaped <pid>" on stdout; the grandchild then waits forever
// Every http mode also answers the probes of probes.h (/whoami, /environ, /try-*).
// Options
//   --name NAME        the NAME in "hello from NAME" (default: $NAME, else "testbackend")
//   --ignore-term      ignore SIGTERM (to test the SIGKILL after the stop grace period)
//   --ignore-hup       ignore SIGHUP (a terminal hangup does not end it; spawn-child's
//                      grandchild still gets the default dispositions)
//
// Every mode prints "testbackend MODE pid PID" on stderr at start, and
// "listening on HOST:PORT" on stdout once it listens.

#include "probes.h"

#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUdpSocket>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace {

QString g_name;
constexpr qint64 kMaxHead = 64 * 1024;
constexpr qint64 kMaxBody = 16 * 1024 * 1024;

void out(const QByteArray &line) {
    std::fprintf(stdout, "%s\n", line.constData());
    std::fflush(stdout);
}
void err(const QByteArray &line) {
    std::fprintf(stderr, "%s\n", line.constData());
    std::fflush(stderr);
}

QHostAddress listenHost() {
    const QByteArray h = qgetenv("HOST");
    return h.isEmpty() ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(QString::fromLatin1(h));
}

quint16 listenPort() {
    bool ok = false;
    const int p = qEnvironmentVariable("PORT").toInt(&ok);
    if (!ok || p <= 0 || p > 65535) {
        err("testbackend: PORT is not set to a valid port");
        ::_exit(2);
    }
    return quint16(p);
}

// One HTTP connection: parses requests incrementally and answers them in order.
class HttpConnection : public QObject {
public:
    explicit HttpConnection(QTcpSocket *socket) : QObject(socket), m_socket(socket) {
        QObject::connect(socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        QObject::connect(socket, &QTcpSocket::bytesWritten, this, [this] {
            if (m_toStream > 0)
                pump();
        });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    void onReadyRead() {
        m_buffer += m_socket->readAll();
        drain();
    }

    void drain() {
        while (!m_busy && parseOne()) {
        }
    }

    // A slow or streamed answer is over: go on with what was pipelined behind it.
    void finish() {
        m_busy = false;
        if (m_closeAfter)
            m_socket->disconnectFromHost();
        else
            drain();
    }

    void pump() {
        static const QByteArray chunk = QByteArray("0123456789abcdef").repeated(4096); // 64 KiB
        while (m_toStream > 0 && m_socket->bytesToWrite() < 256 * 1024) {
            const qint64 n = qMin<qint64>(m_toStream, chunk.size());
            m_socket->write(chunk.constData(), n);
            m_toStream -= n;
        }
        if (m_toStream == 0 && m_busy)
            finish();
    }

    // Returns true when a whole request was answered and more may follow.
    bool parseOne() {
        const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            if (m_buffer.size() > kMaxHead)
                respond(431, "head too large\n", false);
            return false;
        }
        const QByteArray head = m_buffer.left(headEnd);
        const QList<QByteArray> lines = head.split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        if (requestLine.size() != 3) {
            respond(400, "bad request line\n", false);
            return false;
        }
        const QByteArray method = requestLine[0];
        const QByteArray target = requestLine[1];
        qint64 contentLength = 0;
        bool chunked = false;
        bool close = requestLine[2] == "HTTP/1.0";
        for (int i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name == "content-length")
                contentLength = value.toLongLong();
            else if (name == "transfer-encoding" && value.toLower().contains("chunked"))
                chunked = true;
            else if (name == "connection")
                close = value.toLower() == "close" ? true : (value.toLower() == "keep-alive" ? false : close);
        }
        if (contentLength < 0 || contentLength > kMaxBody) {
            respond(413, "body too large\n", false);
            return false;
        }
        qsizetype consumed = headEnd + 4;
        QByteArray body;
        if (chunked) {
            qsizetype pos = consumed;
            for (;;) {
                const qsizetype lineEnd = m_buffer.indexOf("\r\n", pos);
                if (lineEnd < 0)
                    return false;
                bool ok = false;
                const qint64 size =
                    m_buffer.mid(pos, lineEnd - pos).split(';').value(0).trimmed().toLongLong(&ok, 16);
                if (!ok || size < 0 || body.size() + size > kMaxBody) {
                    respond(400, "bad chunk\n", false);
                    return false;
                }
                if (size == 0) {
                    const qsizetype trailerEnd = m_buffer.indexOf("\r\n", lineEnd + 2);
                    if (trailerEnd < 0)
                        return false;
                    consumed = trailerEnd + 2; // no trailers expected
                    break;
                }
                if (m_buffer.size() < lineEnd + 2 + size + 2)
                    return false;
                body += m_buffer.mid(lineEnd + 2, size);
                pos = lineEnd + 2 + size + 2;
            }
        } else {
            if (m_buffer.size() < consumed + contentLength)
                return false;
            body = m_buffer.mid(consumed, contentLength);
            consumed += contentLength;
        }
        m_buffer.remove(0, consumed);
        m_head = method == "HEAD";
        answer(method, target, head, body, close);
        return !close;
    }

    void answer(const QByteArray &method, const QByteArray &target, const QByteArray &head,
                const QByteArray &body, bool close) {
        if (method == "POST" || method == "PUT")
            return respond(200, body, close);
        if (method != "GET" && method != "HEAD")
            return respond(405, "method not allowed\n", close);
        if (target == "/hello")
            return respond(200, "hello from " + g_name.toUtf8(), close);
        if (target == "/pid")
            return respond(200, QByteArray::number(QCoreApplication::applicationPid()), close);
        if (target == "/cwd")
            return respond(200, QDir::currentPath().toUtf8(), close);
        if (target == "/headers")
            return respond(200, head, close);
        if (target.startsWith("/bytes/")) {
            bool ok = false;
            const qint64 n = target.mid(7).toLongLong(&ok);
            if (!ok || n < 0 || n > (qint64(4) << 30))
                return respond(400, "bad size\n", close);
            m_socket->write(statusHead(200, n, close));
            if (m_head || n == 0)
                return close ? m_socket->disconnectFromHost() : void();
            m_busy = true;
            m_closeAfter = close;
            m_toStream = n;
            return pump();
        }
        if (target.startsWith("/sleep/")) {
            bool ok = false;
            const int ms = target.mid(7).toInt(&ok);
            if (!ok || ms < 0 || ms > 60'000)
                return respond(400, "bad delay\n", close);
            m_busy = true;
            m_closeAfter = close;
            QTimer::singleShot(ms, this, [this, ms] {
                const bool c = m_closeAfter;
                m_closeAfter = false; // respond() below closes if asked
                respond(200, "slept " + QByteArray::number(ms), c);
                m_closeAfter = c;
                finish();
            });
            return;
        }
        if (target.startsWith("/status/")) {
            bool ok = false;
            const int code = target.mid(8).toInt(&ok);
            if (!ok || code < 100 || code > 999)
                return respond(400, "bad status\n", close);
            return respond(code, "status " + QByteArray::number(code) + '\n', close);
        }
        int probeStatus = 0;
        QByteArray probeBody;
        if (testbackend::answer(target, &probeStatus, &probeBody))
            return respond(probeStatus, probeBody, close);
        if (target.startsWith("/env/")) {
            const QByteArray name = target.mid(5);
            if (!qEnvironmentVariableIsSet(name.constData()))
                return respond(404, "unset\n", close);
            return respond(200, qgetenv(name.constData()), close);
        }
        respond(404, "not found\n", close);
    }

    static QByteArray statusHead(int status, qint64 length, bool close) {
        QByteArray r = "HTTP/1.1 " + QByteArray::number(status) + (status < 400 ? " OK" : " Error") + "\r\n";
        r += "Content-Type: text/plain\r\nContent-Length: " + QByteArray::number(length) + "\r\n";
        r += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
        return r;
    }

    void respond(int status, const QByteArray &body, bool close) {
        QByteArray r = statusHead(status, body.size(), close);
        if (!m_head)
            r += body;
        m_socket->write(r);
        if (close)
            m_socket->disconnectFromHost();
    }

    QTcpSocket *m_socket;
    QByteArray m_buffer;
    bool m_head = false;       // the request being answered is HEAD
    bool m_busy = false;       // a slow or streamed answer is in progress
    bool m_closeAfter = false; // close once it is done
    qint64 m_toStream = 0;
};

bool listenTcp(QTcpServer *server) {
    if (!server->listen(listenHost(), listenPort())) {
        err("testbackend: cannot listen: " + server->errorString().toUtf8());
        return false;
    }
    out("listening on " + listenHost().toString().toUtf8() + ':' + QByteArray::number(server->serverPort()));
    return true;
}

bool serveHttp(QTcpServer *server) {
    QObject::connect(server, &QTcpServer::newConnection, server, [server] {
        while (QTcpSocket *s = server->nextPendingConnection())
            new HttpConnection(s);
    });
    return listenTcp(server);
}

// A grandchild in a session of its own whose parent is gone: what a backend that
// daemonizes a helper leaves behind. Only async-signal-safe calls after fork().
bool spawnEscaped() {
    int fds[2];
    if (::pipe(fds) != 0)
        return false;
    const pid_t middle = ::fork();
    if (middle == 0) {
        ::close(fds[0]);
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            std::signal(SIGTERM, SIG_DFL);
            std::signal(SIGHUP, SIG_DFL);
            const pid_t self = ::getpid();
            ::write(fds[1], &self, sizeof self);
            ::close(fds[1]);
            for (;;)
                ::pause();
        }
        ::_exit(grandchild > 0 ? 0 : 1);
    }
    ::close(fds[1]);
    if (middle < 0) {
        ::close(fds[0]);
        return false;
    }
    pid_t escaped = 0;
    const bool ok = ::read(fds[0], &escaped, sizeof escaped) == sizeof escaped;
    ::close(fds[0]);
    int status = 0;
    ::waitpid(middle, &status, 0);
    if (!ok)
        return false;
    out("escaped " + QByteArray::number(escaped));
    return true;
}

// TCP echo and UDP echo on port, alive as long as the application.
bool echoOn(quint16 port) {
    auto *tcp = new QTcpServer(QCoreApplication::instance());
    QObject::connect(tcp, &QTcpServer::newConnection, tcp, [tcp] {
        while (QTcpSocket *s = tcp->nextPendingConnection()) {
            QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write("tcp:" + s->readAll()); });
            QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });
    auto *udp = new QUdpSocket(QCoreApplication::instance());
    if (!tcp->listen(listenHost(), port) || !udp->bind(listenHost(), port)) {
        err("testbackend: cannot listen on " + QByteArray::number(port));
        return false;
    }
    QObject::connect(udp, &QUdpSocket::readyRead, udp, [udp] {
        while (udp->hasPendingDatagrams()) {
            QHostAddress from;
            quint16 fromPort = 0;
            QByteArray d(int(qMax<qint64>(0, udp->pendingDatagramSize())), Qt::Uninitialized);
            const qint64 n = udp->readDatagram(d.data(), d.size(), &from, &fromPort);
            if (n >= 0)
                udp->writeDatagram("udp:" + d.left(n), from, fromPort);
        }
    });
    out("echo on " + QByteArray::number(port));
    return true;
}

// HTTP on PORT, and on every other port a PORT_<n> names, TCP and UDP echo (answers
// prefixed "tcp:"/"udp:", so a test sees which socket answered).
bool serveEveryPort(QTcpServer *http) {
    if (!serveHttp(http))
        return false;
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString &name : env.keys()) {
        if (!name.startsWith(QLatin1String("PORT_")))
            continue;
        const quint16 port = quint16(env.value(name).toUInt());
        if (port != listenPort() && !echoOn(port))
            return false;
    }
    return true;
}

int usage() {
    err("usage: portico-testbackend http|tcp-echo|udp-echo|every-port|crash-after MS|exit-now "
        "CODE|no-listen|spawn-child|spawn-escaped "
        "[--name NAME] [--ignore-term] [--ignore-hup]");
    return 64;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    g_name = qEnvironmentVariable("NAME", QStringLiteral("testbackend"));
    if (const qsizetype i = args.indexOf(QStringLiteral("--name")); i >= 0 && i + 1 < args.size()) {
        g_name = args.at(i + 1);
        args.remove(i, 2);
    }
    if (args.removeAll(QStringLiteral("--ignore-term")) > 0)
        std::signal(SIGTERM, SIG_IGN);
    if (args.removeAll(QStringLiteral("--ignore-hup")) > 0)
        std::signal(SIGHUP, SIG_IGN);
    if (args.isEmpty())
        return usage();
    const QString mode = args.takeFirst();
    err("testbackend " + mode.toUtf8() + " pid " + QByteArray::number(app.applicationPid()));

    QTcpServer tcp;
    QUdpSocket udp;
    if (mode == QLatin1String("http")) {
        if (!serveHttp(&tcp))
            return 1;
    } else if (mode == QLatin1String("tcp-echo")) {
        QObject::connect(&tcp, &QTcpServer::newConnection, &tcp, [&tcp] {
            while (QTcpSocket *s = tcp.nextPendingConnection()) {
                QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
                QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        if (!listenTcp(&tcp))
            return 1;
    } else if (mode == QLatin1String("udp-echo")) {
        if (!udp.bind(listenHost(), listenPort())) {
            err("testbackend: cannot bind udp: " + udp.errorString().toUtf8());
            return 1;
        }
        QObject::connect(&udp, &QUdpSocket::readyRead, &udp, [&udp] {
            while (udp.hasPendingDatagrams()) {
                QHostAddress from;
                quint16 port = 0;
                QByteArray d(int(qMax<qint64>(0, udp.pendingDatagramSize())), Qt::Uninitialized);
                const qint64 n = udp.readDatagram(d.data(), d.size(), &from, &port);
                if (n >= 0)
                    udp.writeDatagram(d.left(n), from, port);
            }
        });
        out("listening on udp " + listenHost().toString().toUtf8() + ':' +
            QByteArray::number(udp.localPort()));
    } else if (mode == QLatin1String("every-port")) {
        if (!serveEveryPort(&tcp))
            return 1;
    } else if (mode == QLatin1String("crash-after")) {
        bool ok = false;
        const int ms = args.value(0).toInt(&ok);
        if (!ok || ms < 0)
            return usage();
        if (!serveHttp(&tcp))
            return 1;
        QTimer::singleShot(ms, &app, [] {
            err("testbackend: crashing now");
            QCoreApplication::exit(3);
        });
    } else if (mode == QLatin1String("exit-now")) {
        bool ok = false;
        const int code = args.value(0).toInt(&ok);
        if (!ok)
            return usage();
        err("testbackend: exiting now with code " + QByteArray::number(code));
        return code;
    } else if (mode == QLatin1String("no-listen")) {
        err("testbackend: running but not listening on port " + qgetenv("PORT"));
    } else if (mode == QLatin1String("spawn-child")) {
        const pid_t child = ::fork();
        if (child == 0) {
            std::signal(SIGTERM, SIG_DFL);
            std::signal(SIGHUP, SIG_DFL);
            ::execlp("sleep", "sleep", "600", static_cast<char *>(nullptr));
            ::_exit(127);
        }
        if (child < 0) {
            err("testbackend: fork failed");
            return 1;
        }
        out("child " + QByteArray::number(child));
        if (!serveHttp(&tcp))
            return 1;
    } else if (mode == QLatin1String("spawn-escaped")) {
        if (!spawnEscaped())
            return 1;
        if (!serveHttp(&tcp))
            return 1;
    } else {
        return usage();
    }
    return app.exec();
}

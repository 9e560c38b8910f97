#pragma once

#include "contextthread.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QTemporaryDir>

#include <atomic>
#include <memory>

class QTcpServer;

namespace portico::test {

// Deterministic test bodies: a 1 MiB pseudo-random block repeated, so generators and
// checkers agree on a checksum without holding a whole body.
const QByteArray &httpPatternBlock();
QByteArray httpPatternSha256(qint64 size);

// A small HTTP/1.1 origin server for proxy tests, on 127.0.0.1:0 in its own thread.
// It reads request bodies incrementally (hashing, never collecting) and streams
// downloads with backpressure. Endpoints (query parameters in brackets):
//   any path [stall=ms]  stops reading the request body for ms after the head
//   /echo                JSON: method, target, headers [[name,value]...], body_length, body_sha256
//   /cookies             three Set-Cookie headers and an X-Order header between them
//   /redirect[to]        302 with Location: to (default /login)
//   /download[size,mode] size bytes of the pattern, mode=chunked|sized|close
//   /status[code]        an empty answer with that status (204, 304, ...)
//   /head                200 with Content-Length 1234 (no body for HEAD)
//   /slow                never answers
//   /continue            sends 100 Continue when asked, then like /echo
//   /delay[ms,id]        answers id after ms milliseconds
//   /close               answers and closes the connection (without saying so)
//   /arm-die             answers; the next request on this connection is met with a close
class HttpTestBackend {
public:
    HttpTestBackend();
    ~HttpTestBackend();
    HttpTestBackend(const HttpTestBackend &) = delete;
    HttpTestBackend &operator=(const HttpTestBackend &) = delete;

    quint16 port() const { return m_port; }
    QString unixPath() const { return m_unixPath; } // the same server on a Unix socket
    int connectionsAccepted() const { return m_accepted.load(); }
    int requestsServed() const { return m_requests.load(); }
    qint64 downloadBytes() const { return m_downloadBytes.load(); } // handed to sockets by /download

private:
    ContextThread m_worker;
    quint16 m_port = 0;
    QTemporaryDir m_dir;
    QString m_unixPath;
    std::atomic<int> m_accepted{0};
    std::atomic<int> m_requests{0};
    std::atomic<qint64> m_downloadBytes{0};
    friend class HttpBackendConnection;
};

} // namespace portico::test

#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QTcpSocket>

namespace portico::test {

struct HttpTestResponse {
    bool ok = false;
    QString error;
    int status = 0;
    QList<int> interim; // 1xx statuses seen before the final answer
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body; // when kept
    qint64 bodyLength = 0;
    QByteArray bodySha256; // hex
    bool chunked = false;

    QByteArray header(const QByteArray &name) const;
    QList<QByteArray> headerValues(const QByteArray &name) const;
    QList<QByteArray> headerNames() const;
};

// A blocking HTTP/1.1 client for tests (tests may block; the proxy runs in its own
// thread). Keeps its own read buffer so pipelined answers are read one at a time.
class HttpTestClient {
public:
    bool connectTo(quint16 port, int timeoutMs = 5000);
    bool send(const QByteArray &data, int timeoutMs = 10000);
    // Streams size bytes of httpPatternBlock(), raw or as chunks, never holding more than
    // a few MiB in the socket buffer.
    bool sendPattern(qint64 size, bool chunked, int timeoutMs = 60000);
    HttpTestResponse read(bool headRequest = false, int timeoutMs = 10000, bool keepBody = true);
    // True when the peer closes within timeoutMs (what it sent before is discarded).
    bool waitClosed(int timeoutMs);
    QTcpSocket &socket() { return m_s; }

private:
    bool fill(int timeoutMs);
    QTcpSocket m_s;
    QByteArray m_buf;
    bool m_closed = false;
};

} // namespace portico::test

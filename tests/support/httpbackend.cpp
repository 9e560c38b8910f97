#include "httpbackend.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>

#include <functional>

namespace portico::test {

const QByteArray &httpPatternBlock() {
    static const QByteArray block = [] {
        QByteArray b(1024 * 1024, Qt::Uninitialized);
        QRandomGenerator gen(20261126);
        gen.fillRange(reinterpret_cast<quint32 *>(b.data()), b.size() / 4);
        return b;
    }();
    return block;
}

QByteArray httpPatternSha256(qint64 size) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    const QByteArray &block = httpPatternBlock();
    for (qint64 done = 0; done < size;) {
        const qint64 n = std::min<qint64>(block.size(), size - done);
        h.addData(QByteArrayView(block.constData(), n));
        done += n;
    }
    return h.result().toHex();
}

class HttpBackendConnection final : public QObject {
public:
    HttpBackendConnection(QIODevice *s, std::function<void()> close, HttpTestBackend *owner)
        : QObject(s), m_s(s), m_close(std::move(close)), m_owner(owner) {
        connect(s, &QIODevice::readyRead, this, [this] { process(); });
        connect(s, &QIODevice::bytesWritten, this, [this] { pumpDownload(); });
    }

private:
    enum class State { Head, Body, Responding };
    enum class Chunk { Size, Data, DataEnd, Trailer };

    void process() {
        if (m_stalled)
            return; // bytes stay in the (bounded) socket buffer and the kernel
        m_buf += m_s->readAll();
        while (true) {
            if (m_state == State::Head) {
                const qsizetype end = m_buf.indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                parseHead(m_buf.left(end));
                m_buf.remove(0, end + 4);
                if (m_dieOnNext) {
                    // Like a backend whose keep-alive timer fired just as the request came in.
                    m_close();
                    m_state = State::Responding;
                    return;
                }
                m_state = State::Body;
                if (m_path == "/continue" && m_expect100)
                    m_s->write("HTTP/1.1 100 Continue\r\n\r\n");
                if (const int stall = m_query.queryItemValue("stall").toInt(); stall > 0) {
                    m_stalled = true;
                    QTimer::singleShot(stall, this, [this] {
                        m_stalled = false;
                        process();
                    });
                    return;
                }
            }
            if (m_state == State::Body) {
                if (!consumeBody())
                    return;
                m_state = State::Responding;
                respond();
            }
            if (m_state == State::Responding)
                return; // the next request is handled when this answer is done
        }
    }

    void parseHead(const QByteArray &head) {
        const QList<QByteArray> lines = head.split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        m_method = requestLine.value(0);
        m_target = requestLine.value(1);
        const qsizetype q = m_target.indexOf('?');
        m_path = q < 0 ? m_target : m_target.left(q);
        m_query = QUrlQuery(QString::fromUtf8(q < 0 ? QByteArray() : m_target.mid(q + 1)));
        m_headers.clear();
        m_contentLength = 0;
        m_chunked = false;
        m_expect100 = false;
        m_closeRequested = false;
        for (int i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon);
            const QByteArray value = line.mid(colon + 1).trimmed();
            m_headers.append({name, value});
            const QByteArray lower = name.toLower();
            if (lower == "content-length")
                m_contentLength = value.toLongLong();
            else if (lower == "transfer-encoding" && value.toLower() == "chunked")
                m_chunked = true;
            else if (lower == "expect" && value.toLower() == "100-continue")
                m_expect100 = true;
            else if (lower == "connection" && value.toLower() == "close")
                m_closeRequested = true;
        }
        m_hash.reset();
        m_bodyLength = 0;
        m_remaining = m_chunked ? 0 : m_contentLength;
        m_chunk = Chunk::Size;
    }

    void addBody(const char *data, qint64 n) {
        m_hash.addData(QByteArrayView(data, n));
        m_bodyLength += n;
    }

    // True when the whole body has been read.
    bool consumeBody() {
        if (!m_chunked) {
            const qint64 n = std::min<qint64>(m_remaining, m_buf.size());
            addBody(m_buf.constData(), n);
            m_buf.remove(0, n);
            m_remaining -= n;
            return m_remaining == 0;
        }
        while (true) {
            switch (m_chunk) {
            case Chunk::Size: {
                const qsizetype nl = m_buf.indexOf('\n');
                if (nl < 0)
                    return false;
                QByteArray line = m_buf.left(nl).trimmed();
                m_buf.remove(0, nl + 1);
                if (const qsizetype semi = line.indexOf(';'); semi >= 0)
                    line = line.left(semi);
                m_remaining = line.toLongLong(nullptr, 16);
                m_chunk = m_remaining == 0 ? Chunk::Trailer : Chunk::Data;
                break;
            }
            case Chunk::Data: {
                const qint64 n = std::min<qint64>(m_remaining, m_buf.size());
                addBody(m_buf.constData(), n);
                m_buf.remove(0, n);
                m_remaining -= n;
                if (m_remaining > 0)
                    return false;
                m_chunk = Chunk::DataEnd;
                break;
            }
            case Chunk::DataEnd: {
                const qsizetype nl = m_buf.indexOf('\n');
                if (nl < 0)
                    return false;
                m_buf.remove(0, nl + 1);
                m_chunk = Chunk::Size;
                break;
            }
            case Chunk::Trailer: {
                const qsizetype nl = m_buf.indexOf('\n');
                if (nl < 0)
                    return false;
                const bool empty = m_buf.left(nl).trimmed().isEmpty();
                m_buf.remove(0, nl + 1);
                if (empty)
                    return true;
                break;
            }
            }
        }
    }

    void send(int status, const QByteArray &reason, const QList<QPair<QByteArray, QByteArray>> &headers,
              const QByteArray &body, bool noBody = false) {
        QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n";
        for (const auto &[n, v] : headers)
            out += n + ": " + v + "\r\n";
        if (!noBody)
            out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        if (m_closeRequested)
            out += "Connection: close\r\n";
        out += "\r\n";
        if (!noBody && m_method != "HEAD")
            out += body;
        m_s->write(out);
        done();
    }

    void done() {
        m_owner->m_requests.fetch_add(1);
        if (m_closeRequested || m_silentClose) {
            m_close();
            return;
        }
        m_state = State::Head;
        QTimer::singleShot(0, this, [this] { process(); });
    }

    void respond() {
        const QByteArray json = "application/json";
        if (m_path == "/echo" || m_path == "/continue") {
            QJsonArray headers;
            for (const auto &[n, v] : std::as_const(m_headers))
                headers.append(QJsonArray{QString::fromLatin1(n), QString::fromLatin1(v)});
            const QJsonObject o{{"method", QString::fromLatin1(m_method)},
                                {"target", QString::fromLatin1(m_target)},
                                {"headers", headers},
                                {"body_length", double(m_bodyLength)},
                                {"body_sha256", QString::fromLatin1(m_hash.result().toHex())}};
            send(200, "OK", {{"Content-Type", json}}, QJsonDocument(o).toJson(QJsonDocument::Compact));
        } else if (m_path == "/cookies") {
            send(200, "OK",
                 {{"Set-Cookie", "a=1; Path=/"},
                  {"X-Order", "1"},
                  {"Set-Cookie", "b=2; HttpOnly"},
                  {"Set-Cookie", "c=3; Max-Age=60"},
                  {"X-Order", "2"}},
                 "cookies");
        } else if (m_path == "/redirect") {
            const QByteArray to = m_query.queryItemValue("to", QUrl::FullyDecoded).toUtf8();
            send(302, "Found", {{"Location", to.isEmpty() ? QByteArray("/login") : to}}, {});
        } else if (m_path == "/download") {
            m_downloadLeft = m_query.queryItemValue("size").toLongLong();
            m_downloadMode = m_query.queryItemValue("mode").toLatin1();
            QByteArray out = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
            if (m_downloadMode == "chunked")
                out += "Transfer-Encoding: chunked\r\n";
            else if (m_downloadMode == "close")
                out += "Connection: close\r\n", m_closeRequested = true;
            else
                out += "Content-Length: " + QByteArray::number(m_downloadLeft) + "\r\n";
            m_s->write(out + "\r\n");
            m_downloadOffset = 0;
            m_downloading = true;
            pumpDownload();
        } else if (m_path == "/status") {
            const int code = m_query.queryItemValue("code").toInt();
            QList<QPair<QByteArray, QByteArray>> headers{{"X-Status", QByteArray::number(code)}};
            if (code == 304)
                headers.append(qMakePair(QByteArray("ETag"), QByteArray("\"v1\"")));
            send(code, "Status", headers, {}, true);
        } else if (m_path == "/head") {
            QByteArray out = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-Head: yes\r\n\r\n";
            if (m_method != "HEAD")
                out += QByteArray(1234, 'h');
            m_s->write(out);
            done();
        } else if (m_path == "/slow") {
            // never answers
        } else if (m_path == "/delay") {
            const QByteArray id = m_query.queryItemValue("id").toLatin1();
            QTimer::singleShot(m_query.queryItemValue("ms").toInt(), this, [this, id] {
                send(200, "OK", {{"X-Id", id}}, "id=" + id);
            });
        } else if (m_path == "/arm-die") {
            m_dieOnNext = true;
            send(200, "OK", {}, "armed");
        } else if (m_path == "/close") {
            m_silentClose = true; // closes without announcing it, like a backend's idle timeout
            send(200, "OK", {}, "bye");
        } else {
            send(404, "Not Found", {}, "no such test endpoint");
        }
    }

    void pumpDownload() {
        if (!m_downloading)
            return;
        const QByteArray &block = httpPatternBlock();
        while (m_downloadLeft > 0 && m_s->bytesToWrite() < 1024 * 1024) {
            const qint64 inBlock = m_downloadOffset % block.size();
            const qint64 n = std::min<qint64>({m_downloadLeft, block.size() - inBlock, 256 * 1024});
            const QByteArray piece = QByteArray::fromRawData(block.constData() + inBlock, n);
            if (m_downloadMode == "chunked")
                m_s->write(QByteArray::number(n, 16) + "\r\n" + piece + "\r\n");
            else
                m_s->write(piece.constData(), n);
            m_owner->m_downloadBytes.fetch_add(n);
            m_downloadLeft -= n;
            m_downloadOffset += n;
        }
        if (m_downloadLeft == 0) {
            m_downloading = false;
            if (m_downloadMode == "chunked")
                m_s->write("0\r\n\r\n");
            done();
        }
    }

    QIODevice *m_s;
    std::function<void()> m_close;
    HttpTestBackend *m_owner;
    QByteArray m_buf;
    State m_state = State::Head;
    QByteArray m_method, m_target, m_path;
    QUrlQuery m_query;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    qint64 m_contentLength = 0;
    bool m_chunked = false;
    bool m_expect100 = false;
    bool m_closeRequested = false;
    bool m_silentClose = false;
    bool m_dieOnNext = false;
    bool m_stalled = false;
    Chunk m_chunk = Chunk::Size;
    qint64 m_remaining = 0;
    qint64 m_bodyLength = 0;
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    bool m_downloading = false;
    qint64 m_downloadLeft = 0;
    qint64 m_downloadOffset = 0;
    QByteArray m_downloadMode;
};

HttpTestBackend::HttpTestBackend() {
    m_worker.run([this] {
        QObject *context = m_worker.context();
        auto *server = new QTcpServer(context);
        server->listen(QHostAddress::LocalHost, 0);
        m_port = server->serverPort();
        QObject::connect(server, &QTcpServer::newConnection, server, [this, server] {
            while (QTcpSocket *s = server->nextPendingConnection()) {
                m_accepted.fetch_add(1);
                QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                s->setReadBufferSize(256 * 1024); // so that not reading is felt upstream
                new HttpBackendConnection(
                    s, [s] { s->disconnectFromHost(); }, this);
            }
        });
        auto *local = new QLocalServer(context);
        m_unixPath = m_dir.filePath(QStringLiteral("backend.sock"));
        local->listen(m_unixPath);
        QObject::connect(local, &QLocalServer::newConnection, local, [this, local] {
            while (QLocalSocket *s = local->nextPendingConnection()) {
                m_accepted.fetch_add(1);
                QObject::connect(s, &QLocalSocket::disconnected, s, &QObject::deleteLater);
                new HttpBackendConnection(
                    s, [s] { s->disconnectFromServer(); }, this);
            }
        });
    });
}

HttpTestBackend::~HttpTestBackend() {
    m_worker.stop();
}

} // namespace portico::test

#include "httpclient.h"

#include "httpbackend.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>

namespace portico::test {

QByteArray HttpTestResponse::header(const QByteArray &name) const {
    for (const auto &[n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

QList<QByteArray> HttpTestResponse::headerValues(const QByteArray &name) const {
    QList<QByteArray> out;
    for (const auto &[n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            out.append(v);
    }
    return out;
}

QList<QByteArray> HttpTestResponse::headerNames() const {
    QList<QByteArray> out;
    for (const auto &h : headers)
        out.append(h.first.toLower());
    return out;
}

bool HttpTestClient::connectTo(quint16 port, int timeoutMs) {
    m_s.setReadBufferSize(1024 * 1024); // the client buffers little, so RSS growth is the proxy's
    m_s.connectToHost(QHostAddress::LocalHost, port);
    return m_s.waitForConnected(timeoutMs);
}

bool HttpTestClient::send(const QByteArray &data, int timeoutMs) {
    m_s.write(data);
    QDeadlineTimer deadline(timeoutMs);
    while (m_s.bytesToWrite() > 0) {
        if (deadline.hasExpired() ||
            !m_s.waitForBytesWritten(int(std::max<qint64>(1, deadline.remainingTime()))))
            return m_s.bytesToWrite() == 0;
    }
    return true;
}

bool HttpTestClient::sendPattern(qint64 size, bool chunked, int timeoutMs) {
    const QByteArray &block = httpPatternBlock();
    QDeadlineTimer deadline(timeoutMs);
    qint64 done = 0;
    while (done < size) {
        while (m_s.bytesToWrite() > 2 * 1024 * 1024) {
            if (deadline.hasExpired() || m_s.state() != QAbstractSocket::ConnectedState)
                return false;
            m_s.waitForBytesWritten(100);
        }
        const qint64 n = std::min<qint64>({size - done, 256 * 1024, block.size() - done % block.size()});
        const QByteArray piece = QByteArray::fromRawData(block.constData() + done % block.size(), n);
        if (chunked)
            m_s.write(QByteArray::number(n, 16) + "\r\n" + piece + "\r\n");
        else
            m_s.write(piece.constData(), n);
        done += n;
    }
    if (chunked)
        m_s.write("0\r\n\r\n");
    while (m_s.bytesToWrite() > 0) {
        if (deadline.hasExpired() || m_s.state() != QAbstractSocket::ConnectedState)
            return false;
        m_s.waitForBytesWritten(100);
    }
    return true;
}

bool HttpTestClient::fill(int timeoutMs) {
    if (m_s.bytesAvailable() == 0 && !m_s.waitForReadyRead(timeoutMs)) {
        if (m_s.state() != QAbstractSocket::ConnectedState)
            m_closed = true;
        m_buf += m_s.readAll();
        return m_s.bytesAvailable() > 0;
    }
    m_buf += m_s.read(4 * 1024 * 1024);
    return true;
}

HttpTestResponse HttpTestClient::read(bool headRequest, int timeoutMs, bool keepBody) {
    HttpTestResponse r;
    QDeadlineTimer deadline(timeoutMs);
    auto remaining = [&] { return int(std::max<qint64>(1, deadline.remainingTime())); };
    auto failWith = [&](const QString &why) {
        r.ok = false;
        r.error = why;
        return r;
    };
    for (;;) {
        qsizetype end;
        while ((end = m_buf.indexOf("\r\n\r\n")) < 0) {
            if (deadline.hasExpired())
                return failWith(QStringLiteral("timeout waiting for the head"));
            if (!fill(remaining()) && m_closed && m_buf.indexOf("\r\n\r\n") < 0)
                return failWith(QStringLiteral("closed before the head"));
        }
        const QList<QByteArray> lines = m_buf.left(end).split('\n');
        m_buf.remove(0, end + 4);
        const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
        r.status = statusLine.value(1).toInt();
        r.headers.clear();
        for (int i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i);
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
        }
        if (r.status >= 100 && r.status < 200 && r.status != 101) {
            r.interim.append(r.status);
            continue;
        }
        break;
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    auto take = [&](qint64 n) {
        const QByteArrayView piece(m_buf.constData(), n);
        hash.addData(piece);
        if (keepBody)
            r.body.append(piece);
        r.bodyLength += n;
        m_buf.remove(0, n);
    };
    const bool noBody = headRequest || r.status == 204 || r.status == 304 || r.status == 101;
    const QByteArray te = r.header("transfer-encoding").toLower();
    const QByteArray cl = r.header("content-length");
    if (noBody) {
        // nothing
    } else if (te == "chunked") {
        r.chunked = true;
        for (;;) {
            qsizetype nl;
            while ((nl = m_buf.indexOf("\r\n")) < 0) {
                if (deadline.hasExpired() || (!fill(remaining()) && m_closed))
                    return failWith(QStringLiteral("truncated chunk size"));
            }
            const qint64 size = m_buf.left(nl).split(';').value(0).trimmed().toLongLong(nullptr, 16);
            m_buf.remove(0, nl + 2);
            if (size == 0) {
                while ((nl = m_buf.indexOf("\r\n")) != 0) {
                    if (nl > 0) {
                        m_buf.remove(0, nl + 2); // a trailer line
                        continue;
                    }
                    if (deadline.hasExpired() || (!fill(remaining()) && m_closed))
                        return failWith(QStringLiteral("truncated trailer"));
                }
                m_buf.remove(0, 2);
                break;
            }
            qint64 left = size;
            while (left > 0) {
                if (m_buf.isEmpty() && (deadline.hasExpired() || (!fill(remaining()) && m_closed)))
                    return failWith(QStringLiteral("truncated chunk"));
                const qint64 n = std::min<qint64>(left, m_buf.size());
                take(n);
                left -= n;
            }
            while (m_buf.size() < 2) {
                if (deadline.hasExpired() || (!fill(remaining()) && m_closed))
                    return failWith(QStringLiteral("truncated chunk end"));
            }
            m_buf.remove(0, 2);
        }
    } else if (!cl.isEmpty()) {
        qint64 left = cl.toLongLong();
        while (left > 0) {
            if (m_buf.isEmpty() && (deadline.hasExpired() || (!fill(remaining()) && m_closed)))
                return failWith(QStringLiteral("truncated body: %1 bytes missing").arg(left));
            const qint64 n = std::min<qint64>(left, m_buf.size());
            take(n);
            left -= n;
        }
    } else {
        // close-delimited
        while (!m_closed) {
            if (deadline.hasExpired())
                return failWith(QStringLiteral("timeout in close-delimited body"));
            fill(remaining());
            take(m_buf.size());
        }
        take(m_buf.size());
    }
    r.bodySha256 = hash.result().toHex();
    r.ok = true;
    return r;
}

bool HttpTestClient::waitClosed(int timeoutMs) {
    QDeadlineTimer deadline(timeoutMs);
    while (m_s.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        m_s.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        m_s.readAll();
    }
    return m_s.state() != QAbstractSocket::ConnectedState;
}

} // namespace portico::test

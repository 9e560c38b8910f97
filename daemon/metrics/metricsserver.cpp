#include "metricsserver.h"

#include "admin/adminapi.h"

#include <QDateTime>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcMetrics, "portico.metrics", QtInfoMsg)

namespace portico {

namespace {

struct Answer {
    int status = 200;
    QByteArray reason = "OK";
    QByteArray contentType = "text/plain; charset=utf-8";
    QByteArray body;
    bool allowHeader = false;
    bool headOnly = false; // HEAD: the headers of a GET, no body
};

Answer plain(int status, const QByteArray &reason) {
    Answer a;
    a.status = status;
    a.reason = reason;
    a.body = reason + '\n';
    return a;
}

// One connection: reads one request head, answers it and closes. Owns its socket; deletes
// itself when the socket is closed or its deadline passes.
class MetricsConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsConnection)
public:
    MetricsConnection(QTcpSocket *socket, const MetricsServer *server, QObject *parent)
        : QObject(parent), m_socket(socket), m_server(server) {
        m_socket->setParent(this);
        // Qt stops reading from the kernel past this, also after the answer (a client that
        // keeps sending meets TCP's flow control, not our memory).
        m_socket->setReadBufferSize(MetricsServer::kMaxHeadBytes + 1);
        m_deadline.setSingleShot(true);
        connect(&m_deadline, &QTimer::timeout, this, &MetricsConnection::finish);
        connect(m_socket, &QTcpSocket::readyRead, this, &MetricsConnection::read);
        connect(m_socket, &QTcpSocket::disconnected, this, &MetricsConnection::finish);
        connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
            // The peer closing after our answer is how every exchange ends.
            if (e != QAbstractSocket::RemoteHostClosedError)
                qCDebug(lcMetrics) << "connection error:" << m_socket->errorString();
            finish();
        });
        m_deadline.start(MetricsServer::kDeadlineMs);
        read(); // bytes that came with the connection
    }

Q_SIGNALS:
    void done();

private:
    void read() {
        if (m_answered)
            return;
        // Never more than the cap (plus one byte to tell "too long") in memory.
        const qint64 room = MetricsServer::kMaxHeadBytes + 1 - m_head.size();
        m_head += m_socket->read(room);
        qsizetype end = m_head.indexOf("\r\n\r\n");
        if (end < 0)
            end = m_head.indexOf("\n\n");
        if (end >= 0)
            return answer(route(m_head.left(end), m_server));
        if (m_head.size() > MetricsServer::kMaxHeadBytes)
            return answer(plain(431, "Request Header Fields Too Large"));
    }

    static Answer route(const QByteArray &head, const MetricsServer *server) {
        Answer a = routeGet(head, server);
        a.headOnly = head.startsWith("HEAD ");
        return a;
    }

    static Answer routeGet(const QByteArray &head, const MetricsServer *server) {
        const qsizetype eol = head.indexOf('\n');
        const QByteArray line = (eol < 0 ? head : head.left(eol)).trimmed();
        const QList<QByteArray> parts = line.split(' ');
        if (parts.size() != 3 || !parts[2].startsWith("HTTP/1.") || !parts[1].startsWith('/'))
            return plain(400, "Bad Request");
        const QByteArray &method = parts[0];
        if (method != "GET" && method != "HEAD") {
            Answer a = plain(405, "Method Not Allowed");
            a.allowHeader = true;
            return a;
        }
        QByteArray path = parts[1];
        if (const qsizetype q = path.indexOf('?'); q >= 0)
            path.truncate(q);
        Answer a;
        if (path == "/metrics") {
            a.contentType = "text/plain; version=0.0.4; charset=utf-8";
            a.body = server->page();
        } else if (path == "/healthz") {
            a.body = "ok\n";
        } else {
            return plain(404, "Not Found");
        }
        return a;
    }

    void answer(const Answer &a) {
        m_answered = true;
        QByteArray out = "HTTP/1.1 " + QByteArray::number(a.status) + ' ' + a.reason + "\r\n";
        out += "Content-Type: " + a.contentType + "\r\n";
        out += "Content-Length: " + QByteArray::number(a.body.size()) + "\r\n";
        if (a.allowHeader)
            out += "Allow: GET, HEAD\r\n";
        out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
        if (!a.headOnly)
            out += a.body;
        m_head.clear();
        // Queued without blocking; the socket closes once it is written (or at the deadline).
        if (m_socket->write(out) != out.size())
            return finish();
        m_socket->disconnectFromHost();
    }

    void finish() {
        if (m_finished)
            return;
        m_finished = true;
        m_deadline.stop();
        m_socket->disconnect(this);
        m_socket->abort();
        Q_EMIT done();
        deleteLater();
    }

    QTcpSocket *m_socket;
    const MetricsServer *m_server;
    QTimer m_deadline;
    QByteArray m_head;
    bool m_answered = false;
    bool m_finished = false;
};

} // namespace

MetricsServer::MetricsServer(AdminApi *api, QObject *parent) : QObject(parent), m_api(api) {
    // The daemon's uptime clock started before this; from it, the start never moves.
    const double uptimeMs = api->info().value(QStringLiteral("uptime_ms")).toDouble();
    m_startTime = (double(QDateTime::currentMSecsSinceEpoch()) - uptimeMs) / 1000.0;
    connect(api, &AdminApi::event, this,
            [this](const QString &kind, const QJsonObject &data) { m_counts.count(kind, data); });
    connect(&m_server, &QTcpServer::newConnection, this, &MetricsServer::accept);
}

MetricsServer::~MetricsServer() = default;

bool MetricsServer::listen(const QHostAddress &address, quint16 port, QString *error) {
    if (!m_server.listen(address, port)) {
        *error = m_server.errorString();
        return false;
    }
    qCInfo(lcMetrics).noquote() << QStringLiteral("metrics on http://%1/metrics").arg(this->address());
    return true;
}

void MetricsServer::close() {
    m_server.close();
}

QString MetricsServer::address() const {
    if (!m_server.isListening())
        return {};
    const QHostAddress a = m_server.serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol
                             ? QLatin1Char('[') + a.toString() + QLatin1Char(']')
                             : a.toString();
    return host + QLatin1Char(':') + QString::number(m_server.serverPort());
}

QByteArray MetricsServer::page() const {
    return collectMetrics(*m_api, m_counts, m_startTime);
}

void MetricsServer::accept() {
    while (m_connections < kMaxConnections && m_server.hasPendingConnections()) {
        QTcpSocket *socket = m_server.nextPendingConnection();
        if (!socket)
            break;
        ++m_connections;
        auto *c = new MetricsConnection(socket, this, this);
        connect(c, &MetricsConnection::done, this, &MetricsServer::connectionDone);
    }
    // At the limit the rest wait in the backlog until a connection ends.
    if (m_connections >= kMaxConnections)
        m_server.pauseAccepting();
}

void MetricsServer::connectionDone() {
    --m_connections;
    if (m_connections < kMaxConnections) {
        m_server.resumeAccepting();
        accept(); // connections QTcpServer took before it paused
    }
}

} // namespace portico

#include "metricsserver.moc"

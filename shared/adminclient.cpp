#include "adminclient.h"

#include "paths.h"

#include "protocol.h"

#include <QDir>
#include <QHash>
#include <QJsonArray>
#include <QLocalSocket>
#include <QPointer>
#include <QTimer>

namespace portico {

struct AdminClient::Impl {
    AdminClient *q = nullptr;
    QLocalSocket *socket = nullptr;
    QString path;
    bool autoReconnect = false;
    int initialDelayMs = 250;
    int maxDelayMs = 10'000;
    int nextDelayMs = 250;
    QTimer reconnectTimer;
    qint64 maxLineBytes = 64 * 1024 * 1024;
    qint64 nextId = 1;
    QHash<qint64, Callback> pending; // sent, waiting for the answer
    QList<QByteArray> queued;        // made before the connection was up
    QList<qint64> queuedIds;
    bool wantConnection = false;
    bool subscribed = false;
    bool everConnected = false;
    QStringList subscribedKinds;
    Callback subscribeCallback; // of a subscribe() made while not connected

    void onReadyRead();
    void onConnected();
    void onDisconnected();
    void onError(QLocalSocket::LocalSocketError e);
    void failAll(const QString &reason);
    void scheduleReconnect();
    void send(qint64 id, const QByteArray &line) {
        if (socket->state() == QLocalSocket::ConnectedState) {
            socket->write(line);
            return;
        }
        queued.append(line);
        queuedIds.append(id);
    }
};

AdminClient::AdminClient(QObject *parent) : QObject(parent), d(std::make_unique<Impl>()) {
    d->q = this;
    d->path = defaultSocketPath();
    d->socket = new QLocalSocket(this);
    d->reconnectTimer.setSingleShot(true);
    connect(&d->reconnectTimer, &QTimer::timeout, this, [this] {
        if (d->wantConnection && d->socket->state() == QLocalSocket::UnconnectedState)
            d->socket->connectToServer(d->path);
    });
    connect(d->socket, &QLocalSocket::readyRead, this, [this] { d->onReadyRead(); });
    connect(d->socket, &QLocalSocket::connected, this, [this] { d->onConnected(); });
    connect(d->socket, &QLocalSocket::disconnected, this, [this] { d->onDisconnected(); });
    connect(d->socket, &QLocalSocket::errorOccurred, this,
            [this](QLocalSocket::LocalSocketError e) { d->onError(e); });
}

AdminClient::~AdminClient() {
    d->wantConnection = false;
    d->socket->disconnect(this);
    d->socket->abort();
}

QString AdminClient::defaultSocketPath() {
    return paths::clientSocket();
}

void AdminClient::setSocketPath(const QString &path) {
    d->path = path;
}
QString AdminClient::socketPath() const {
    return d->path;
}

void AdminClient::setAutoReconnect(bool enabled, int initialDelayMs, int maxDelayMs) {
    d->autoReconnect = enabled;
    d->initialDelayMs = qMax(10, initialDelayMs);
    d->maxDelayMs = qMax(d->initialDelayMs, maxDelayMs);
    d->nextDelayMs = d->initialDelayMs;
}

bool AdminClient::autoReconnect() const {
    return d->autoReconnect;
}
void AdminClient::setMaxLineBytes(qint64 bytes) {
    d->maxLineBytes = qMax<qint64>(1024, bytes);
}

void AdminClient::connectToDaemon() {
    d->wantConnection = true;
    d->nextDelayMs = d->initialDelayMs;
    if (d->socket->state() == QLocalSocket::UnconnectedState)
        d->socket->connectToServer(d->path);
}

void AdminClient::disconnectFromDaemon() {
    d->wantConnection = false;
    d->reconnectTimer.stop();
    d->socket->abort();
    d->failAll(QStringLiteral("disconnected"));
}

AdminClient::State AdminClient::state() const {
    switch (d->socket->state()) {
    case QLocalSocket::ConnectedState:
        return State::Connected;
    case QLocalSocket::ConnectingState:
        return State::Connecting;
    default:
        return d->reconnectTimer.isActive() ? State::Connecting : State::Disconnected;
    }
}

qint64 AdminClient::call(const QString &method, const QJsonObject &params, Callback callback) {
    const qint64 id = d->nextId++;
    const bool canWait =
        d->socket->state() != QLocalSocket::UnconnectedState || (d->wantConnection && d->autoReconnect);
    if (!canWait ||
        (d->socket->state() != QLocalSocket::ConnectedState && d->queued.size() >= kMaxQueuedRequests)) {
        // Answered on the next turn, never from inside call().
        const auto reply =
            jsonrpc::Message::error(double(id), jsonrpc::kConnectionLost,
                                    QStringLiteral("not connected to the daemon at %1").arg(d->path));
        QTimer::singleShot(0, this, [this, id, callback, reply] {
            if (callback)
                callback(reply);
            Q_EMIT replyReceived(id, reply);
        });
        return id;
    }
    d->pending.insert(id, std::move(callback));
    d->send(id, jsonrpc::Message::request(double(id), method, params).serialize());
    return id;
}

void AdminClient::subscribe(const QStringList &kinds, Callback callback) {
    d->subscribed = true;
    d->subscribedKinds = kinds;
    if (d->socket->state() != QLocalSocket::ConnectedState) {
        // Sent by onConnected() on the next connection (a subscription made before the
        // first connect must not be lost).
        d->subscribeCallback = std::move(callback);
        return;
    }
    QJsonObject params;
    if (!kinds.isEmpty())
        params.insert(QStringLiteral("kinds"), QJsonArray::fromStringList(kinds));
    call(QLatin1String(protocol::method::EventsSubscribe), params, std::move(callback));
}

void AdminClient::Impl::onConnected() {
    nextDelayMs = initialDelayMs;
    // A new connection carries no subscription: renew it first.
    if (subscribed) {
        QJsonObject params;
        if (!subscribedKinds.isEmpty())
            params.insert(QStringLiteral("kinds"), QJsonArray::fromStringList(subscribedKinds));
        const qint64 id = nextId++;
        pending.insert(id, std::exchange(subscribeCallback, {}));
        socket->write(
            jsonrpc::Message::request(double(id), QLatin1String(protocol::method::EventsSubscribe), params)
                .serialize());
    }
    everConnected = true;
    for (const QByteArray &line : std::as_const(queued))
        socket->write(line);
    queued.clear();
    queuedIds.clear();
    Q_EMIT q->connected();
}

void AdminClient::Impl::onDisconnected() {
    failAll(QStringLiteral("the connection to the daemon was lost"));
    Q_EMIT q->disconnected();
    scheduleReconnect();
}

void AdminClient::Impl::onError(QLocalSocket::LocalSocketError e) {
    if (e == QLocalSocket::PeerClosedError)
        return; // disconnected() follows
    if (socket->state() == QLocalSocket::ConnectedState)
        return;
    QString why;
    switch (e) {
    case QLocalSocket::ServerNotFoundError:
        why = QStringLiteral("no socket there (is porticod running?)");
        break;
    case QLocalSocket::ConnectionRefusedError:
        why = QStringLiteral("connection refused (is porticod running?)");
        break;
    case QLocalSocket::SocketAccessError:
        why = paths::accessDeniedHint(path);
        break;
    case QLocalSocket::SocketTimeoutError:
        why = QStringLiteral("timed out");
        break;
    default:
        why = socket->errorString();
        break;
    }
    const QString reason = QStringLiteral("cannot connect to %1: %2").arg(path, why);
    Q_EMIT q->connectError(reason);
    if (wantConnection && autoReconnect) {
        scheduleReconnect();
    } else {
        failAll(reason);
    }
}

void AdminClient::Impl::scheduleReconnect() {
    if (!wantConnection || !autoReconnect || reconnectTimer.isActive())
        return;
    reconnectTimer.start(nextDelayMs);
    nextDelayMs = qMin(maxDelayMs, nextDelayMs * 2);
}

void AdminClient::Impl::failAll(const QString &reason) {
    // Queued requests stay queued while a reconnect is coming.
    const bool keepQueued = wantConnection && autoReconnect;
    auto failed = pending;
    pending.clear();
    if (keepQueued) {
        for (qint64 id : std::as_const(queuedIds))
            pending.insert(id, failed.take(id));
    } else {
        queued.clear();
        queuedIds.clear();
    }
    for (auto it = failed.begin(); it != failed.end(); ++it) {
        const auto reply = jsonrpc::Message::error(double(it.key()), jsonrpc::kConnectionLost, reason);
        if (it.value())
            it.value()(reply);
        Q_EMIT q->replyReceived(it.key(), reply);
    }
}

void AdminClient::Impl::onReadyRead() {
    const jsonrpc::LineReader reader(maxLineBytes);
    while (socket->state() == QLocalSocket::ConnectedState) {
        QByteArray line;
        const auto status = reader.next(socket, &line);
        if (status == jsonrpc::LineReader::Status::Incomplete)
            return;
        if (status == jsonrpc::LineReader::Status::TooLong) {
            Q_EMIT q->protocolError(
                QStringLiteral("a message from the daemon is over %1 bytes").arg(maxLineBytes));
            socket->abort();
            return;
        }
        QString error;
        const auto msg = jsonrpc::Message::parse(line, nullptr, &error);
        if (!msg) {
            Q_EMIT q->protocolError(QStringLiteral("the daemon sent an invalid message: %1").arg(error));
            continue;
        }
        if (msg->isNotification()) {
            if (msg->method() == QLatin1String(protocol::method::Event)) {
                const QJsonObject p = msg->params().toObject();
                Q_EMIT q->eventReceived(
                    p.value(QStringLiteral("kind")).toString(), p.value(QStringLiteral("data")).toObject(),
                    QDateTime::fromString(p.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs));
            }
            continue;
        }
        if (!msg->isResponse() && !msg->isError())
            continue; // the daemon does not send requests
        const QJsonValue idv = msg->id();
        if (!idv.isDouble()) {
            // A null id: the daemon could not read a request (or refused the connection).
            if (msg->isError())
                Q_EMIT q->protocolError(msg->errorMessage());
            continue;
        }
        const qint64 id = qint64(idv.toDouble());
        const auto it = pending.find(id);
        if (it == pending.end())
            continue;
        Callback cb = std::move(it.value());
        pending.erase(it);
        QPointer<AdminClient> self(q);
        if (cb)
            cb(*msg);
        if (!self)
            return; // the callback deleted the client
        Q_EMIT q->replyReceived(id, *msg);
        if (!self)
            return;
    }
}

} // namespace portico

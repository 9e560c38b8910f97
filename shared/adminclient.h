#pragma once

#include "jsonrpc.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>

namespace portico {

// The one client of the admin socket, used by porticoctl and the dashboard: async,
// request ids matched to callbacks, events as a signal, optional reconnect with backoff
// (subscriptions are renewed after a reconnect).
class AdminClient final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminClient)
public:
    enum class State { Disconnected, Connecting, Connected };
    // Gets the response or the error; for a request that cannot be sent or whose
    // connection drops first, an error with code jsonrpc::kConnectionLost.
    using Callback = std::function<void(const jsonrpc::Message &reply)>;

    explicit AdminClient(QObject *parent = nullptr);
    ~AdminClient() override;

    // $PORTICO_SOCKET, else the user's own daemon's socket, else the system daemon's
    // (/run/portico/admin.sock) when it exists: paths::clientSocket().
    static QString defaultSocketPath();

    void setSocketPath(const QString &path);
    QString socketPath() const;
    // Reconnect after a failed connect or a lost connection, waiting initialDelayMs,
    // doubling up to maxDelayMs. Requests made meanwhile wait for the connection.
    void setAutoReconnect(bool enabled, int initialDelayMs = 250, int maxDelayMs = 10'000);
    bool autoReconnect() const;
    void setMaxLineBytes(qint64 bytes); // default 64 MiB
    static constexpr int kMaxQueuedRequests = 1000;

    // connected() or connectError() may be emitted before this returns.
    void connectToDaemon();
    void disconnectFromDaemon();
    State state() const;
    bool isConnected() const { return state() == State::Connected; }

    // Sends the request now, or once connected. Returns its id.
    qint64 call(const QString &method, const QJsonObject &params = {}, Callback callback = {});
    // events.subscribe (kinds empty: every kind); renewed on reconnect.
    void subscribe(const QStringList &kinds = {}, Callback callback = {});

Q_SIGNALS:
    void connected();
    void disconnected();
    void connectError(const QString &reason);
    void replyReceived(qint64 id, const portico::jsonrpc::Message &reply);
    void eventReceived(const QString &kind, const QJsonObject &data, const QDateTime &time);
    // The daemon sent something that is not the protocol; the connection is dropped.
    void protocolError(const QString &reason);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace portico

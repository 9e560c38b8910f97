#pragma once

#include "adminapi.h"
#include "jsonrpc.h"

#include <QObject>
#include <QSet>
#include <QTimer>

class QLocalSocket;

namespace portico {

class Dispatcher;

// One admin client: frames its requests by line, hands them to the dispatcher, writes the
// answers and, once subscribed, the events it asked for. Owned by the AdminServer,
// removed with deleteLater() after closed().
class AdminConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminConnection)
public:
    struct Limits {
        qint64 maxLineBytes = 4 * 1024 * 1024;
        qint64 maxQueueBytes = 8 * 1024 * 1024; // pending output past this: the client is cut
        int maxInFlight = 64; // slow requests at once (deploy, restart, ...); queries are not held
    };

    // Takes ownership of the socket.
    AdminConnection(QLocalSocket *socket, const PeerInfo &peer, Dispatcher *dispatcher, const Limits &limits,
                    QObject *parent);
    ~AdminConnection() override;

    PeerInfo peer() const { return m_peer; }
    bool isSubscribed() const { return m_subscribed; }
    bool wants(const QString &kind) const;
    // A serialized notification; dropped unless subscribed to its kind.
    void sendEvent(const QString &kind, const QByteArray &line);
    qint64 pendingOutputBytes() const;
    // Immediate close, pending output dropped.
    void abort();

Q_SIGNALS:
    void subscriptionChanged();
    void closed();

private:
    void onReadyRead();
    void send(const QByteArray &line);
    void closeAfterFlush();

    QLocalSocket *m_socket;
    PeerInfo m_peer;
    Dispatcher *m_dispatcher;
    Limits m_limits;
    jsonrpc::LineReader m_reader;
    bool m_subscribed = false;
    QSet<QString> m_kinds; // empty: all
    int m_inFlight = 0;
    bool m_closing = false;
    bool m_closedEmitted = false;
    QTimer m_lingerTimer;
};

} // namespace portico

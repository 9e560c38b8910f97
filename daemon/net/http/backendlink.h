#pragma once

#include "routing/routetable.h"

#include <QObject>
#include <QTimer>

class QIODevice;
class QLocalSocket;
class QTcpSocket;

namespace portico::http {

// One connection to a backend (TCP or Unix socket) behind a single interface, so the
// session relays bytes without caring which. Connects asynchronously; closed() is
// emitted once, for a refusal, an error or the peer closing.
class BackendLink final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackendLink)
public:
    BackendLink(const BackendTarget &target, qint64 readBufferBytes, QObject *parent);
    ~BackendLink() override;

    static QString keyOf(const BackendTarget &target);
    const QString &key() const { return m_key; }

    void open();
    bool isConnected() const { return m_connected; }
    bool isClosed() const { return m_closed; }
    QIODevice *io() const;
    qint64 bytesToWrite() const;
    qint64 bytesAvailable() const;
    QString lastError() const { return m_error; }
    void disconnectGracefully(); // after flushing what was written
    void abort();

    // Pool bookkeeping.
    QTimer &idleTimer() { return m_idle; }

Q_SIGNALS:
    void connected();
    void readyRead();
    void bytesWritten();
    void closed();

private:
    void onClosed(const QString &why);

    QString m_key;
    QTcpSocket *m_tcp = nullptr;
    QLocalSocket *m_local = nullptr;
    BackendTarget m_target;
    bool m_connected = false;
    bool m_closed = false;
    QString m_error;
    QTimer m_idle;
};

// Per worker thread: idle keep-alive connections, at most maxPerKey per backend.
class BackendPool final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackendPool)
public:
    static BackendPool *forCurrentThread();

    // An idle connection to key (re-parented to newParent), or null.
    BackendLink *take(const QString &key, QObject *newParent);
    // Keeps link for reuse or deletes it when the pool for its key is full.
    void give(BackendLink *link, int maxPerKey, int idleMs);
    int idleCount(const QString &key) const;

private:
    BackendPool() = default;
    void drop(BackendLink *link);

    QHash<QString, QList<BackendLink *>> m_idle;
};

} // namespace portico::http

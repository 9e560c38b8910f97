#pragma once

#include "adminapi.h"
#include "jsonrpc.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>

class QSocketNotifier;

namespace portico {

class Dispatcher;

// One admin client on its bare descriptor: frames its requests by line, hands them to the
// dispatcher, writes the answers and, once subscribed, the events it asked for. Owned by
// the AdminServer, removed with deleteLater() after closed().
//
// A client that sends its requests and shuts down its sending side (`echo … | socat`)
// gets every answer before the connection closes: the end of its input only means that
// no request follows (QLocalSocket closed the whole connection there, losing the answers
// of slow methods). A connection with nothing in progress and no subscription closes
// after the idle timeout.
class AdminConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminConnection)
public:
    struct Limits {
        qint64 maxLineBytes = 4 * 1024 * 1024;
        qint64 maxQueueBytes = 8 * 1024 * 1024; // pending output past this: the client is cut
        int maxInFlight = 64;  // slow requests at once (deploy, restart, ...); queries are not held
        int idleTimeoutMs = 0; // nothing in progress, no subscription: closed after this; 0: never
    };

    // Takes ownership of the descriptor (a connected, non-blocking stream socket).
    AdminConnection(int fd, const PeerInfo &peer, Dispatcher *dispatcher, const Limits &limits,
                    QObject *parent);
    ~AdminConnection() override;

    PeerInfo peer() const { return m_peer; }
    bool isSubscribed() const { return m_subscribed; }
    bool wants(const QString &kind) const;
    // A serialized notification; dropped unless subscribed to its kind.
    void sendEvent(const QString &kind, const QByteArray &line);
    qint64 pendingOutputBytes() const { return m_out.size() - m_outPos; }
    // Nothing in progress, nothing to send, no subscription: may be closed without loss.
    bool isIdle() const;
    qint64 idleForMs() const { return m_lastActivity.elapsed(); }
    // Immediate close, pending output dropped.
    void abort();
    // Who closes the descriptor (the listener, which may keep its number in reserve);
    // ::close() when unset.
    void setCloser(std::function<void(int fd)> closer) { m_closer = std::move(closer); }

Q_SIGNALS:
    void subscriptionChanged();
    void closed();

private:
    void onReadable();
    void onWritable();
    void processLines();
    void handleLine(const QByteArray &line);
    void send(const QByteArray &line);
    bool writeSome();
    void closeAfterFlush();
    void maybeFinish();
    void touch();
    bool peerGone() const;

    void closeFd();

    int m_fd;
    std::function<void(int fd)> m_closer;
    PeerInfo m_peer;
    Dispatcher *m_dispatcher;
    Limits m_limits;
    jsonrpc::LineReader m_reader;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_in;
    qsizetype m_inPos = 0;
    QByteArray m_out;
    qsizetype m_outPos = 0;
    bool m_subscribed = false;
    QSet<QString> m_kinds; // empty: all
    int m_inFlight = 0;
    bool m_inputEnded = false; // the peer shut down its side: answer, then close
    bool m_closing = false;    // no more requests are read (a line over the limit, a cut)
    bool m_closedEmitted = false;
    QTimer m_lingerTimer;
    QTimer m_idleTimer;
    QElapsedTimer m_lastActivity;
};

} // namespace portico

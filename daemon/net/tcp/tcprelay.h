#pragma once

#include "config/config.h"
#include "routing/routetable.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QList>
#include <QObject>

#include <memory>

class QSocketNotifier;
class QTimer;
class QHostInfo;

namespace portico {

// What every relay of one raw-TCP listener shares (read-only, one per listener per worker).
struct TcpRelayContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    QString project;
    ProxyProtocol proxyProtocol = ProxyProtocol::None;
    std::shared_ptr<RouteStats> stats; // may be null
};

// One relayed connection: the visitor's socket and a backend connection (TCP or Unix),
// bytes copied both ways through bounded buffers. Works on the raw descriptors with
// QSocketNotifier because QAbstractSocket cannot half-close: it closes the whole socket
// when the peer's FIN arrives, and the other direction must keep flowing.
//
// - backpressure: a direction stops reading its source while its buffer (relayBufferBytes)
//   is full, and resumes as the sink accepts bytes;
// - half-close: EOF from one side becomes shutdown(SHUT_WR) on the other once the buffer
//   is flushed; the relay ends when both directions are done, or on any error;
// - the backend is looked up in the current routing snapshot when the visitor arrives;
//   no backend, a refusal or tcpConnectTimeoutMs closes the visitor at once;
// - tcpIdleTimeoutMs without a byte either way closes both;
// - with a PROXY protocol version set, its header goes to the backend before any data.
// The relay deletes itself (deleteLater) when it ends.
//
// Second mode (TcpRelayAdoption): two connections that are already open, e.g. an HTTP
// upgrade tunnel after its 101, are adopted with the bytes already read from each side
// but not yet relayed. No routing, no connect phase, no PROXY header; the idle timeout
// and the counters are the adopter's.
struct TcpRelayAdoption {
    int visitorFd = -1;     // connected TCP socket of the visitor (ownership passes)
    int backendFd = -1;     // connected TCP or AF_UNIX socket to the backend (ownership passes)
    QByteArray toBackend;   // read from the visitor, not yet written to the backend
    QByteArray toVisitor;   // read from the backend, not yet written to the visitor
    int idleTimeoutMs = 0;  // e.g. Config::tunnelIdleTimeoutMs
    qint64 bufferBytes = 0; // per direction, e.g. Config::relayBufferBytes
    // Bytes relayed from now on are added to each (visitor -> backend as in, the other
    // way as out). Each already counts this connection as open; the relay closes it.
    QList<std::shared_ptr<RouteStats>> stats;
    QString label; // for the log
};

class TcpRelay final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpRelay)
public:
    // Takes ownership of clientFd (an accepted, connected TCP socket).
    TcpRelay(int clientFd, std::shared_ptr<const TcpRelayContext> context, QObject *parent);
    // Adopts two connected descriptors (see TcpRelayAdoption); start() begins relaying.
    TcpRelay(TcpRelayAdoption adoption, QObject *parent);
    ~TcpRelay() override;

    void start();

private:
    struct Pipe;
    void connectBackend(const BackendTarget &target);
    void connectTcp(const QHostAddress &address, quint16 port);
    void connectUnix(const QString &path);
    void onConnectProgress();
    void backendRefused(); // tries the next resolved address, or gives up
    void onConnected();
    void startPipes(const QByteArray &toBackend, const QByteArray &toVisitor);
    void onReadable(Pipe &p);
    void flush(Pipe &p);
    void touch() { m_lastActivity = m_clock.elapsed(); }
    void onIdleCheck();
    void finish(const char *why, bool error);

    std::shared_ptr<const TcpRelayContext> m_ctx; // null in adoption mode
    QList<std::shared_ptr<RouteStats>> m_stats;
    QString m_label;
    int m_idleMs = 0;
    qint64 m_bufferBytes = 0;
    std::unique_ptr<TcpRelayAdoption> m_adoption; // until start()
    int m_clientFd = -1;
    int m_backendFd = -1;
    std::unique_ptr<Pipe> m_up;   // visitor -> backend
    std::unique_ptr<Pipe> m_down; // backend -> visitor
    QSocketNotifier *m_connectNotifier = nullptr;
    QTimer *m_connectTimer = nullptr;
    QTimer *m_idleTimer = nullptr;
    QElapsedTimer m_clock;
    qint64 m_lastActivity = 0;
    int m_lookupId = -1;
    QList<QHostAddress> m_candidates; // further addresses of a backend given by name
    quint16 m_candidatePort = 0;
    bool m_opened = false;
    bool m_finished = false;
    bool m_destroying = false;
};

} // namespace portico

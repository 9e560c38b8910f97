#pragma once

#include "config/config.h"
#include "net/listener.h"
#include "routing/routetable.h"

#include <QElapsedTimer>
#include <QHash>

#include <memory>

class QTimer;
class QUdpSocket;

namespace portico {

struct UdpRelayContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    QString project;
    std::shared_ptr<RouteStats> stats; // may be null
};

// A UDP port, served by one worker so that each visitor's session lives in one thread.
// Each visitor address (ip, port) gets a session with its own connected backend socket
// (the project's backend host and port, over UDP); datagrams pass unchanged both ways and
// replies leave through the listening socket to the visitor they belong to. A session
// ends after udpIdleTimeoutMs without a datagram either way; at udpMaxSessions, the
// session idle the longest makes room for a new visitor.
//
// UDP has no connection to finish, so stopAccepting() closes the port and every session.
class UdpRelay final : public Listener {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpRelay)
public:
    UdpRelay(std::shared_ptr<const UdpRelayContext> context, QObject *parent);
    ~UdpRelay() override;

    // Serves an already bound UDP descriptor (takes ownership).
    bool start(int fd, QString *error);

    void stopAccepting() override;
    int connectionCount() const override { return int(m_sessions.size()); }

private:
    struct Session;
    void readVisitors();
    Session *sessionFor(const QHostAddress &address, quint16 port);
    void readBackend(Session *s);
    void removeSession(const QByteArray &key);
    void sweep();

    std::shared_ptr<const UdpRelayContext> m_ctx;
    QUdpSocket *m_socket = nullptr;
    QTimer *m_sweep = nullptr;
    QHash<QByteArray, Session *> m_sessions; // owned; key: visitor address + port
    QElapsedTimer m_clock;
    quint64 m_useCounter = 0;
    bool m_readScheduled = false;
};

} // namespace portico

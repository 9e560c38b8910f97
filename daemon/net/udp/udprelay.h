#pragma once

#include "config/config.h"
#include "net/listener.h"
#include "net/listenercontext.h"
#include "net/loop/deadlines.h"
#include "net/loop/eventloop.h"
#include "routing/routetable.h"

#include <QByteArray>
#include <QHash>
#include <QList>

#include <memory>

#include <sys/socket.h>

namespace portico {

struct UdpRelayContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    QString project;
    std::shared_ptr<RouteStats> stats; // may be null
    quint16 port = 0;                  // the listener's own port (picks the backend port)
};

// A UDP port, served by one worker so that each visitor's session lives in one thread.
// Each visitor address (ip, port) gets a session with its own connected backend socket
// (the project's backend host and port, over UDP); datagrams pass unchanged both ways and
// replies leave through the listening socket to the visitor they belong to. Everything
// runs on raw descriptors in the worker's EventLoop.
//
// Sessions are kept in one list ordered by last use: a session ends after
// udpIdleTimeoutMs without a datagram either way (the list's head is checked by one
// deadline), and at udpMaxSessions the one idle the longest makes room for a new visitor.
// An ICMP "port unreachable" from the backend (it is not listening yet, or restarted)
// is counted as an error and does not end the session: the next datagram is sent again.
//
// UDP has no connection to finish, so stopAccepting() closes the port and every session.
class UdpRelay final : public Listener, private IoHandler {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpRelay)
public:
    UdpRelay(std::shared_ptr<const UdpRelayContext> context, QObject *parent);
    ~UdpRelay() override;

    // Serves an already bound UDP descriptor (takes ownership; closes it on failure).
    bool start(int fd, QString *error);

    void stopAccepting() override;
    int connectionCount() const override { return m_count; }

private:
    struct Session;
    void onIo(quint32 events) override;
    void readVisitors();
    Session *sessionFor(const sockaddr_storage &from, socklen_t length);
    void readBackend(Session *s);
    void sendToBackend(Session *s, const char *data, size_t length);
    void touch(Session *s);
    void removeSession(Session *s);
    void sweep();
    void addError(ErrorKind kind);

    std::shared_ptr<const UdpRelayContext> m_ctx;
    EventLoop *m_loop = nullptr;
    int m_fd = -1;
    QHash<QByteArray, Session *> m_sessions; // owned; key: visitor address + port
    Session *m_oldest = nullptr;             // least recently used first
    Session *m_newest = nullptr;
    int m_count = 0;
    bool m_closing = false;
    Timeout<UdpRelay, &UdpRelay::sweep> m_sweep{this};
};

} // namespace portico

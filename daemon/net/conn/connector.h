#pragma once

#include "routing/routetable.h"

#include <QHostAddress>
#include <QList>

#include <memory>

#include <sys/socket.h>

namespace portico {

class EventLoop;
class IoHandler;
class Socket;

// Told when a connect that had to wait for a name lookup is decided without a socket
// event (the looked-up addresses were all refused at once, or one connected at once).
class ConnectWaiter {
public:
    virtual void onConnectDecided(bool connected) = 0;

protected:
    ~ConnectWaiter() = default;
};

// Opens a backend connection without ever blocking the worker: a literal address gets a
// non-blocking connect(); a name is resolved by QHostInfo (Qt's resolver threads, never
// the worker) and its addresses are tried in the resolver's order; "unix:" paths connect
// directly. The socket is registered with the owner's handler as soon as it exists; the
// owner calls progress() when that socket reports an event while connecting.
class Connector {
public:
    enum class Status { Connected, InProgress, Failed };

    Connector() = default;
    ~Connector();
    Connector(const Connector &) = delete;
    Connector &operator=(const Connector &) = delete;

    Status start(const BackendTarget &target, Socket *socket, EventLoop *loop, IoHandler *handler,
                 ConnectWaiter *waiter);
    Status progress();
    bool connecting() const { return m_state != State::Idle; }
    void cancel();
    // Why the last attempt failed ("connection refused", "name did not resolve", ...).
    const char *error() const { return m_error; }

    // A literal IPv4/IPv6 address in text, without allocating; false for names.
    static bool parseLiteral(const QString &host, quint16 port, sockaddr_storage *out, socklen_t *len);

private:
    enum class State { Idle, Resolving, Connecting };
    Status connectTo(const sockaddr *address, socklen_t length);
    Status tryNext();
    Status fail(const char *why);

    State m_state = State::Idle;
    Socket *m_socket = nullptr;
    EventLoop *m_loop = nullptr;
    IoHandler *m_handler = nullptr;
    ConnectWaiter *m_waiter = nullptr;
    QList<QHostAddress> m_candidates;
    quint16 m_port = 0;
    int m_lookupId = -1;
    std::shared_ptr<Connector *> m_self; // the lookup's way back, cleared when this goes
    const char *m_error = "";
};

} // namespace portico

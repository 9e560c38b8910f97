#pragma once

#include "config/config.h"
#include "manifest.h"
#include "routing/routetable.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>

#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcNet)

namespace portico {

class WorkerPool;
class AccessLog;

// What one listener serves.
struct ListenerOptions {
    QHostAddress address;
    quint16 port = 0; // 0: the OS picks (tests); boundPort() tells
    Protocol protocol = Protocol::Http;
    QString project; // empty: the ingress (path-prefix routing)
    ProxyProtocol proxyProtocol = ProxyProtocol::None;
    std::shared_ptr<RouteStats> stats; // counters of this listener's row
};

using ListenerId = quint64;

// Owns every listener of the daemon, in the control thread. open() binds at once (plain
// non-blocking syscalls) so that a busy port is reported synchronously, then hands the
// sockets to the workers: TCP ports get one SO_REUSEPORT socket per worker, a UDP port
// is served by one worker so that each client's session stays in one thread.
//
// Every call returns at once; what happens in the workers is posted to them, and what
// they report comes back as queued calls (drained()). All calls belong to the control
// thread. The Config, RouteTableHolder, WorkerPool and AccessLog must outlive the manager.
//
// Backends are looked up per connection (TCP) or per new session (UDP) in the routing
// snapshot current at that moment, so a listener survives backend changes untouched; only
// a change of port, protocol or PROXY setting needs a new listener.
class ListenerManager final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ListenerManager)
public:
    ListenerManager(const Config &config, RouteTableHolder *routes, WorkerPool *workers, AccessLog *accessLog,
                    QObject *parent = nullptr);
    ~ListenerManager() override;

    // Binds and starts serving. Returns 0 and sets *error ("port 3000/tcp: address already
    // in use") when the OS refuses.
    ListenerId open(const ListenerOptions &options, QString *error);
    quint16 boundPort(ListenerId id) const;
    // Stops accepting now; open connections may finish until timeoutMs, then are closed.
    // Emits drained(id) when the last connection is gone (or at the timeout); after that
    // the id is forgotten. A TCP port is released before drain() returns (the listening
    // sockets leave the kernel's listening table at once, new visitors are refused), so a
    // successor may open() the same port right away. UDP has no connection to wait for:
    // its port and sessions close on the worker's next turn, and drained() follows.
    // Unknown ids get drained() too (queued).
    void drain(ListenerId id, int timeoutMs);
    // Closes the listener and every connection now (the TCP port is free on return, a UDP
    // port on the worker's next turn). Cancels a drain in progress: no drained() follows.
    void close(ListenerId id);
    void closeAll();

    // A test bind: could this address/port/transport be bound right now? (Binds and
    // releases at once; used by dry runs and conflict detection.)
    static bool probe(const QHostAddress &address, quint16 port, Transport transport, QString *error);

Q_SIGNALS:
    void drained(portico::ListenerId id);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace portico

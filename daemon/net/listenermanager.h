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
    quint16 port = 0;               // 0: the OS picks (tests); boundPort() tells
    Protocol protocol = Protocol::Http;
    QString project;                // empty: the ingress (path-prefix routing)
    ProxyProtocol proxyProtocol = ProxyProtocol::None;
    std::shared_ptr<RouteStats> stats; // counters of this listener's row
};

using ListenerId = quint64;

// Owns every listener of the daemon, in the control thread. open() binds at once (plain
// non-blocking syscalls) so that a busy port is reported synchronously, then hands the
// sockets to the workers: TCP ports get one SO_REUSEPORT socket per worker, a UDP port
// is served by one worker so that each client's session stays in one thread.
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
    // Emits drained(id) when the last connection is gone (or at the timeout).
    void drain(ListenerId id, int timeoutMs);
    // Closes the listener and every connection now.
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

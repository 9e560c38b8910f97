#pragma once

#include "net/listenercontext.h"
#include "net/loop/eventloop.h"

namespace portico {

class TcpListener;

// A connection accepted by a TcpListener (an HTTP connection or a raw TCP relay): a plain
// object owned by the listener of its worker, in the listener's intrusive list. It never
// crosses threads; when it ends it tells the listener (finished()) and the loop frees it
// once the events of the current wake-up are handled.
class Connection : public Retirable {
public:
    Connection() = default;
    ~Connection() override = default;
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // The client descriptor is adopted; start serving.
    virtual void start(int fd) = 0;
    // Finish gracefully: an idle HTTP connection closes now, a busy one after its current
    // answer; raw relays and tunnels go on until they end.
    virtual void drain() = 0;
    // Close now (the listener is going away). Must end in finished().
    virtual void abort() = 0;
    // An HTTP connection between exchanges (no request in progress).
    virtual bool isIdleHttp() const { return false; }
    virtual bool isHttp() const { return false; }

    const PeerAddress &peer() const { return m_peer; }
    TcpListener *listener() const { return m_listener; }

protected:
    // The connection ended: the listener forgets it, the loop frees it after this batch.
    // Nothing of this object may be used by the caller afterwards but returning.
    void finished();

private:
    friend class TcpListener;
    TcpListener *m_listener = nullptr;
    Connection *m_prev = nullptr;
    Connection *m_next = nullptr;
    PeerAddress m_peer;
    bool m_finished = false;
};

} // namespace portico

#pragma once

#include "net/conn/socket.h"
#include "net/loop/deadlines.h"
#include "net/loop/eventloop.h"
#include "routing/routetable.h"

#include <vector>

namespace portico::http {

class BackendPool;

// Told of the events of the backend connection it uses.
class BackendUser {
public:
    virtual void onBackendEvent() = 0;

protected:
    ~BackendUser() = default;
};

// One keep-alive connection to a backend (TCP or Unix): used by one exchange at a time,
// kept by the worker's pool between exchanges.
class BackendConn final : public IoHandler, public Retirable {
public:
    explicit BackendConn(const BackendTarget &target) : target(target) {}
    void onIo(quint32 events) override;

    Socket socket;
    BackendTarget target;
    BackendUser *user = nullptr; // while an exchange uses it
    // Pool bookkeeping while idle.
    BackendPool *pool = nullptr;
    BackendConn *prev = nullptr;
    BackendConn *next = nullptr;
    void onIdleTimeout();
    Timeout<BackendConn, &BackendConn::onIdleTimeout> idle{this};
};

// Per worker: idle keep-alive backend connections, at most maxPerTarget per backend,
// newest first (the warmest connection is reused), each closed after idleMs unused, or
// as soon as the backend speaks unasked or closes it.
class BackendPool final : public Retirable {
public:
    explicit BackendPool(EventLoop *loop) : m_loop(loop) {}
    ~BackendPool() override;
    static BackendPool &of(EventLoop *loop) { return loop->service<BackendPool>(); }

    // An idle connection to target (now the caller's), or nullptr.
    BackendConn *take(const BackendTarget &target);
    // Keeps conn for reuse, or frees it when its backend's share is full.
    void give(BackendConn *conn, int maxPerTarget, int idleMs);
    // Frees a connection that is not in the pool (after the current batch of events).
    void discard(BackendConn *conn);
    int idleCount(const BackendTarget &target) const;
    int idleTotal() const;

private:
    friend class BackendConn;
    struct Bucket {
        BackendTarget target;
        BackendConn *first = nullptr;
        int count = 0;
    };
    Bucket *bucket(const BackendTarget &target, bool create);
    void unlink(BackendConn *conn);
    void drop(BackendConn *conn); // an idle one: unlink and free
    EventLoop *m_loop;
    std::vector<Bucket> m_buckets;
};

} // namespace portico::http

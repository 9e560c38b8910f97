#include "backendpool.h"

namespace portico::http {

void BackendConn::onIo(quint32 events) {
    socket.note(events);
    if (user)
        user->onBackendEvent();
    else if (pool)
        pool->drop(this); // an idle connection spoke unasked or was closed: not reusable
}

void BackendConn::onIdleTimeout() {
    if (pool)
        pool->drop(this);
}

BackendPool::~BackendPool() {
    for (Bucket &b : m_buckets) {
        while (BackendConn *c = b.first) {
            unlink(c);
            delete c; // the loop is going away: nothing will report events any more
        }
    }
}

BackendPool::Bucket *BackendPool::bucket(const BackendTarget &target, bool create) {
    for (Bucket &b : m_buckets) {
        if (b.target == target)
            return &b;
    }
    if (!create)
        return nullptr;
    m_buckets.push_back(Bucket{target});
    return &m_buckets.back();
}

BackendConn *BackendPool::take(const BackendTarget &target) {
    for (;;) {
        Bucket *b = bucket(target, false);
        if (!b || !b->first)
            return nullptr;
        BackendConn *c = b->first;
        unlink(c);
        if (c->socket.isOpen() && !c->socket.peerShutdown())
            return c;
        discard(c);
    }
}

void BackendPool::give(BackendConn *conn, int maxPerTarget, int idleMs) {
    conn->user = nullptr;
    Bucket *b = bucket(conn->target, true);
    if (b->count >= maxPerTarget || !conn->socket.isOpen()) {
        discard(conn);
        return;
    }
    conn->pool = this;
    conn->prev = nullptr;
    conn->next = b->first;
    if (b->first)
        b->first->prev = conn;
    b->first = conn;
    ++b->count;
    m_loop->arm(conn->idle, idleMs);
}

void BackendPool::unlink(BackendConn *c) {
    Bucket *b = bucket(c->target, false);
    if (!b || c->pool != this)
        return;
    (c->prev ? c->prev->next : b->first) = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    c->pool = nullptr;
    c->idle.cancel();
    if (--b->count == 0) // backends come and go (a redeploy picks a new port): no empty buckets
        m_buckets.erase(m_buckets.begin() + (b - m_buckets.data()));
}

void BackendPool::drop(BackendConn *c) {
    unlink(c);
    discard(c);
}

void BackendPool::discard(BackendConn *c) {
    c->user = nullptr;
    c->pool = nullptr;
    c->idle.cancel();
    c->socket.close();
    m_loop->retire(std::unique_ptr<Retirable>(c));
}

int BackendPool::idleCount(const BackendTarget &target) const {
    for (const Bucket &b : m_buckets) {
        if (b.target == target)
            return b.count;
    }
    return 0;
}

int BackendPool::idleTotal() const {
    int n = 0;
    for (const Bucket &b : m_buckets)
        n += b.count;
    return n;
}

} // namespace portico::http

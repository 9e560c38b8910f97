#pragma once

#include <QtGlobal>

#include <sys/types.h>

#include <sys/uio.h>
#include <utility>

namespace portico {

class BufferPool;
class Socket;

// Bytes waiting to be written to one socket, in the worker's pool blocks (a block's first
// bytes hold the link to the next, so a queue allocates nothing but blocks). Empty, it
// holds no block at all. Used for what the kernel did not take at once: the fast path
// writes straight from where the bytes are and queues only the rest.
class ByteQueue {
public:
    explicit ByteQueue(BufferPool *pool = nullptr) : m_pool(pool) {}
    ~ByteQueue() { clear(); }
    ByteQueue(const ByteQueue &) = delete;
    ByteQueue &operator=(const ByteQueue &) = delete;

    void setPool(BufferPool *pool) { m_pool = pool; }
    qint64 size() const { return m_size; }
    bool isEmpty() const { return m_size == 0; }
    int blocks() const;

    // Copies data in; false when no block could be had (out of memory).
    bool append(const char *data, size_t length);
    // The bytes of iov but its first skip bytes.
    bool append(const iovec *iov, int count, size_t skip = 0);
    // Straight to the socket when nothing waits here and it can take bytes; what the
    // kernel does not take is queued (all of it when bytes wait already). False when the
    // socket failed or no block could be had.
    bool sendOrQueue(Socket &socket, const iovec *iov, int count);
    // Free room at the tail to read into (taking a block when needed), or {nullptr, 0}.
    iovec tail();
    void commit(size_t length); // length bytes were written into tail()

    // Writes as much as the socket takes; returns bytes written or Socket::kError.
    ssize_t writeTo(Socket &socket);
    // Up to max bytes from the front (for tests and small copies); consumes them.
    qint64 take(char *out, qint64 max);
    void clear();
    // Exchanges the bytes, not the pools: a queue keeps the pool its owner gave it (a
    // queue left without one crashed on its next append). Both must draw from one pool.
    void swap(ByteQueue &other) noexcept {
        Q_ASSERT(m_pool == other.m_pool);
        std::swap(m_head, other.m_head);
        std::swap(m_tail, other.m_tail);
        std::swap(m_size, other.m_size);
    }
    // Moves every byte of other to the end of this queue (other ends empty).
    bool takeAll(ByteQueue &other);

private:
    struct Block;
    void pop(qint64 n);
    BufferPool *m_pool;
    Block *m_head = nullptr;
    Block *m_tail = nullptr;
    qint64 m_size = 0;
};

} // namespace portico

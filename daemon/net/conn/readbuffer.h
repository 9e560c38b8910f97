#pragma once

#include <QByteArrayView>
#include <QtGlobal>

#include <sys/types.h>

namespace portico {

class BufferPool;
class Socket;

// Bytes read from a socket and not consumed yet: one pool block, or for a head larger
// than a block a heap buffer up to the head limit. Empty, it holds no memory at all (an
// idle keep-alive connection holds no buffer).
class ReadBuffer {
public:
    explicit ReadBuffer(BufferPool *pool = nullptr) : m_pool(pool) {}
    ~ReadBuffer() { release(); }
    ReadBuffer(const ReadBuffer &) = delete;
    ReadBuffer &operator=(const ReadBuffer &) = delete;

    void setPool(BufferPool *pool) { m_pool = pool; }
    const char *data() const { return m_data + m_start; }
    int size() const { return m_end - m_start; }
    bool isEmpty() const { return m_end == m_start; }
    QByteArrayView view() const { return {data(), size()}; }
    bool holdsMemory() const { return m_data != nullptr; }

    // Reads what the socket has, keeping at most maxHeld bytes. Returns the socket's
    // answer (bytes, 0 at EOF, Socket::kAgain, Socket::kError); kAgain too when full.
    ssize_t readFrom(Socket &socket, int maxHeld);
    bool full(int maxHeld) const { return size() >= maxHeld; }
    void consume(int n); // gives the memory back once empty
    void release();
    // Appends bytes (for data handed over from elsewhere); false when out of memory.
    bool append(const char *data, int length, int maxHeld);

private:
    bool makeRoom(int maxHeld);
    BufferPool *m_pool;
    char *m_data = nullptr;
    int m_capacity = 0;
    int m_start = 0;
    int m_end = 0;
    bool m_heap = false;
};

} // namespace portico

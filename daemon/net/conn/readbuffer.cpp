#include "readbuffer.h"

#include "net/loop/bufferpool.h"
#include "socket.h"

#include <cstdlib>
#include <cstring>

namespace portico {

void ReadBuffer::release() {
    if (!m_data)
        return;
    if (m_heap)
        std::free(m_data);
    else
        m_pool->release(m_data);
    m_data = nullptr;
    m_capacity = m_start = m_end = 0;
    m_heap = false;
}

void ReadBuffer::consume(int n) {
    if (!m_data)
        return;
    m_start += n;
    if (m_start >= m_end)
        release();
}

bool ReadBuffer::makeRoom(int maxHeld) {
    if (!m_data) {
        m_data = m_pool->acquire();
        if (!m_data)
            return false;
        m_capacity = BufferPool::kBlockSize;
        m_start = m_end = 0;
        m_heap = false;
    }
    if (m_end < m_capacity)
        return true;
    if (m_start > 0) {
        std::memmove(m_data, m_data + m_start, size_t(m_end - m_start));
        m_end -= m_start;
        m_start = 0;
        return true;
    }
    if (m_capacity >= maxHeld)
        return false;
    // A head larger than a block (rare): a heap buffer of the head limit, given back as
    // soon as the head is consumed.
    char *bigger = static_cast<char *>(std::malloc(size_t(maxHeld)));
    if (!bigger)
        return false;
    std::memcpy(bigger, m_data, size_t(m_end));
    if (m_heap)
        std::free(m_data);
    else
        m_pool->release(m_data);
    m_data = bigger;
    m_capacity = maxHeld;
    m_heap = true;
    return true;
}

ssize_t ReadBuffer::readFrom(Socket &socket, int maxHeld) {
    if (size() >= maxHeld || !makeRoom(maxHeld))
        return Socket::kAgain;
    const int room = qMin(m_capacity - m_end, maxHeld - size());
    const ssize_t n = socket.read(m_data + m_end, size_t(room));
    if (n > 0)
        m_end += int(n);
    else if (isEmpty())
        release();
    return n;
}

bool ReadBuffer::append(const char *data, int length, int maxHeld) {
    while (length > 0) {
        if (!makeRoom(qMax(maxHeld, size() + length)))
            return false;
        const int n = qMin(length, m_capacity - m_end);
        std::memcpy(m_data + m_end, data, size_t(n));
        m_end += n;
        data += n;
        length -= n;
    }
    return true;
}

} // namespace portico

#include "bytequeue.h"

#include "net/loop/bufferpool.h"
#include "socket.h"

#include <cstring>

namespace portico {

struct ByteQueue::Block {
    Block *next;
    qint32 head; // first unsent byte
    qint32 tail; // end of the bytes
    char *data() { return reinterpret_cast<char *>(this + 1); }
    static constexpr qint32 kCapacity = BufferPool::kBlockSize - qint32(sizeof(Block *) + 2 * sizeof(qint32));
};

int ByteQueue::blocks() const {
    int n = 0;
    for (Block *b = m_head; b; b = b->next)
        ++n;
    return n;
}

iovec ByteQueue::tail() {
    if (!m_tail || m_tail->tail == Block::kCapacity) {
        char *raw = m_pool->acquire();
        if (!raw)
            return {nullptr, 0};
        auto *b = reinterpret_cast<Block *>(raw);
        b->next = nullptr;
        b->head = b->tail = 0;
        (m_tail ? m_tail->next : m_head) = b;
        m_tail = b;
    }
    return {m_tail->data() + m_tail->tail, size_t(Block::kCapacity - m_tail->tail)};
}

void ByteQueue::commit(size_t length) {
    m_tail->tail += qint32(length);
    m_size += qint64(length);
}

bool ByteQueue::append(const char *data, size_t length) {
    while (length > 0) {
        const iovec room = tail();
        if (!room.iov_base)
            return false;
        const size_t n = qMin(length, room.iov_len);
        std::memcpy(room.iov_base, data, n);
        commit(n);
        data += n;
        length -= n;
    }
    return true;
}

bool ByteQueue::append(const iovec *iov, int count, size_t skip) {
    for (int i = 0; i < count; ++i) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        if (!append(static_cast<const char *>(iov[i].iov_base) + skip, iov[i].iov_len - skip))
            return false;
        skip = 0;
    }
    return true;
}

bool ByteQueue::sendOrQueue(Socket &socket, const iovec *iov, int count) {
    if (!isEmpty() || !socket.writable() || socket.writeShut())
        return append(iov, count); // behind the bytes already waiting, or for EPOLLOUT
    const ssize_t n = socket.writev(iov, count);
    if (n == Socket::kError)
        return false;
    return append(iov, count, size_t(n));
}

void ByteQueue::pop(qint64 n) {
    m_size -= n;
    while (n > 0 && m_head) {
        const qint64 here = m_head->tail - m_head->head;
        if (n < here) {
            m_head->head += qint32(n);
            return;
        }
        n -= here;
        Block *done = m_head;
        m_head = done->next;
        if (!m_head)
            m_tail = nullptr;
        m_pool->release(reinterpret_cast<char *>(done));
    }
}

ssize_t ByteQueue::writeTo(Socket &socket) {
    ssize_t total = 0;
    while (m_size > 0) {
        iovec iov[16];
        int count = 0;
        for (Block *b = m_head; b && count < 16; b = b->next) {
            if (b->tail > b->head)
                iov[count++] = {b->data() + b->head, size_t(b->tail - b->head)};
        }
        const ssize_t n = socket.writev(iov, count);
        if (n < 0)
            return n;
        pop(n);
        total += n;
        if (!socket.writable())
            break;
    }
    if (m_size == 0)
        clear();
    return total;
}

qint64 ByteQueue::take(char *out, qint64 max) {
    qint64 copied = 0;
    while (copied < max && m_head) {
        const qint64 here = qMin<qint64>(max - copied, m_head->tail - m_head->head);
        std::memcpy(out + copied, m_head->data() + m_head->head, size_t(here));
        copied += here;
        pop(here);
        if (m_head && m_head->head == m_head->tail && m_head == m_tail)
            break;
    }
    if (m_size == 0)
        clear();
    return copied;
}

bool ByteQueue::takeAll(ByteQueue &other) {
    if (other.isEmpty())
        return true;
    if (isEmpty() && m_pool == other.m_pool) {
        clear();
        swap(other);
        return true;
    }
    for (Block *b = other.m_head; b; b = b->next) {
        if (!append(b->data() + b->head, size_t(b->tail - b->head)))
            return false;
    }
    other.clear();
    return true;
}

void ByteQueue::clear() {
    while (m_head) {
        Block *done = m_head;
        m_head = done->next;
        m_pool->release(reinterpret_cast<char *>(done));
    }
    m_tail = nullptr;
    m_size = 0;
}

} // namespace portico

#include "bufferpool.h"

#include <sys/mman.h>

namespace portico {

BufferPool::~BufferPool() {
    for (char *b : m_free)
        ::munmap(b, kBlockSize);
}

char *BufferPool::acquire() {
    char *b = nullptr;
    if (!m_free.empty()) {
        b = m_free.back();
        m_free.pop_back();
    } else {
        void *p = ::mmap(nullptr, kBlockSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return nullptr;
        b = static_cast<char *>(p);
    }
    bump(m_acquired, 1);
    bump(m_inUse, 1);
    const qint64 inUse = m_inUse.load(std::memory_order_relaxed);
    if (inUse > m_peak.load(std::memory_order_relaxed))
        m_peak.store(inUse, std::memory_order_relaxed);
    m_periodPeak = qMax(m_periodPeak, inUse);
    m_cached.store(qint64(m_free.size()), std::memory_order_relaxed);
    return b;
}

void BufferPool::release(char *block) {
    if (!block)
        return;
    bump(m_inUse, -1);
    m_free.push_back(block);
    m_cached.store(qint64(m_free.size()), std::memory_order_relaxed);
}

bool BufferPool::trim() {
    const qint64 inUse = m_inUse.load(std::memory_order_relaxed);
    const qint64 keep = qMax<qint64>(m_maxCached, m_periodPeak - inUse);
    while (qint64(m_free.size()) > keep) {
        ::munmap(m_free.back(), kBlockSize);
        m_free.pop_back();
    }
    m_periodPeak = inUse;
    m_cached.store(qint64(m_free.size()), std::memory_order_relaxed);
    return overCache();
}

} // namespace portico

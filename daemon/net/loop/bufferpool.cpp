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
    if (m_inUse.load(std::memory_order_relaxed) > m_peak.load(std::memory_order_relaxed))
        m_peak.store(m_inUse.load(std::memory_order_relaxed), std::memory_order_relaxed);
    m_cached.store(qint64(m_free.size()), std::memory_order_relaxed);
    return b;
}

void BufferPool::release(char *block) {
    if (!block)
        return;
    bump(m_inUse, -1);
    if (int(m_free.size()) < m_maxCached)
        m_free.push_back(block);
    else
        ::munmap(block, kBlockSize);
    m_cached.store(qint64(m_free.size()), std::memory_order_relaxed);
}

} // namespace portico

#pragma once

#include <QtGlobal>

#include <atomic>
#include <vector>

namespace portico {

// The read and write buffers of one worker's connections: fixed-size blocks, taken when a
// connection has bytes to hold and given back as soon as it has none, so an idle
// keep-alive connection holds no buffer at all.
//
// Blocks are mapped with mmap, not malloc'ed, so that what is given back really goes back
// to the kernel instead of staying at a burst's peak in malloc's arenas. Free blocks are
// kept for reuse as long as the load may want them again: up to maxCached always, and
// beyond that as many as the load used in the last trim period. trim(), called about once
// a second by the loop while there is more than maxCached, gives the rest back; so a
// steady load costs no system call per buffer (mapping and unmapping a block per request
// at 1000 connections cost more than the requests), and a burst's blocks are gone within
// two periods after it.
class BufferPool {
public:
    static constexpr int kBlockSize = 16 * 1024;

    explicit BufferPool(int maxCached = 256) : m_maxCached(maxCached) {}
    ~BufferPool();
    BufferPool(const BufferPool &) = delete;
    BufferPool &operator=(const BufferPool &) = delete;

    // A block of kBlockSize bytes, or nullptr when the system has no memory left.
    char *acquire();
    void release(char *block);

    // Gives back the free blocks beyond what the last period's load used (at least
    // maxCached stay). Returns whether more than maxCached remain (trim again later).
    bool trim();
    bool overCache() const { return qsizetype(m_free.size()) > m_maxCached; }

    struct Stats {
        qint64 inUse = 0;    // blocks held by connections now
        qint64 cached = 0;   // free blocks kept for reuse
        qint64 peak = 0;     // the most ever in use at once
        qint64 acquired = 0; // total acquisitions
    };
    // Readable from any thread (the counters are written by the owning worker only).
    Stats stats() const {
        return {m_inUse.load(std::memory_order_relaxed), m_cached.load(std::memory_order_relaxed),
                m_peak.load(std::memory_order_relaxed), m_acquired.load(std::memory_order_relaxed)};
    }

private:
    static void bump(std::atomic<qint64> &a, qint64 by) {
        a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    std::vector<char *> m_free;
    int m_maxCached;
    qint64 m_periodPeak = 0; // the most in use since the last trim
    std::atomic<qint64> m_inUse{0};
    std::atomic<qint64> m_cached{0};
    std::atomic<qint64> m_peak{0};
    std::atomic<qint64> m_acquired{0};
};

} // namespace portico

#pragma once

#include <QtGlobal>

#include <vector>

namespace portico {

class FdBudget;

// A kernel pipe used to splice() bytes from one socket to another without copying them
// through user space.
struct SplicePipe {
    int rd = -1;
    int wr = -1;
    int capacity = 0; // bytes the pipe holds
    bool valid() const { return rd >= 0; }
};

// One worker's splice pipes. A pipe costs two descriptors, so relays take one only for
// bulk transfers and give it back when the transfer ends; empty pipes are kept for reuse,
// a pipe that still holds bytes is closed (its bytes belong to a connection that ended).
class PipePool {
public:
    PipePool(int pipeBytes = 256 * 1024, int maxCached = 32)
        : m_pipeBytes(pipeBytes), m_maxCached(maxCached) {}
    ~PipePool();
    PipePool(const PipePool &) = delete;
    PipePool &operator=(const PipePool &) = delete;

    // Every descriptor of the pool's pipes, cached ones included, is counted in budget.
    void setBudget(FdBudget *budget) { m_budget = budget; }
    // A pipe, or false when none can be had (descriptors short, or the budget is tight).
    bool acquire(SplicePipe *out);
    void release(SplicePipe *pipe, bool empty);
    int inUse() const { return m_inUse; }
    int cached() const { return int(m_free.size()); }

private:
    std::vector<SplicePipe> m_free;
    int m_pipeBytes;
    int m_maxCached;
    int m_inUse = 0;
    FdBudget *m_budget = nullptr;
};

} // namespace portico

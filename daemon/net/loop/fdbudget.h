#pragma once

#include <QtGlobal>

#include <atomic>

namespace portico {

// How many descriptors the data plane may hold at once, shared by every worker. Sized at
// start from RLIMIT_NOFILE minus a reserve for everything else (the admin socket and its
// clients, log files, backends being started, Qt's own), so that a flood of connections
// is refused at the door instead of running the whole process out of descriptors.
class FdBudget {
public:
    explicit FdBudget(qint64 limit) : m_limit(limit) {}
    FdBudget(const FdBudget &) = delete;
    FdBudget &operator=(const FdBudget &) = delete;

    // Takes n descriptors from the budget; false (and nothing taken) when it would go over.
    bool take(int n) {
        qint64 used = m_used.load(std::memory_order_relaxed);
        do {
            if (used + n > m_limit)
                return false;
        } while (!m_used.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
        return true;
    }
    void give(int n) { m_used.fetch_sub(n, std::memory_order_relaxed); }
    // True while fewer than `headroom` descriptors are left: optional uses (splice pipes)
    // step back so that connections keep their share.
    bool tight(qint64 headroom) const { return m_used.load(std::memory_order_relaxed) + headroom > m_limit; }

    qint64 used() const { return m_used.load(std::memory_order_relaxed); }
    qint64 limit() const { return m_limit; }

    // The budget for a process whose soft RLIMIT_NOFILE is nofile: all but a reserve for
    // the control plane of max(64, nofile / 8, adminClients + 64) descriptors, so that
    // every admin client the configuration allows finds one under a flood. The reserve
    // never takes more than half: reserveCapped() tells when adminClients did not fit.
    static qint64 forFileLimit(qint64 nofile, int adminClients = 0);
    static bool reserveCapped(qint64 nofile, int adminClients);

private:
    const qint64 m_limit;
    std::atomic<qint64> m_used{0};
};

} // namespace portico

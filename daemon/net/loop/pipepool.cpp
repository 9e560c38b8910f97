#include "pipepool.h"

#include "fdbudget.h"

#include <fcntl.h>
#include <unistd.h>

namespace portico {

namespace {
qint64 wantedReserve(qint64 nofile, int adminClients) {
    return qMax(qMax<qint64>(64, nofile / 8), qint64(adminClients) + 64);
}
} // namespace

qint64 FdBudget::forFileLimit(qint64 nofile, int adminClients) {
    const qint64 reserve = qMin(wantedReserve(nofile, adminClients), qMax<qint64>(64, nofile / 2));
    return qMax<qint64>(16, nofile - reserve);
}

bool FdBudget::reserveCapped(qint64 nofile, int adminClients) {
    return nofile - forFileLimit(nofile, adminClients) < wantedReserve(nofile, adminClients);
}

PipePool::~PipePool() {
    for (SplicePipe &p : m_free) {
        ::close(p.rd);
        ::close(p.wr);
        if (m_budget)
            m_budget->give(2);
    }
}

bool PipePool::acquire(SplicePipe *out) {
    if (!m_free.empty()) {
        *out = m_free.back();
        m_free.pop_back();
        ++m_inUse;
        return true;
    }
    // Pipes are an optimisation: never take the last descriptors a connection could use.
    if (m_budget && (m_budget->tight(qMax<qint64>(64, m_budget->limit() / 4)) || !m_budget->take(2)))
        return false;
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        if (m_budget)
            m_budget->give(2);
        return false;
    }
    out->rd = fds[0];
    out->wr = fds[1];
    // A larger pipe moves more per splice(); where the kernel refuses (per-user pipe
    // limits), the default size still works.
    int size = ::fcntl(fds[1], F_SETPIPE_SZ, m_pipeBytes);
    if (size < 0)
        size = ::fcntl(fds[1], F_GETPIPE_SZ);
    out->capacity = size > 0 ? size : 65536;
    ++m_inUse;
    return true;
}

void PipePool::release(SplicePipe *pipe, bool empty) {
    if (!pipe->valid())
        return;
    --m_inUse;
    if (empty && int(m_free.size()) < m_maxCached) {
        m_free.push_back(*pipe);
    } else {
        ::close(pipe->rd);
        ::close(pipe->wr);
        if (m_budget)
            m_budget->give(2);
    }
    *pipe = SplicePipe{};
}

} // namespace portico

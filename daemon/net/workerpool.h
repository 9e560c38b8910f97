#pragma once

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>
#include <vector>

namespace portico {

class EventLoop;
class FdBudget;

// The data-plane threads. Each worker runs its own EventLoop (epoll) and owns the
// listeners and connections created in it; nothing per connection crosses threads. The
// workers share one descriptor budget, sized from RLIMIT_NOFILE when the pool starts.
class WorkerPool final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkerPool)
public:
    // count <= 0: one per core. budget < 0: from the current RLIMIT_NOFILE.
    explicit WorkerPool(int count, QObject *parent = nullptr, qint64 budget = -1);
    ~WorkerPool() override; // stops and joins every worker

    int size() const { return int(m_threads.size()); }
    // An object living in worker i: parent for objects created there, and the context
    // for QMetaObject::invokeMethod(context(i), fn) to run fn on that thread.
    QObject *context(int i) const;
    // Runs fn on worker i (queued; returns at once).
    void post(int i, std::function<void()> fn) const;
    // Worker i's loop (its counters may be read from any thread).
    const EventLoop *loop(int i) const { return m_loops.at(size_t(i)); }
    FdBudget *budget() const { return m_budget.get(); }

    // Data-plane figures summed over the workers (readable from any thread).
    struct Stats {
        qint64 buffersInUse = 0;
        qint64 buffersCached = 0;
        qint64 buffersPeak = 0;
        qint64 descriptorsInUse = 0;
        qint64 descriptorBudget = 0;
        quint64 wakeups = 0;
    };
    Stats stats() const;

private:
    std::unique_ptr<FdBudget> m_budget;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<QObject *> m_contexts; // owned by their threads, deleted on finish
    std::vector<EventLoop *> m_loops;  // owned by their threads
};

} // namespace portico

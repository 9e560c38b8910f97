#pragma once

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>
#include <vector>

namespace portico {

// The data-plane threads. Each worker runs its own event loop and owns the listeners
// and connections created in it; nothing per connection crosses threads.
class WorkerPool final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkerPool)
public:
    explicit WorkerPool(int count, QObject *parent = nullptr); // count <= 0: one per core
    ~WorkerPool() override;                                    // stops and joins every worker

    int size() const { return int(m_threads.size()); }
    // An object living in worker i: parent for objects created there, and the context
    // for QMetaObject::invokeMethod(context(i), fn) to run fn on that thread.
    QObject *context(int i) const;
    // Runs fn on worker i (queued; returns at once).
    void post(int i, std::function<void()> fn) const;

private:
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<QObject *> m_contexts; // owned by their threads, deleted on finish
};

} // namespace portico

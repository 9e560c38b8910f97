#include "workerpool.h"

#include "filelimit.h"
#include "loop/eventloop.h"
#include "loop/fdbudget.h"
#include "routing/routetable.h"

namespace portico {

WorkerPool::WorkerPool(int count, QObject *parent, qint64 budget) : QObject(parent) {
    if (count <= 0)
        count = qMax(1, QThread::idealThreadCount());
    count = qMin(count, kMaxWorkers - 1);
    if (budget < 0)
        budget = FdBudget::forFileLimit(softFileLimit());
    m_budget = std::make_unique<FdBudget>(budget);
    for (int i = 0; i < count; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("portico-worker-%1").arg(i));
        // The worker's epoll loop; the thread owns it (and deletes it when it finishes).
        auto *loop = new EventLoop;
        loop->setBudget(m_budget.get());
        thread->setEventDispatcher(loop);
        m_loops.push_back(loop);
        auto *context = new QObject; // moved to the thread, deleted when it finishes
        context->setObjectName(QStringLiteral("worker-%1").arg(i));
        context->moveToThread(thread.get());
        // Worker slots are 1..count; slot 0 is the control thread's.
        const int index = i + 1;
        QObject::connect(thread.get(), &QThread::started, context, [index] { setCurrentWorkerIndex(index); });
        QObject::connect(thread.get(), &QThread::finished, context, &QObject::deleteLater);
        thread->start();
        m_contexts.push_back(context);
        m_threads.push_back(std::move(thread));
    }
}

WorkerPool::~WorkerPool() {
    for (auto &t : m_threads)
        t->quit();
    for (auto &t : m_threads)
        t->wait();
}

QObject *WorkerPool::context(int i) const {
    return m_contexts.at(size_t(i));
}

void WorkerPool::post(int i, std::function<void()> fn) const {
    QMetaObject::invokeMethod(context(i), std::move(fn), Qt::QueuedConnection);
}

WorkerPool::Stats WorkerPool::stats() const {
    Stats s;
    for (const EventLoop *loop : m_loops) {
        const BufferPool::Stats b = loop->bufferStats();
        s.buffersInUse += b.inUse;
        s.buffersCached += b.cached;
        s.buffersPeak += b.peak;
        s.wakeups += loop->wakeups();
    }
    s.descriptorsInUse = m_budget->used();
    s.descriptorBudget = m_budget->limit();
    return s;
}

} // namespace portico

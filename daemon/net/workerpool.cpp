#include "workerpool.h"

#include "routing/routetable.h"

#include <QEventLoop>

namespace portico {

WorkerPool::WorkerPool(int count, QObject *parent) : QObject(parent) {
    if (count <= 0)
        count = qMax(1, QThread::idealThreadCount());
    count = qMin(count, kMaxWorkers - 1);
    // The workers run the plain UNIX (poll) event dispatcher on purpose: measured with
    // tst_tcprelaybench, the GLib one costs the relay a good share of its throughput
    // (here ~950 vs ~1500 MiB/s median). Qt reads this variable when a thread creates its
    // dispatcher and it affects threads only, so the control thread keeps the default.
    if (qEnvironmentVariableIsEmpty("QT_NO_THREADED_GLIB"))
        qputenv("QT_NO_THREADED_GLIB", "1");
    for (int i = 0; i < count; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("portico-worker-%1").arg(i));
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

} // namespace portico

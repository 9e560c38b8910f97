#pragma once

#include <QObject>
#include <QThread>

#include <utility>

namespace portico::test {

// A parent QObject living in its own thread: servers made under it run there and are
// deleted there by stop() (or the destructor). Owners call stop() first in their
// destructor so that nothing they still hold is gone while the thread runs.
class ContextThread {
public:
    ContextThread() {
        m_thread.start();
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
    }
    ~ContextThread() { stop(); }
    ContextThread(const ContextThread &) = delete;
    ContextThread &operator=(const ContextThread &) = delete;

    QObject *context() const { return m_context; }

    // Runs fn in the thread and waits for it.
    template <typename Fn> void run(Fn &&fn) {
        QMetaObject::invokeMethod(m_context, std::forward<Fn>(fn), Qt::BlockingQueuedConnection);
    }

    void stop() {
        if (!m_context)
            return;
        run([this] { delete m_context; });
        m_context = nullptr;
        m_thread.quit();
        m_thread.wait();
    }

private:
    QThread m_thread;
    QObject *m_context = nullptr;
};

} // namespace portico::test

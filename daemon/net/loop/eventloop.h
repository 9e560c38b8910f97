#pragma once

#include "bufferpool.h"
#include "deadlines.h"

#include <QAbstractEventDispatcher>

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

namespace portico {

class FdBudget;
class PipePool;

// Receives the epoll events of a descriptor registered directly with an EventLoop. The
// data plane's connections implement it: no QObject, no signal, no notifier per socket.
class IoHandler {
public:
    virtual void onIo(quint32 events) = 0;

protected:
    ~IoHandler() = default;
};

// Something whose memory must outlive the batch of events being handled (a connection
// that ended while later events of the same epoll_wait may still name it).
class Retirable {
public:
    virtual ~Retirable() = default;
};

// The event loop of a data-plane worker: a QAbstractEventDispatcher on epoll, installed on
// the worker's QThread (QThread::setEventDispatcher) so that QTimer, QSocketNotifier and
// queued calls keep working while a wake-up costs O(ready descriptors), where Qt's UNIX
// dispatcher hands every descriptor to ppoll on every wake-up.
//
// Beside Qt's interface it offers what the data plane is built on:
// - add/modify/remove: descriptors registered with a plain IoHandler (usually edge-
//   triggered, so a connection registers once and never calls epoll_ctl again);
// - deadlines(): every connection timeout of the worker, checked once per wake-up;
// - buffers(): the worker's buffer pool; pipes(): its splice pipes;
// - retire(): deferred deletion until the current batch of events is handled;
// - now(): the loop's clock (monotonic ms), read once per wake-up.
// Qt's socket notifiers are level-triggered, as Qt expects. A descriptor is either a
// notifier's or a handler's, never both.
class EventLoop final : public QAbstractEventDispatcher {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLoop)
public:
    explicit EventLoop(QObject *parent = nullptr);
    ~EventLoop() override;

    // The loop of the calling thread, or nullptr when the thread runs another dispatcher.
    static EventLoop *current();
    static qint64 monotonicMs();

    bool add(int fd, quint32 events, IoHandler *handler);
    bool modify(int fd, quint32 events, IoHandler *handler);
    void remove(int fd);

    qint64 now() const { return m_now; }
    qint64 refreshNow();
    DeadlineLists &deadlines() { return m_deadlines; }
    void arm(Deadline &d, int durationMs) { m_deadlines.arm(d, m_now, durationMs); }
    BufferPool &buffers() { return m_buffers; }
    PipePool &pipes() { return *m_pipes; }
    // Data-plane descriptors of the whole process (may be null: no limit).
    FdBudget *budget() const { return m_budget; }
    void setBudget(FdBudget *budget) { m_budget = budget; }
    void retire(std::unique_ptr<Retirable> object);

    // One T per loop (e.g. the HTTP backend pool), made on first use with T(EventLoop *)
    // and destroyed with the loop, before its deadlines and buffers.
    template <typename T> T &service() {
        static const char tag = 0;
        auto &slot = m_services[&tag];
        if (!slot)
            slot = std::make_unique<T>(this);
        return *static_cast<T *>(slot.get());
    }

    // Wake-ups so far (each return of epoll_wait), readable from any thread.
    quint64 wakeups() const { return m_wakeups.load(std::memory_order_relaxed); }
    BufferPool::Stats bufferStats() const { return m_buffers.stats(); }

    // QAbstractEventDispatcher
    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;
    void startingUp() override;
    void closingDown() override;

private:
    struct NotifierSlot;
    struct WakeHandler final : IoHandler {
        EventLoop *loop = nullptr;
        void onIo(quint32) override;
    };
    struct QtTimer {
        int id;
        qint64 interval;
        Qt::TimerType type;
        QObject *object;
        qint64 due;
        bool active; // inside its own timerEvent (never re-entered)
    };

    int waitTimeout(QEventLoop::ProcessEventsFlags flags) const;
    bool activateTimers();
    void trimBuffers();
    void updateNotifierSlot(int fd, NotifierSlot *slot);
    void freeRetired();

    int m_epoll = -1;
    int m_wakeFd = -1;
    WakeHandler m_wake;
    std::atomic<bool> m_wakePending{false};
    std::atomic<bool> m_interrupt{false};
    Qt::HANDLE m_thread = nullptr;
    qint64 m_now = 0;
    std::atomic<quint64> m_wakeups{0};
    int m_depth = 0;

    std::unordered_map<int, std::unique_ptr<NotifierSlot>> m_notifiers;
    std::vector<QtTimer> m_timers;
    DeadlineLists m_deadlines;
    BufferPool m_buffers;
    Timeout<EventLoop, &EventLoop::trimBuffers> m_trim{this}; // while more free blocks than the base cache
    std::unique_ptr<PipePool> m_pipes;
    FdBudget *m_budget = nullptr;
    std::vector<std::unique_ptr<Retirable>> m_retired;
    std::unordered_map<const void *, std::unique_ptr<Retirable>> m_services;
};

} // namespace portico

#include "eventloop.h"

#include "fdbudget.h"
#include "pipepool.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QThread>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace portico {

namespace {
thread_local EventLoop *t_loop = nullptr;
constexpr int kMaxEvents = 256;
// How often free buffers beyond the base cache are looked at (see BufferPool::trim).
constexpr int kTrimPeriodMs = 1000;
} // namespace

// The notifiers Qt registered for one descriptor (read, write, exception), as one
// level-triggered epoll registration.
struct EventLoop::NotifierSlot final : IoHandler, Retirable {
    EventLoop *loop = nullptr;
    int fd = -1;
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;
    QSocketNotifier *exception = nullptr;
    quint32 events = 0; // registered with epoll (0: not registered)

    quint32 wanted() const {
        return (read ? quint32(EPOLLIN) : 0u) | (write ? quint32(EPOLLOUT) : 0u) |
               (exception ? quint32(EPOLLPRI) : 0u);
    }
    void onIo(quint32 ev) override {
        // Qt's UNIX dispatcher reports hang-ups and errors as both readable and writable;
        // the notifier's owner finds out what happened when it reads or writes.
        const bool failed = ev & (EPOLLERR | EPOLLHUP);
        QEvent event(QEvent::SockAct);
        if (read && (failed || (ev & (EPOLLIN | EPOLLRDHUP))))
            QCoreApplication::sendEvent(read, &event);
        if (write && (failed || (ev & EPOLLOUT)))
            QCoreApplication::sendEvent(write, &event);
        if (exception && (ev & EPOLLPRI))
            QCoreApplication::sendEvent(exception, &event);
    }
};

void EventLoop::WakeHandler::onIo(quint32) {
    eventfd_t value = 0;
    (void)::eventfd_read(loop->m_wakeFd, &value);
}

EventLoop::EventLoop(QObject *parent)
    : QAbstractEventDispatcher(parent), m_pipes(std::make_unique<PipePool>()) {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll < 0 || m_wakeFd < 0)
        qFatal("portico: cannot create the worker's epoll instance or eventfd (%s)", strerror(errno));
    m_wake.loop = this;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = static_cast<IoHandler *>(&m_wake);
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &ev);
    m_now = monotonicMs();
}

EventLoop::~EventLoop() {
    if (t_loop == this)
        t_loop = nullptr;
    freeRetired();
    m_services.clear();
    freeRetired();
    m_notifiers.clear();
    ::close(m_wakeFd);
    ::close(m_epoll);
}

EventLoop *EventLoop::current() {
    return t_loop;
}

qint64 EventLoop::monotonicMs() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

qint64 EventLoop::refreshNow() {
    m_now = monotonicMs();
    return m_now;
}

void EventLoop::startingUp() {
    t_loop = this;
    m_thread = QThread::currentThreadId();
    m_pipes->setBudget(m_budget);
}

void EventLoop::closingDown() {
    // Connections still alive when the thread ends are gone with their owners by now.
    freeRetired();
    m_services.clear();
    freeRetired();
    if (t_loop == this)
        t_loop = nullptr;
}

bool EventLoop::add(int fd, quint32 events, IoHandler *handler) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = handler;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, quint32 events, IoHandler *handler) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = handler;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::retire(std::unique_ptr<Retirable> object) {
    // Freed when the outermost processEvents() returns, or when the thread ends.
    m_retired.push_back(std::move(object));
}

void EventLoop::freeRetired() {
    // Destructors may retire more.
    while (!m_retired.empty()) {
        std::vector<std::unique_ptr<Retirable>> batch;
        batch.swap(m_retired);
        batch.clear();
    }
}

// ---------------------------------------------------------------- Qt's interface

void EventLoop::wakeUp() {
    // The loop's own thread is not blocked in epoll_wait while it runs code: noting that
    // something was posted is enough, and costs no system call.
    if (m_wakePending.exchange(true, std::memory_order_acq_rel))
        return;
    if (QThread::currentThreadId() == m_thread)
        return;
    (void)::eventfd_write(m_wakeFd, 1);
}

void EventLoop::interrupt() {
    m_interrupt.store(true, std::memory_order_release);
    m_wakePending.store(false, std::memory_order_release);
    wakeUp();
}

int EventLoop::waitTimeout(QEventLoop::ProcessEventsFlags flags) const {
    if (!(flags & QEventLoop::WaitForMoreEvents) || m_wakePending.load(std::memory_order_acquire) ||
        m_interrupt.load(std::memory_order_acquire) || !m_retired.empty())
        return 0;
    qint64 next = m_deadlines.next();
    for (const QtTimer &t : m_timers) {
        if (!t.active && (next < 0 || t.due < next))
            next = t.due;
    }
    if (next < 0)
        return -1;
    const qint64 now = monotonicMs();
    return next <= now ? 0 : int(qMin<qint64>(next - now, 24 * 3600 * 1000));
}

bool EventLoop::processEvents(QEventLoop::ProcessEventsFlags flags) {
    ++m_depth;
    m_interrupt.store(false, std::memory_order_release);
    Q_EMIT awake();
    // Cleared before the posted events are sent: whatever is posted from now on (by this
    // thread or another) makes the next wait return at once.
    m_wakePending.store(false, std::memory_order_release);
    QCoreApplication::sendPostedEvents();
    bool handled = false;

    if (!m_interrupt.load(std::memory_order_acquire)) {
        const int timeout = waitTimeout(flags);
        if (timeout != 0)
            Q_EMIT aboutToBlock();
        epoll_event events[kMaxEvents];
        int n = ::epoll_wait(m_epoll, events, kMaxEvents, timeout);
        if (n < 0)
            n = 0; // EINTR: a signal; the caller's loop comes back
        m_wakeups.store(m_wakeups.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        refreshNow();
        if (timeout != 0)
            Q_EMIT awake();
        const bool skipNotifiers = flags & QEventLoop::ExcludeSocketNotifiers;
        for (int i = 0; i < n; ++i) {
            auto *handler = static_cast<IoHandler *>(events[i].data.ptr);
            if (handler == &m_wake) {
                m_wake.onIo(events[i].events);
                continue;
            }
            if (skipNotifiers && dynamic_cast<NotifierSlot *>(handler))
                continue;
            handler->onIo(events[i].events);
            handled = true;
        }
        if (!(flags & QEventLoop::X11ExcludeTimers))
            handled |= activateTimers();
        handled |= m_deadlines.expire(m_now) > 0;
        if (!m_trim.armed() && m_buffers.overCache())
            arm(m_trim, kTrimPeriodMs);
    }
    --m_depth;
    if (m_depth == 0)
        freeRetired();
    return handled;
}

void EventLoop::trimBuffers() {
    if (m_buffers.trim())
        arm(m_trim, kTrimPeriodMs);
}

bool EventLoop::activateTimers() {
    if (m_timers.empty())
        return false;
    const qint64 now = monotonicMs();
    // Each due timer fires at most once per pass; a timer may be unregistered (or others
    // registered) by any timerEvent, so each one is looked up again by id.
    std::vector<int> due;
    for (const QtTimer &t : m_timers) {
        if (!t.active && t.due <= now)
            due.push_back(t.id);
    }
    for (int id : due) {
        auto it =
            std::find_if(m_timers.begin(), m_timers.end(), [id](const QtTimer &t) { return t.id == id; });
        if (it == m_timers.end() || it->active)
            continue;
        // The next expiry keeps the period when the loop is on time, and does not try to
        // catch up when it fell behind.
        it->due = (it->due + it->interval > now) ? it->due + it->interval : now + it->interval;
        it->active = true;
        QObject *object = it->object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        it = std::find_if(m_timers.begin(), m_timers.end(), [id](const QtTimer &t) { return t.id == id; });
        if (it != m_timers.end())
            it->active = false;
    }
    return !due.empty();
}

void EventLoop::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) {
    m_timers.push_back(QtTimer{timerId, qMax<qint64>(0, interval), timerType, object,
                               monotonicMs() + qMax<qint64>(0, interval), false});
}

bool EventLoop::unregisterTimer(int timerId) {
    const auto it = std::find_if(m_timers.begin(), m_timers.end(),
                                 [timerId](const QtTimer &t) { return t.id == timerId; });
    if (it == m_timers.end())
        return false;
    m_timers.erase(it);
    return true;
}

bool EventLoop::unregisterTimers(QObject *object) {
    const auto before = m_timers.size();
    std::erase_if(m_timers, [object](const QtTimer &t) { return t.object == object; });
    return m_timers.size() != before;
}

QList<QAbstractEventDispatcher::TimerInfo> EventLoop::registeredTimers(QObject *object) const {
    QList<TimerInfo> out;
    for (const QtTimer &t : m_timers) {
        if (t.object == object)
            out.append(TimerInfo(t.id, int(t.interval), t.type));
    }
    return out;
}

int EventLoop::remainingTime(int timerId) {
    for (const QtTimer &t : m_timers) {
        if (t.id == timerId)
            return int(qMax<qint64>(0, t.due - monotonicMs()));
    }
    return -1;
}

void EventLoop::registerSocketNotifier(QSocketNotifier *notifier) {
    const int fd = int(notifier->socket());
    auto &slot = m_notifiers[fd];
    if (!slot) {
        slot = std::make_unique<NotifierSlot>();
        slot->loop = this;
        slot->fd = fd;
    }
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        slot->read = notifier;
        break;
    case QSocketNotifier::Write:
        slot->write = notifier;
        break;
    case QSocketNotifier::Exception:
        slot->exception = notifier;
        break;
    }
    updateNotifierSlot(fd, slot.get());
}

void EventLoop::unregisterSocketNotifier(QSocketNotifier *notifier) {
    const int fd = int(notifier->socket());
    const auto it = m_notifiers.find(fd);
    if (it == m_notifiers.end())
        return;
    NotifierSlot *slot = it->second.get();
    if (slot->read == notifier)
        slot->read = nullptr;
    if (slot->write == notifier)
        slot->write = nullptr;
    if (slot->exception == notifier)
        slot->exception = nullptr;
    updateNotifierSlot(fd, slot);
    if (slot->wanted() == 0) {
        // An event for it may still be in the batch being handled: freed after the batch.
        m_retired.push_back(std::move(it->second));
        m_notifiers.erase(it);
    }
}

void EventLoop::updateNotifierSlot(int fd, NotifierSlot *slot) {
    const quint32 wanted = slot->wanted();
    if (wanted == slot->events)
        return;
    epoll_event ev{};
    ev.events = wanted;
    ev.data.ptr = static_cast<IoHandler *>(slot);
    if (wanted == 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    } else if (slot->events == 0) {
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
    } else {
        ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
    }
    slot->events = wanted;
}

} // namespace portico

#include "logsink.h"

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <cerrno>
#include <unistd.h>

namespace portico::logsink {

namespace {

constexpr qsizetype kMaxQueuedBytes = 8 * 1024 * 1024;

struct State {
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable drained;
    std::deque<QByteArray> queue;
    qsizetype queuedBytes = 0;
    quint64 dropped = 0;
    bool running = false;
    bool stopping = false;
    bool writerIdle = true;
};

State &state() {
    static State *s = new State; // never destroyed: messages may come during exit
    return *s;
}

void writeAll(const QByteArray &data) {
    const char *p = data.constData();
    qsizetype left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, size_t(left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // stderr is gone: nothing sensible to do
        }
        p += n;
        left -= n;
    }
}

void writerLoop() {
    State &s = state();
    std::unique_lock lock(s.mutex);
    while (true) {
        s.wake.wait(lock, [&] { return !s.queue.empty() || s.stopping; });
        if (s.queue.empty() && s.stopping)
            break;
        std::deque<QByteArray> batch;
        batch.swap(s.queue);
        s.queuedBytes = 0;
        const quint64 dropped = std::exchange(s.dropped, 0);
        s.writerIdle = false;
        lock.unlock();
        QByteArray out;
        for (const QByteArray &line : batch)
            out += line;
        if (dropped > 0)
            out += "portico: " + QByteArray::number(dropped) +
                   " log line(s) dropped while the log reader was stalled\n";
        writeAll(out);
        lock.lock();
        s.writerIdle = true;
        s.drained.notify_all();
    }
    s.writerIdle = true;
    s.drained.notify_all();
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message) {
    QByteArray line = qFormatLogMessage(type, context, message).toLocal8Bit();
    line += '\n';
    State &s = state();
    if (type == QtFatalMsg) {
        writeAll(line);
        return; // Qt aborts after the handler returns
    }
    {
        std::lock_guard lock(s.mutex);
        if (s.running && !s.stopping) {
            if (s.queuedBytes + line.size() > kMaxQueuedBytes) {
                ++s.dropped;
                return;
            }
            s.queuedBytes += line.size();
            s.queue.push_back(std::move(line));
            s.wake.notify_one();
            return;
        }
    }
    writeAll(line); // before install() or after shutdown()
}

} // namespace

void install() {
    State &s = state();
    {
        std::lock_guard lock(s.mutex);
        if (s.running)
            return;
        s.running = true;
        s.stopping = false;
    }
    std::thread(writerLoop).detach();
    qInstallMessageHandler(handler);
}

void shutdown(int timeoutMs) {
    State &s = state();
    std::unique_lock lock(s.mutex);
    if (!s.running || s.stopping)
        return;
    s.stopping = true;
    s.wake.notify_one();
    // Wait for the writer to empty the queue, but never forever: a reader that stopped
    // for good must not keep the daemon from exiting.
    s.drained.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                       [&] { return s.queue.empty() && s.writerIdle; });
}

} // namespace portico::logsink

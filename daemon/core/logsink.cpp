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
#include <sys/stat.h>
#include <unistd.h>

namespace portico::logsink {

namespace {

constexpr qsizetype kMaxQueuedBytes = 8 * 1024 * 1024;

struct State {
    Style style = Style::Plain;
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
            out +=
                formatLine(s.style, QtWarningMsg,
                           QStringLiteral("portico: %1 log line(s) dropped while the log reader was stalled")
                               .arg(dropped),
                           QDateTime::currentDateTimeUtc());
        writeAll(out);
        lock.lock();
        s.writerIdle = true;
        s.drained.notify_all();
    }
    s.writerIdle = true;
    s.drained.notify_all();
}

// syslog(3) priorities: err 3, warning 4, notice 5, info 6, debug 7 (crit 2 for fatal).
const char *priority(QtMsgType type) {
    switch (type) {
    case QtDebugMsg:
        return "<7>";
    case QtInfoMsg:
        return "<6>";
    case QtWarningMsg:
        return "<4>";
    case QtCriticalMsg:
        return "<3>";
    case QtFatalMsg:
        return "<2>";
    }
    return "<6>";
}

const char *levelWord(QtMsgType type) {
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "critical";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message) {
    State &s = state();
    QByteArray line =
        formatLine(s.style, type, qFormatLogMessage(type, context, message), QDateTime::currentDateTimeUtc());
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

Style detectStyle() {
    if (qEnvironmentVariableIsSet("QT_MESSAGE_PATTERN"))
        return Style::Pattern;
    // JOURNAL_STREAM is "<device>:<inode>" of the stream systemd connected; it is only ours
    // while stderr is still that stream (not redirected by a wrapper or a shell).
    const QByteArray journal = qgetenv("JOURNAL_STREAM");
    const qsizetype colon = journal.indexOf(':');
    struct stat st {};
    if (colon > 0 && ::fstat(STDERR_FILENO, &st) == 0) {
        bool okDev = false;
        bool okIno = false;
        const qulonglong dev = journal.left(colon).toULongLong(&okDev);
        const qulonglong ino = journal.mid(colon + 1).toULongLong(&okIno);
        if (okDev && okIno && dev == qulonglong(st.st_dev) && ino == qulonglong(st.st_ino))
            return Style::Journal;
    }
    return Style::Plain;
}

QByteArray formatLine(Style style, QtMsgType type, const QString &formatted, const QDateTime &when) {
    QByteArray prefix;
    if (style == Style::Journal)
        prefix = priority(type);
    else if (style == Style::Plain)
        prefix = when.toUTC().toString(Qt::ISODateWithMs).toLatin1() + ' ' + levelWord(type) + ' ';
    const QByteArray text = formatted.toLocal8Bit();
    if (prefix.isEmpty())
        return text + '\n';
    QByteArray out;
    out.reserve(text.size() + prefix.size() + 1);
    for (const QByteArray &line : text.split('\n')) {
        out += prefix;
        out += line;
        out += '\n';
    }
    return out;
}

void install() {
    State &s = state();
    {
        std::lock_guard lock(s.mutex);
        if (s.running)
            return;
        s.style = detectStyle();
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

#include "logcapture.h"

#include <QLoggingCategory>
#include <QMutex>
#include <QMutexLocker>

#include <algorithm>

namespace portico::test {

namespace {

struct Capture {
    QMutex mutex;
    QByteArray category;
    QStringList lines;
    QtMessageHandler previous = nullptr;
};

Capture &capture() {
    static Capture c;
    return c;
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message) {
    Capture &c = capture();
    {
        QMutexLocker lock(&c.mutex);
        if (context.category && c.category == context.category) {
            c.lines.append(message);
            return;
        }
    }
    if (c.previous)
        c.previous(type, context, message);
}

} // namespace

LogCapture::LogCapture(const char *category) {
    Capture &c = capture();
    QMutexLocker lock(&c.mutex);
    c.category = category;
    c.lines.clear();
    c.previous = qInstallMessageHandler(handler);
}

LogCapture::~LogCapture() {
    Capture &c = capture();
    qInstallMessageHandler(c.previous);
    QMutexLocker lock(&c.mutex);
    c.category.clear();
    c.lines.clear();
}

QStringList LogCapture::lines() const {
    Capture &c = capture();
    QMutexLocker lock(&c.mutex);
    return c.lines;
}

bool LogCapture::has(const QRegularExpression &pattern) const {
    const QStringList all = lines();
    return std::any_of(all.cbegin(), all.cend(),
                       [&](const QString &l) { return pattern.match(l).hasMatch(); });
}

} // namespace portico::test

#pragma once

#include <QByteArray>
#include <QRegularExpression>
#include <QStringList>

namespace portico::test {

// Collects the messages of one logging category, from any thread, while it lives. A worker
// thread logs after the bytes it answers with are on the wire, so a test that has read its
// answer waits for the line (QTRY_VERIFY(capture.has(...))) instead of expecting it
// already there. Messages of other categories go on to the handler that was installed
// before. One capture at a time.
class LogCapture final {
public:
    explicit LogCapture(const char *category);
    ~LogCapture();
    LogCapture(const LogCapture &) = delete;
    LogCapture &operator=(const LogCapture &) = delete;

    QStringList lines() const;
    // Whether a captured line matches.
    bool has(const QRegularExpression &pattern) const;
};

} // namespace portico::test

#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QtGlobal>

namespace portico {

// The daemon's log output. Qt's default handler writes to stderr in the calling thread,
// so a reader that stops reading (a full pipe, a stuck journal) would stall every event
// loop that logs, workers included. This sink formats each message in the caller
// (qFormatLogMessage, so QT_MESSAGE_PATTERN still applies) and hands it to a writer
// thread through a bounded queue: past the bound, lines are dropped and counted, and the
// count is written once output flows again. Fatal messages are written directly.
namespace logsink {
// How each line is dressed: for journald (stderr is the journal: $JOURNAL_STREAM names
// its device and inode) a syslog priority prefix "<3>" … "<7>" so that
// `journalctl -p warning` works and the journal adds the time; elsewhere an ISO-8601 UTC
// time and the level, e.g. "2025-01-02T03:04:05.678Z warning portico.daemon: …".
enum class Style { Journal, Plain, Pattern };
// The style for this process's stderr; Pattern (the message as QT_MESSAGE_PATTERN
// formats it, nothing added) when QT_MESSAGE_PATTERN is set.
Style detectStyle();
// One message as it is written: every line of a multi-line message is dressed.
QByteArray formatLine(Style style, QtMsgType type, const QString &formatted, const QDateTime &when);

void install();
// Writes what is queued (waiting at most timeoutMs for a stalled reader), then goes back
// to writing directly. Safe to call more than once.
void shutdown(int timeoutMs = 2000);
} // namespace logsink

} // namespace portico

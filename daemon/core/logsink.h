#pragma once

namespace portico {

// The daemon's log output. Qt's default handler writes to stderr in the calling thread,
// so a reader that stops reading (a full pipe, a stuck journal) would stall every event
// loop that logs, workers included. This sink formats each message in the caller
// (qFormatLogMessage, so QT_MESSAGE_PATTERN still applies) and hands it to a writer
// thread through a bounded queue: past the bound, lines are dropped and counted, and the
// count is written once output flows again. Fatal messages are written directly.
namespace logsink {
void install();
// Writes what is queued (waiting at most timeoutMs for a stalled reader), then goes back
// to writing directly. Safe to call more than once.
void shutdown(int timeoutMs = 2000);
} // namespace logsink

} // namespace portico

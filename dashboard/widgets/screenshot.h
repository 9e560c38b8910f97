#pragma once

#include <QString>

#include <functional>

namespace portico {

class MainWindow;

// --screenshot: once the window has its first data (or after timeoutMs, whichever
// comes first), waits settleMs more so that the chart has a few samples, renders the
// window to a PNG and calls done(true) when it was written.
void screenshotWhenReady(MainWindow *window, const QString &file, int timeoutMs, int settleMs,
                         std::function<void(bool written)> done);

} // namespace portico

#pragma once

#include <QImage>
#include <QString>

#include <functional>

class QWidget;

namespace portico {

class MainWindow;

// The window as a person sees it: the window, and each dialog open over it drawn where
// it would be (centred over the window when the platform places it nowhere, offscreen).
QImage renderWithDialogs(QWidget *window);

// --screenshot: once the window has its first data (or after timeoutMs, whichever
// comes first), waits settleMs more so that the chart has a few samples, renders the
// window (with its open dialogs) to a PNG and calls done(true) when it was written.
void screenshotWhenReady(MainWindow *window, const QString &file, int timeoutMs, int settleMs,
                         std::function<void(bool written)> done);

} // namespace portico

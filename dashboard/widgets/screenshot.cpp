#include "screenshot.h"

#include "mainwindow.h"
#include "models/format.h"

#include <QPixmap>
#include <QPointer>
#include <QTimer>

#include <memory>

namespace portico {

void screenshotWhenReady(MainWindow *window, const QString &file, int timeoutMs, int settleMs,
                         std::function<void(bool)> done) {
    auto started = std::make_shared<bool>(false);
    QPointer<MainWindow> w(window);
    const auto shoot = [w, file, done, started, settleMs](bool ready) {
        if (*started)
            return;
        *started = true;
        if (!ready)
            qCWarning(lcDashboard) << "no data from the daemon in time; rendering what there is";
        QTimer::singleShot(ready ? settleMs : 0, w, [w, file, done] {
            const bool ok = w && w->grab().save(file, "PNG");
            if (!ok)
                qCWarning(lcDashboard) << "cannot write" << file;
            done(ok);
        });
    };
    if (window->hasData())
        shoot(true);
    QObject::connect(window, &MainWindow::dataReady, window, [shoot] { shoot(true); });
    QTimer::singleShot(timeoutMs, window, [shoot] { shoot(false); });
}

} // namespace portico

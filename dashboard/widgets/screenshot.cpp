#include "screenshot.h"

#include "mainwindow.h"
#include "models/format.h"

#include <QApplication>
#include <QDialog>
#include <QPainter>
#include <QPixmap>
#include <QPointer>
#include <QTimer>

#include <memory>

namespace portico {

QImage renderWithDialogs(QWidget *window) {
    QImage image = window->grab().toImage();
    QPainter p(&image);
    for (QWidget *w : QApplication::topLevelWidgets()) {
        auto *dialog = qobject_cast<QDialog *>(w);
        if (!dialog || !dialog->isVisible() || dialog->parentWidget() != window)
            continue;
        const QPixmap shot = dialog->grab();
        QPoint at = dialog->geometry().topLeft() - window->geometry().topLeft();
        const QRect inside(QPoint(0, 0), window->size());
        if (!inside.contains(QRect(at, dialog->size())))
            at = inside.center() - QRect(QPoint(0, 0), dialog->size()).center();
        // A title bar and a frame, as a window manager would draw them (offscreen has none).
        const int bar = dialog->fontMetrics().height() + 10;
        at.ry() = qMax(bar, at.y());
        const QRectF frame =
            QRectF(at - QPoint(0, bar), dialog->size() + QSize(0, bar)).adjusted(-1, -1, 1, 1);
        p.fillRect(frame, dialog->palette().color(QPalette::Highlight));
        p.setPen(dialog->palette().color(QPalette::HighlightedText));
        QFont bold = dialog->font();
        bold.setBold(true);
        p.setFont(bold);
        p.drawText(QRectF(at.x(), at.y() - bar, dialog->width(), bar), Qt::AlignCenter,
                   dialog->windowTitle());
        p.drawPixmap(QRectF(at, dialog->size()), shot, QRectF(shot.rect()));
    }
    return image;
}

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
            const bool ok = w && renderWithDialogs(w).save(file, "PNG");
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

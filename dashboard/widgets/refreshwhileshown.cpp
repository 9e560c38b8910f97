#include "refreshwhileshown.h"

#include <QEvent>
#include <QWidget>

namespace portico {

RefreshWhileShown::RefreshWhileShown(QWidget *widget, std::function<void()> refresh, int intervalMs)
    : QObject(widget), m_refresh(std::move(refresh)) {
    m_timer.setInterval(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { m_refresh(); });
    widget->installEventFilter(this);
}

bool RefreshWhileShown::eventFilter(QObject *watched, QEvent *event) {
    if (event->type() == QEvent::Show) {
        m_refresh();
        m_timer.start();
    } else if (event->type() == QEvent::Hide) {
        m_timer.stop();
    }
    return QObject::eventFilter(watched, event);
}

} // namespace portico

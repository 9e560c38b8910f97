#include "trayicon.h"

#include "models/format.h"

#include <QAction>
#include <QMenu>
#include <QPainter>
#include <QPixmap>
#include <QSystemTrayIcon>
#include <QWidget>

namespace portico {

TrayIcon::TrayIcon(HealthMonitor *health, QWidget *window, QAction *deploy, QObject *parent)
    : QObject(parent), m_health(health), m_menu(std::make_unique<QMenu>()),
      m_tray(new QSystemTrayIcon(this)) {
    QMenu *menu = m_menu.get();
    menu->addAction(tr("Show Portico"), window, [window] {
        window->showNormal();
        window->raise();
        window->activateWindow();
    });
    menu->addAction(deploy);
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, window, [window](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger) {
            window->setVisible(!window->isVisible() || window->isMinimized());
            if (window->isVisible()) {
                window->showNormal();
                window->activateWindow();
            }
        }
    });
    connect(m_health, &HealthMonitor::changed, this, &TrayIcon::update);
    connect(m_health, &HealthMonitor::alert, this, [this](const QString &title, const QString &text) {
        m_lastMessage = title + QStringLiteral(": ") + text;
        if (m_tray->isVisible() && QSystemTrayIcon::supportsMessages())
            m_tray->showMessage(title, text, QSystemTrayIcon::Warning, 10'000);
    });
    update();
    if (QSystemTrayIcon::isSystemTrayAvailable())
        m_tray->show();
}

TrayIcon::~TrayIcon() = default;

QColor TrayIcon::colorFor(HealthMonitor::Health health) {
    switch (health) {
    case HealthMonitor::Health::Ok:
        return dash::stateColor(QStringLiteral("active"));
    case HealthMonitor::Health::Busy:
        return dash::stateColor(QStringLiteral("starting"));
    case HealthMonitor::Health::Degraded:
        return dash::stateColor(QStringLiteral("backoff"));
    case HealthMonitor::Health::Failing:
        return dash::stateColor(QStringLiteral("crashed"));
    case HealthMonitor::Health::Unknown:
        break;
    }
    return dash::stateColor(QStringLiteral("stopped"));
}

QString TrayIcon::toolTip() const {
    return m_tray->toolTip();
}

void TrayIcon::update() {
    m_color = colorFor(m_health->health());
    QPixmap pixmap(64, 64);
    pixmap.fill(Qt::transparent);
    {
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(m_color.darker(140), 4));
        p.setBrush(m_color);
        p.drawEllipse(QRectF(6, 6, 52, 52));
    }
    m_tray->setIcon(QIcon(pixmap));
    m_tray->setToolTip(tr("Portico: %1").arg(m_health->summary()));
}

} // namespace portico

#pragma once

#include "models/healthmonitor.h"

#include <QColor>
#include <QObject>

#include <memory>

class QAction;
class QMenu;
class QSystemTrayIcon;
class QWidget;

namespace portico {

// The dashboard in the system tray: a dot in the colour of the host's health (green
// every project up, yellow on its way, orange degraded, red crashed or in conflict,
// grey without a daemon), the summary as tooltip, a notification for each alert, and a
// menu to show the window or deploy. Does nothing visible where there is no tray.
class TrayIcon final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayIcon)
public:
    TrayIcon(HealthMonitor *health, QWidget *window, QAction *deploy, QObject *parent = nullptr);
    ~TrayIcon() override;

    QColor color() const { return m_color; }
    QString toolTip() const;
    QString lastMessage() const { return m_lastMessage; }
    static QColor colorFor(HealthMonitor::Health health);

private:
    void update();

    HealthMonitor *m_health;
    std::unique_ptr<QMenu> m_menu; // a widget: it cannot be the icon's child
    QSystemTrayIcon *m_tray;
    QColor m_color;
    QString m_lastMessage;
};

} // namespace portico

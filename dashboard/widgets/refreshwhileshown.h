#pragma once

#include <QObject>
#include <QTimer>

#include <functional>

class QWidget;

namespace portico {

// Keeps what a view shows fresh while (and only while) it is on screen: calls refresh
// when the widget is shown and every intervalMs until it is hidden. For data that no
// event announces (the host's sockets, audited calls that change nothing).
class RefreshWhileShown final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RefreshWhileShown)
public:
    RefreshWhileShown(QWidget *widget, std::function<void()> refresh, int intervalMs);
    bool isRunning() const { return m_timer.isActive(); }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    std::function<void()> m_refresh;
    QTimer m_timer;
};

} // namespace portico

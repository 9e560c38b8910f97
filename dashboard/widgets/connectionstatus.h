#pragma once

#include <QTimer>
#include <QWidget>

class QLabel;

namespace portico {

class DaemonStatus;

// The status bar's permanent part: the connection ("connected", "disconnected —
// retrying" with the reason) and the daemon's version, uptime and ingress port.
class ConnectionStatus final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionStatus)
public:
    explicit ConnectionStatus(DaemonStatus *status, QWidget *parent = nullptr);
    QString connectionText() const;
    QString infoText() const;

private:
    void update();

    DaemonStatus *m_status;
    QLabel *m_connection;
    QLabel *m_info;
    QTimer m_tick; // the uptime moves on between daemon.info calls
};

} // namespace portico

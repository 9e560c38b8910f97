#pragma once

#include <QByteArray>
#include <QLoggingCategory>
#include <QObject>
#include <QString>
#include <QTimer>

Q_DECLARE_LOGGING_CATEGORY(lcNotify)

namespace portico {

class Daemon;

// systemd's notification protocol (sd_notify(3)): one datagram of "KEY=value" lines to
// the AF_UNIX socket named by $NOTIFY_SOCKET. Written here rather than linking
// libsystemd because its sd_notify() sends with a blocking sendmsg(): a service manager
// (or a test) that stops reading would stall the control thread. systemd documents the
// protocol as stable and meant to be implemented on its own; here every send is
// MSG_DONTWAIT.
class NotifySocket final {
    Q_DISABLE_COPY_MOVE(NotifySocket)
public:
    // Takes $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from the environment and
    // removes them, so that backends (children) cannot speak for the daemon.
    NotifySocket();
    ~NotifySocket();

    bool enabled() const { return m_fd >= 0; }
    QString path() const { return m_path; }
    // The interval within which systemd expects WATCHDOG=1 (WatchdogSec=), in ms; 0: none.
    qint64 watchdogMs() const { return m_watchdogMs; }
    // Sends one datagram; never blocks. Returns 0 or the errno (EAGAIN: the receiver's
    // queue is full).
    int send(const QByteArray &state);
    // The error of the constructor (a NOTIFY_SOCKET that cannot be used), or empty.
    QString setupError() const { return m_setupError; }

private:
    int m_fd = -1;
    QString m_path;
    QByteArray m_address; // sockaddr_un
    qint64 m_watchdogMs = 0;
    QString m_setupError;
};

// Tells the service manager what the daemon is doing: READY=1 once the ingress and the
// admin socket listen and the persisted projects have been started (whatever their
// outcome), STATUS= with the project and route counts whenever they change,
// WATCHDOG=1 at half the WatchdogSec interval from the control thread's event loop (so a
// stuck control loop is restarted), STOPPING=1 when shutdown begins. Does nothing when
// the daemon was not started with $NOTIFY_SOCKET.
class ServiceNotifier final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceNotifier)
public:
    explicit ServiceNotifier(QObject *parent = nullptr);
    ~ServiceNotifier() override;

    // Follows the daemon: READY=1 after its start-up deploys, STATUS= on route changes.
    void watch(Daemon *daemon);
    void stopping();
    bool enabled() const { return m_socket.enabled(); }

private:
    void updateStatus();
    void send(const QByteArray &state);
    void flushPending();

    NotifySocket m_socket;
    Daemon *m_daemon = nullptr;
    bool m_ready = false;
    QByteArray m_lastStatus;
    QByteArray m_pending; // what the receiver could not take yet (READY=1 must not be lost)
    QTimer m_watchdog;
    QTimer m_retry;
    bool m_warned = false;
};

} // namespace portico

#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <QString>
#include <QTimer>

#include <functional>
#include <sys/types.h>
#include <vector>

namespace portico {

// Descriptors held back for the admin plane, the last resort. The first is the data
// plane's FdBudget (daemon/net/loop/fdbudget.h), which leaves max(64, nofile/8) of the
// process's descriptors to the control plane; but when the process is out of descriptors
// anyway (RLIMIT_NOFILE lowered under a running daemon, other holders), one of these is
// given up just before an accept() so that an operator still gets in; they are taken
// back as soon as the system lets us.
class DescriptorReserve {
    Q_DISABLE_COPY_MOVE(DescriptorReserve)
public:
    explicit DescriptorReserve(int size);
    ~DescriptorReserve();
    // Gives one up (closes it); false when none is left.
    bool release();
    // Takes back as many as it can; true when the reserve is full.
    bool refill();
    // Takes over a descriptor that is done with (an admin connection's) when the reserve
    // is short: /dev/null is put in its place (dup2), so no other thread can take the
    // number between a close and a refill. False: not taken, the caller closes it.
    bool absorb(int fd);
    int held() const { return int(m_fds.size()); }
    int size() const { return m_size; }

private:
    int m_size;
    int m_source = -1; // /dev/null, what absorb() copies
    std::vector<int> m_fds;
};

// The admin socket's listening side on a bare descriptor. QLocalServer closes itself and
// unlinks the socket file on any accept() error, EMFILE included, which took the admin
// socket away for good under a connection flood. Here:
// - accept() that fails for want of descriptors gives up a reserved descriptor and tries
//   again; with none left it backs off (the pending operator waits in the backlog) and
//   says so loudly, once per spell;
// - a watchdog checks every second that the socket file is still ours and listens again
//   (loudly) when it was removed or replaced, or the listening descriptor failed.
// Lives in the control thread.
class AdminListener final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminListener)
public:
    struct Options {
        QString path;
        mode_t mode = 0600;
        gid_t group = gid_t(-1); // chown the socket to it; -1: leave it
        int backlog = 128;
        int reserve = 4;       // descriptors kept for the admin plane
        int watchdogMs = 1000; // how often the socket file is checked
        int backoffMs = 100;   // accept retry after running out of descriptors
    };
    // Gets every accepted descriptor (non-blocking, close-on-exec), and owns it from then on.
    using Accepted = std::function<void(int fd)>;

    AdminListener(const Options &options, Accepted accepted, QObject *parent = nullptr);
    ~AdminListener() override; // closes the socket and removes its file (if still ours)

    // Is anyone serving this path? A non-blocking connect() on AF_UNIX answers at once:
    // ECONNREFUSED means nobody listens (a crashed daemon's leftover).
    enum class Probe { Absent, Stale, Live, NotASocket, Unknown };
    static Probe probe(const QString &path, QString *detail);

    // Binds, sets the mode (and group) and listens. The path must be free (see probe()).
    bool listen(QString *error);
    bool isListening() const { return m_fd >= 0; }
    // Closes an admin connection's descriptor, or keeps its number in the reserve when
    // the reserve is short; then takes back what it can.
    void closeConnection(int fd);
    // A connection refused or closed elsewhere: take back what we can.
    void connectionClosed();
    int reserveHeld() const { return m_reserve.held(); }
    int relistens() const { return m_relistens; }

private:
    void onAcceptable();
    void pause(const QString &why);
    void watchdog();
    void closeSocket(bool unlinkFile);

    Options m_options;
    Accepted m_accepted;
    DescriptorReserve m_reserve;
    int m_fd = -1;
    dev_t m_dev = 0;
    ino_t m_ino = 0;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_backoff;
    QTimer m_watchdog;
    bool m_starved = false; // out of descriptors now (said once)
    int m_relistens = 0;
};

} // namespace portico

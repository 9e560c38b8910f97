#pragma once

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QTimer>

#include <memory>

namespace portico {

// Makes every descendant of a backend end with it, including those that escape its
// session and process group (fork, setsid, fork: a daemonized helper). Two ways, picked
// once at start:
//
// - cgroup: where a cgroup v2 subtree is ours to write (the daemon's own cgroup is the
//   root of the hierarchy, or systemd delegated it: Delegate=yes marks it with the
//   trusted.delegate xattr), each backend launch series gets a cgroup
//   <own>/porticod-<pid>/<project>.<n>; the child joins it before exec, and stopping the
//   backend writes cgroup.kill, which the kernel applies to every process in it, whatever
//   its session or parent. Nothing can leave a cgroup without write access to cgroup
//   files, which backends do not have. Leftovers of a daemon that was SIGKILLed
//   (porticod-<pid> of a pid that is gone) are killed and removed at the next start.
//
// - subreaper: otherwise. The daemon is a child subreaper (PR_SET_CHILD_SUBREAPER), and so
//   is each backend's main process. An orphan inside a backend's tree is therefore adopted
//   by that backend's main process while it lives (the backend is the subreaper nearest to
//   it), and comes to the daemon only when the backend's main process has died. So any
//   process the daemon finds among its children that it did not start is a leftover of a
//   dead backend, and is killed and reaped, with no need to know which backend it came
//   from. What the daemon started itself is told apart without guessing: backends' main
//   processes are registered here while they run, and helpers (docker CLI calls) stay in
//   the daemon's session, which no backend descendant can join (backends start their own
//   session, and setsid() only ever makes a new one). PIDs cannot be reused under us: an
//   unreaped child keeps its PID, and the daemon is the only one reaping these.
//   Scans read /proc (no blocking calls); they run when a backend's main process exits,
//   every few seconds for zombies, and again shortly after each kill until nothing is left.
//   The cost: a backend whose own children leave orphans holds them as zombies until it
//   reaps them or exits; a backend that turns its subreaper flag off sends its orphans to
//   the daemon early, which kills them at the next scan.
class Containment final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Containment)
public:
    enum class Mode { None, Cgroup, Subreaper };

    explicit Containment(QObject *parent = nullptr);
    // Kills what is left in its cgroups and removes what it can (best effort).
    ~Containment() override;

    // setting: "auto" (a cgroup where the daemon's own is the hierarchy's root or marked
    // delegated, else subreaper), "on" (a cgroup wherever the daemon's own is writable: the
    // service manager delegated it without a mark porticod can read, e.g. systemd's
    // trusted.delegate without CAP_SYS_ADMIN) or "off" (subreaper).
    void setUp(const QString &setting);
    Mode mode() const { return m_mode; }
    // "cgroup /sys/fs/cgroup/…/porticod-123" or "subreaper (…why not cgroup…)".
    QString describe() const;

    // One backend's cgroup (cgroup mode): created empty; the child writes "0" into
    // procsFd() before exec to join it. Destroying it kills what is still inside and
    // removes the cgroup once empty.
    class Cell {
    public:
        ~Cell();
        int procsFd() const { return m_procsFd; }
        QString path() const { return m_path; }
        void killAll() const; // SIGKILL to every process in it (cgroup.kill)
        Q_DISABLE_COPY_MOVE(Cell)

    private:
        friend class Containment;
        Cell() = default;
        QString m_path;
        int m_procsFd = -1;
        QPointer<Containment> m_owner;
    };
    // Null in subreaper mode, or with *error when the cgroup cannot be made.
    std::unique_ptr<Cell> newCell(const QString &project, QString *error);

    // Subreaper mode: whether a backend's main process makes itself a subreaper.
    bool backendsAreSubreapers() const { return m_mode == Mode::Subreaper; }
    // The main process of a backend runs / has ended (its orphans are ours by now).
    void backendStarted(qint64 pid);
    void backendExited(qint64 pid);
    // Kills and reaps every adopted orphan now; returns how many were found.
    int sweep();

private:
    bool setUpCgroup(bool trustDelegation, QString *why);
    void removeLater(const QString &path);
    void retryRemovals();
    static void removeStale(const QString &dir);

    Mode m_mode = Mode::None;
    QString m_why;        // why not cgroup (subreaper mode)
    QString m_root;       // cgroup mode: <own cgroup>/porticod-<pid>
    quint64 m_serial = 0; // names cells
    QSet<qint64> m_backends;
    QTimer m_sweepTimer;                   // periodic, subreaper mode
    QTimer m_followUp;                     // soon after a kill: reap, and take what the killed ones left
    QTimer m_removeTimer;                  // cgroups waiting to be empty
    QHash<QString, int> m_pendingRemovals; // path -> attempts
};

} // namespace portico

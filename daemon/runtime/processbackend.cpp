#include "processbackend.h"

#include "portallocator.h"

#include <QDir>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace portico {

namespace {

constexpr qsizetype kMaxLineBytes = 16 * 1024; // longer output lines are cut into pieces
constexpr int kStderrTailLines = 20;
constexpr int kReasonTailLines = 10;
constexpr qint64 kMaxLogFileBytes = 10 * 1024 * 1024; // then <project>.log -> <project>.log.1

QString describeExit(int code, QProcess::ExitStatus status) {
    if (status == QProcess::CrashExit)
        return QStringLiteral("was killed by a signal");
    return QStringLiteral("exited with code %1").arg(code);
}

} // namespace

bool listensUdpOnly(const Manifest &manifest) {
    if (manifest.listen.isEmpty())
        return false;
    return std::all_of(manifest.listen.cbegin(), manifest.listen.cend(),
                       [](const ListenSpec &l) { return l.protocol == Protocol::Udp; });
}

QList<HostPort> hostPortsOf(const Manifest &manifest) {
    QList<HostPort> ports;
    for (const ListenSpec &l : manifest.listen) {
        const bool stream = l.transport() == Transport::Tcp;
        const auto same =
            std::find_if(ports.begin(), ports.end(), [&l](const HostPort &p) { return p.port == l.port; });
        if (same == ports.end())
            ports.append({l.port, stream});
        else
            same->stream |= stream;
    }
    return ports;
}

ProcessBackend::ProcessBackend(ProcessSpec spec, const RuntimeContext &context, QObject *parent)
    : Backend(parent), m_spec(std::move(spec)), m_context(context) {
    m_pollTimer.setInterval(qMax(5, m_context.readyPollMs));
    connect(&m_pollTimer, &QTimer::timeout, this, &ProcessBackend::probe);
    m_readyTimer.setSingleShot(true);
    connect(&m_readyTimer, &QTimer::timeout, this, &ProcessBackend::onReadyTimeout);
    m_udpTimer.setSingleShot(true);
    connect(&m_udpTimer, &QTimer::timeout, this, [this] {
        if (m_process && m_process->state() == QProcess::Running)
            becomeReady();
    });
    m_backoffTimer.setSingleShot(true);
    connect(&m_backoffTimer, &QTimer::timeout, this, &ProcessBackend::launch);
    m_stableTimer.setSingleShot(true);
    connect(&m_stableTimer, &QTimer::timeout, this, [this] { m_attempt = 0; });
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        appendLog(QStringLiteral("portico: still running %1 ms after SIGTERM, sending SIGKILL")
                      .arg(m_context.config->stopGraceMs),
                  LogStream::Portico);
        signalGroup(SIGKILL);
    });
}

ProcessBackend::~ProcessBackend() {
    stopTimers();
    if (m_process) {
        // Last resort: the owner should have waited for stopped(). SIGKILL is immediate,
        // so QProcess's own destructor reaps the child at once.
        m_process->disconnect(this);
        signalGroup(SIGKILL);
        delete m_process;
        m_process = nullptr;
        endDescendants();
    }
    m_cell.reset(); // kills what is left in the cgroup, and removes it
    closePtyMaster();
    // No targetChanged() from a destructor: receivers would see a half-destroyed object.
    if (m_context.ports) {
        for (quint16 p : m_morePorts) {
            if (p != 0)
                m_context.ports->release(p);
        }
        if (m_port != 0)
            m_context.ports->release(m_port);
    }
}

void ProcessBackend::start() {
    if (m_process || m_backoffTimer.isActive())
        return;
    m_supervised = false;
    m_attempt = 0;
    launch();
}

void ProcessBackend::preflight(const std::function<void(const QString &error)> &done) {
    // Found the way QProcess finds it: a name on the daemon's PATH, a path from the workdir.
    const QString &program = m_spec.program;
    const QString path = program.contains(QLatin1Char('/')) ? QDir(m_spec.workdir).absoluteFilePath(program)
                                                            : QStandardPaths::findExecutable(program);
    const QFileInfo fi(path);
    if (path.isEmpty())
        done(QStringLiteral("cannot start %1: no such program on PATH").arg(program));
    else if (!fi.exists())
        done(QStringLiteral("cannot start %1: %2 does not exist").arg(program, path));
    else if (!fi.isFile() || !fi.isExecutable())
        done(QStringLiteral("cannot start %1: %2 is not an executable file").arg(program, path));
    else
        done({});
}

void ProcessBackend::restart() {
    m_backoffTimer.stop();
    if (!m_process) {
        launch();
        return;
    }
    if (m_stopping) {
        m_restartAfterStop = true;
        return;
    }
    m_restartAfterStop = true;
    m_stopping = true;
    stopTimers();
    appendLog(QStringLiteral("portico: restarting (SIGTERM)"), LogStream::Portico);
    signalGroup(SIGTERM);
    m_killTimer.start(m_context.config->stopGraceMs);
}

void ProcessBackend::stop() {
    m_restartAfterStop = false;
    m_backoffTimer.stop();
    if (!m_process) {
        stopTimers();
        releasePort();
        m_supervised = false;
        setState(BackendState::Stopped, QStringLiteral("stopped"));
        Q_EMIT stopped();
        return;
    }
    if (m_stopping)
        return;
    m_stopping = true;
    stopTimers();
    appendLog(QStringLiteral("portico: stopping (SIGTERM)"), LogStream::Portico);
    signalGroup(SIGTERM);
    m_killTimer.start(m_context.config->stopGraceMs);
}

BackendTarget ProcessBackend::target() const {
    BackendTarget t;
    if (m_state != BackendState::Running || m_port == 0)
        return t;
    t.kind = BackendTarget::Kind::Tcp;
    t.host = QStringLiteral("127.0.0.1");
    t.port = m_port;
    return t;
}

QHash<quint16, quint16> ProcessBackend::backendPorts() const {
    QHash<quint16, quint16> ports;
    if (!target().isValid())
        return ports;
    for (qsizetype i = 0; i < m_spec.hostPorts.size(); ++i)
        ports.insert(m_spec.hostPorts.at(i).port, backendPortOf(i));
    return ports;
}

quint16 ProcessBackend::backendPortOf(qsizetype i) const {
    return i == 0 ? m_port : m_morePorts.value(i - 1);
}

QList<quint16> ProcessBackend::probePorts() const {
    if (m_spec.hostPorts.isEmpty())
        return {m_port};
    QList<quint16> ports;
    for (qsizetype i = 0; i < m_spec.hostPorts.size(); ++i) {
        if (m_spec.hostPorts.at(i).stream)
            ports.append(backendPortOf(i));
    }
    return ports;
}

quint16 ProcessBackend::pendingPort() const {
    return probePorts().value(m_accepted, m_port);
}

QString ProcessBackend::pendingPortText() const {
    const quint16 port = pendingPort();
    // With several ports, which one the app does not serve is the news.
    for (qsizetype i = 0; m_spec.hostPorts.size() > 1 && i < m_spec.hostPorts.size(); ++i) {
        if (backendPortOf(i) == port)
            return QStringLiteral("127.0.0.1:%1 (PORT_%2)").arg(port).arg(m_spec.hostPorts.at(i).port);
    }
    return QStringLiteral("127.0.0.1:%1").arg(port);
}

QString ProcessBackend::portsText() const {
    QString text = QStringLiteral("PORT=%1").arg(m_port);
    for (qsizetype i = 0; i < m_spec.hostPorts.size(); ++i)
        text += QStringLiteral(" PORT_%1=%2").arg(m_spec.hostPorts.at(i).port).arg(backendPortOf(i));
    return text;
}

qint64 ProcessBackend::pid() const {
    return m_process ? m_process->processId() : 0;
}

ProcessStatus ProcessBackend::processStatus() const {
    ProcessStatus s;
    s.pid = pid();
    if (s.pid > 0 && m_startedAt.isValid()) {
        s.startedAt = m_startedAt;
        s.uptimeMs = m_uptime.elapsed();
    }
    s.restarts = m_restarts;
    s.lastExit = m_lastExit;
    return s;
}

QStringList ProcessBackend::logTail(int lines) const {
    if (lines <= 0)
        return {};
    return m_ring.mid(qMax<qsizetype>(0, m_ring.size() - lines));
}

bool ProcessBackend::acquirePort(QString *error) {
    if (!m_context.ports) {
        *error = QStringLiteral("no port allocator configured");
        return false;
    }
    m_morePorts.resize(qMax<qsizetype>(0, m_spec.hostPorts.size() - 1));
    if (keepOrAcquire(&m_port, error) && std::all_of(m_morePorts.begin(), m_morePorts.end(),
                                                     [&](quint16 &p) { return keepOrAcquire(&p, error); }))
        return true;
    releasePort();
    return false;
}

bool ProcessBackend::keepOrAcquire(quint16 *port, QString *error) {
    if (*port != 0) {
        // Keep the port across restarts when nobody took it: routes need not change.
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, *port))
            return true;
        m_context.ports->release(*port);
    }
    *port = m_context.ports->acquire();
    if (*port == 0) {
        *error = QStringLiteral("no free backend port in %1-%2")
                     .arg(m_context.config->backendPortMin)
                     .arg(m_context.config->backendPortMax);
        return false;
    }
    return true;
}

void ProcessBackend::releasePort() {
    for (quint16 p : m_morePorts) {
        if (p != 0 && m_context.ports)
            m_context.ports->release(p);
    }
    m_morePorts.clear();
    if (m_port != 0 && m_context.ports)
        m_context.ports->release(m_port);
    if (m_port != 0) {
        m_port = 0;
        Q_EMIT targetChanged();
    }
}

void ProcessBackend::launch() {
    const BackendTarget before = target();
    QString error;
    if (!acquirePort(&error)) {
        if (m_supervised)
            scheduleRestart(error);
        else
            failStart(error);
        return;
    }
    m_failedStart = false;
    m_stopping = false;
    m_partial[0].clear();
    m_partial[1].clear();

    if (m_context.containment && !m_cell) {
        m_cell = m_context.containment->newCell(m_spec.project, &error);
        if (!m_cell && m_context.containment->mode() == Containment::Mode::Cgroup) {
            if (m_supervised)
                scheduleRestart(error);
            else
                failStart(error);
            return;
        }
    }

    m_process = new QProcess(this);
    m_process->setProgram(m_spec.program);
    QStringList args = m_spec.arguments;
    for (QString &a : args) {
        a.replace(QLatin1String("{PORT}"), QString::number(m_port));
        for (qsizetype i = 0; i < m_spec.hostPorts.size(); ++i)
            a.replace(QStringLiteral("{PORT_%1}").arg(m_spec.hostPorts.at(i).port),
                      QString::number(backendPortOf(i)));
    }
    m_accepted = 0;
    m_process->setArguments(args);
    m_process->setProcessEnvironment(environment());
    m_process->setStandardInputFile(QProcess::nullDevice());

    // A pseudo-terminal whose master only the daemon holds becomes the controlling
    // terminal of the child's session. When the session leader dies (PDEATHSIG below, or
    // any crash) the kernel sends SIGHUP to the session's foreground group, so grandchildren
    // die too even when nobody is left to signal them: PDEATHSIG alone only reaches the
    // direct child. Without a pty (none available) the direct child still dies.
    const QByteArray slave = openPtyMaster();

    // Everything the child needs, computed here: between fork and exec only
    // async-signal-safe calls run, so no allocation, no NSS, no Qt.
    struct Child {
        pid_t daemonPid = 0;
        QByteArray slave;
        QByteArray workdir;
        QByteArray workdirFailure; // "portico: cannot enter … as …: "
        int cgroupProcsFd = -1;
        bool subreaper = false;
        bool switchUser = false;
        uid_t uid = 0;
        gid_t gid = 0;
        std::vector<gid_t> groups;
    };
    Child c;
    c.daemonPid = ::getpid();
    c.slave = slave;
    c.workdir = QFile::encodeName(m_spec.workdir);
    c.cgroupProcsFd = m_cell ? m_cell->procsFd() : -1;
    c.subreaper = m_context.containment && m_context.containment->backendsAreSubreapers();
    if (m_spec.runAs) {
        c.switchUser = true;
        c.uid = m_spec.runAs->uid;
        c.gid = m_spec.runAs->gid;
        c.groups = m_spec.runAs->groups;
    }
    c.workdirFailure =
        QStringLiteral("portico: cannot enter the working directory %1 as %2: ")
            .arg(m_spec.workdir, m_spec.runAs ? QStringLiteral("user '%1'").arg(m_spec.runAs->user)
                                              : QStringLiteral("the daemon's user"))
            .toLocal8Bit();
    m_process->setChildProcessModifier([c] {
        const auto fail = [](const char *what, qsizetype length) {
            const char *reason = ::strerrordesc_np(errno);
            (void)!::write(STDERR_FILENO, what, size_t(length));
            (void)!::write(STDERR_FILENO, reason, std::strlen(reason));
            (void)!::write(STDERR_FILENO, "\n", 1);
            ::_exit(126);
        };
        // Into the backend's cgroup while still privileged; every descendant follows.
        if (c.cgroupProcsFd >= 0 && ::write(c.cgroupProcsFd, "0", 1) != 1) {
            static const char msg[] = "portico: cannot join the backend's cgroup: ";
            fail(msg, sizeof msg - 1);
        }
        // A new session makes the child a process-group leader (stop() signals the
        // whole group).
        ::setsid();
        if (!c.slave.isEmpty()) {
            // Opened by a session leader without a controlling terminal: becomes it.
            const int fd = ::open(c.slave.constData(), O_RDWR);
            if (fd >= 0)
                ::close(fd);
        }
        // No descriptor of the daemon's (a listening socket, a log file) reaches the
        // backend, even one opened without O_CLOEXEC; Qt's own pipes still work until exec.
        ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
        if (c.switchUser) {
            if (::setgroups(c.groups.size(), c.groups.data()) != 0 || ::setgid(c.gid) != 0 ||
                ::setuid(c.uid) != 0) {
                static const char msg[] = "portico: cannot switch to the backend user: ";
                fail(msg, sizeof msg - 1);
            }
            // Set-uid programs do not give a backend back what it just lost.
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        }
        ::umask(022); // the daemon's own is 077
        if (::chdir(c.workdir.constData()) != 0)
            fail(c.workdirFailure.constData(), c.workdirFailure.size());
        if (c.subreaper)
            ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // After the user switch, which clears it. The death signal kills the child when the
        // daemon dies, even by SIGKILL; the getppid() check closes the race where the
        // daemon died before prctl() ran.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != c.daemonPid)
            ::_exit(127);
    });

    connect(m_process, &QProcess::started, this, &ProcessBackend::onStarted);
    connect(m_process, &QProcess::finished, this, &ProcessBackend::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &ProcessBackend::onStartError);
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { readChannel(QProcess::StandardOutput); });
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { readChannel(QProcess::StandardError); });

    setState(
        BackendState::Starting,
        QStringLiteral("starting %1 on 127.0.0.1:%2").arg(QFileInfo(m_spec.program).fileName()).arg(m_port));
    if (before != target())
        Q_EMIT targetChanged();
    m_process->start();
    m_pgid = m_process->processId();
    if (m_context.containment)
        m_context.containment->backendStarted(m_pgid);
    m_readyTimer.start(m_context.config->readyTimeoutMs);
    if (m_spec.udpOnly)
        m_udpTimer.start(qMax(1, m_context.udpReadyMs));
    else
        m_pollTimer.start();
}

QProcessEnvironment ProcessBackend::environment() const {
    QProcessEnvironment env;
    if (m_spec.inheritEnvironment) {
        env = QProcessEnvironment::systemEnvironment();
    } else {
        const QProcessEnvironment own = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PATH"),
                   m_spec.path.isEmpty() ? own.value(QStringLiteral("PATH")) : m_spec.path);
        env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        env.insert(QStringLiteral("HOME"),
                   m_spec.home.isEmpty() ? own.value(QStringLiteral("HOME")) : m_spec.home);
    }
    for (auto it = m_spec.env.cbegin(); it != m_spec.env.cend(); ++it)
        env.insert(it.key(), it.value());
    env.insert(QStringLiteral("PORT"), QString::number(m_port));
    for (qsizetype i = 0; i < m_spec.hostPorts.size(); ++i)
        env.insert(QStringLiteral("PORT_%1").arg(m_spec.hostPorts.at(i).port),
                   QString::number(backendPortOf(i)));
    env.insert(QStringLiteral("HOST"), QStringLiteral("127.0.0.1"));
    return env;
}

void ProcessBackend::endDescendants() {
    const qint64 pid = m_pgid;
    // Whatever the process left behind in its group goes with it.
    signalGroup(SIGKILL);
    m_pgid = 0;
    if (m_cell)
        m_cell->killAll(); // and in its cgroup, whatever session it went to
    if (m_context.containment)
        m_context.containment->backendExited(pid); // subreaper mode: its orphans are ours now
}

void ProcessBackend::onStarted() {
    m_pgid = m_process->processId();
    m_startedAt = QDateTime::currentDateTimeUtc();
    m_uptime.start();
    appendLog(QStringLiteral("portico: started %1 (pid %2) with %3")
                  .arg(m_spec.program)
                  .arg(m_pgid)
                  .arg(portsText()),
              LogStream::Portico);
    if (!m_spec.udpOnly)
        probe();
}

void ProcessBackend::onStartError(QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart || !m_process)
        return;
    // No finished() follows a failed start.
    const QString why = QStringLiteral("cannot start %1: %2").arg(m_spec.program, m_process->errorString());
    appendLog(QStringLiteral("portico: ") + why, LogStream::Portico);
    m_process->disconnect(this);
    m_process->deleteLater();
    m_process = nullptr;
    endDescendants();
    closePtyMaster();
    afterExit(why);
}

void ProcessBackend::probe() {
    if (!m_process || m_state != BackendState::Starting)
        return;
    if (m_probe)
        return; // one attempt at a time; a refused loopback connect fails at once
    auto *socket = new QTcpSocket(this);
    m_probe = socket;
    connect(socket, &QTcpSocket::connected, this, [this, socket] {
        socket->abort();
        socket->deleteLater();
        m_probe = nullptr;
        if (m_state != BackendState::Starting || !m_process)
            return;
        // Ready once every port accepts: an app that serves HTTP on one and raw TCP on
        // another is not half there.
        if (++m_accepted >= probePorts().size())
            becomeReady();
        else
            probe();
    });
    connect(socket, &QTcpSocket::errorOccurred, this, [socket] {
        socket->abort();
        socket->deleteLater();
    });
    socket->connectToHost(QHostAddress(QHostAddress::LocalHost), pendingPort());
}

void ProcessBackend::becomeReady() {
    m_pollTimer.stop();
    m_readyTimer.stop();
    m_udpTimer.stop();
    const BackendTarget before = target();
    setState(BackendState::Running, QStringLiteral("pid %1 serving on 127.0.0.1:%2").arg(pid()).arg(m_port));
    if (before != target())
        Q_EMIT targetChanged();
    m_supervised = true;
    m_stableTimer.start(m_context.stableResetMs);
    appendLog(QStringLiteral("portico: ready on 127.0.0.1:%1").arg(m_port), LogStream::Portico);
    Q_EMIT ready();
}

void ProcessBackend::onReadyTimeout() {
    if (!m_process)
        return;
    const QString why = QStringLiteral("did not accept connections on %1 within %2 ms")
                            .arg(pendingPortText())
                            .arg(m_context.config->readyTimeoutMs);
    appendLog(QStringLiteral("portico: ") + why + QStringLiteral(", killing it"), LogStream::Portico);
    m_pollTimer.stop();
    m_udpTimer.stop();
    // finished() follows; with m_failedStart set it only cleans up, else it backs off.
    signalGroup(SIGKILL);
    if (!m_supervised) {
        m_failedStart = true;
        failStart(why + stderrTail()); // emits last: a receiver may delete us (deleteLater)
    }
}

void ProcessBackend::onFinished(int exitCode, QProcess::ExitStatus status) {
    const bool byUs = m_stopping;
    // For a CrashExit QProcess reports the terminating signal as the exit code.
    m_lastExit = ProcessExit{status == QProcess::CrashExit ? 0 : exitCode,
                             status == QProcess::CrashExit ? exitCode : 0, QDateTime::currentDateTimeUtc()};
    m_startedAt = {};
    m_uptime.invalidate();
    const QString why = describeExit(exitCode, status);
    appendLog(QStringLiteral("portico: process %1").arg(why), LogStream::Portico);
    // Flush what the last read left without a newline.
    for (int c = 0; c < 2; ++c) {
        if (!m_partial[c].isEmpty())
            appendLog(QString::fromUtf8(m_partial[c]), c == 1 ? LogStream::Stderr : LogStream::Stdout);
        m_partial[c].clear();
    }
    m_pollTimer.stop();
    m_readyTimer.stop();
    m_udpTimer.stop();
    m_stableTimer.stop();
    m_killTimer.stop();
    m_process->disconnect(this);
    m_process->deleteLater();
    m_process = nullptr;
    endDescendants();
    closePtyMaster();

    if (byUs) {
        m_stopping = false;
        if (m_restartAfterStop) {
            m_restartAfterStop = false;
            ++m_restarts;
            launch();
            return;
        }
        releasePort();
        m_cell.reset(); // empty now; removed
        m_supervised = false;
        setState(BackendState::Stopped, QStringLiteral("stopped"));
        Q_EMIT stopped();
        return;
    }
    afterExit(why);
}

void ProcessBackend::afterExit(const QString &why) {
    if (m_failedStart) {
        m_failedStart = false;
        releasePort();
        return;
    }
    if (!m_supervised) {
        const QString reason =
            m_state == BackendState::Starting
                ? QStringLiteral("%1 before it accepted connections on %2").arg(why, pendingPortText())
                : why;
        failStart(reason + stderrTail());
        return;
    }
    const BackendTarget before = target();
    setState(BackendState::Crashed, why + stderrTail());
    if (before != target())
        Q_EMIT targetChanged();
    scheduleRestart(why);
}

void ProcessBackend::failStart(const QString &reason) {
    m_pollTimer.stop();
    m_readyTimer.stop();
    m_udpTimer.stop();
    if (!m_process)
        releasePort();
    setState(BackendState::Crashed, reason);
    Q_EMIT failed(reason);
}

void ProcessBackend::scheduleRestart(const QString &why) {
    const qint64 base = qMax(1, m_context.backoffBaseMs);
    const qint64 max = qMax<qint64>(base, m_context.backoffMaxMs);
    qint64 delay = base;
    for (int i = 0; i < m_attempt && delay < max; ++i)
        delay *= 2;
    delay = qMin(delay, max);
    ++m_attempt;
    ++m_restarts;
    m_lastBackoffMs = int(delay);
    setState(BackendState::Backoff, QStringLiteral("%1; restarting in %2 ms").arg(why).arg(delay));
    m_backoffTimer.start(int(delay));
}

void ProcessBackend::setState(BackendState state, const QString &reason) {
    if (state == m_state && reason == m_reason)
        return;
    m_state = state;
    m_reason = reason;
    const QString name = backendStateName(state);
    if (reason.isEmpty() || reason == name)
        qCDebug(lcRuntime).noquote() << QStringLiteral("%1: %2").arg(m_spec.project, name);
    else
        qCDebug(lcRuntime).noquote() << QStringLiteral("%1: %2 (%3)").arg(m_spec.project, name, reason);
    Q_EMIT stateChanged(state, reason);
}

void ProcessBackend::readChannel(QProcess::ProcessChannel channel) {
    if (!m_process)
        return;
    const int c = channel == QProcess::StandardError ? 1 : 0;
    m_reading = true;
    m_process->setReadChannel(channel);
    QByteArray &partial = m_partial[c];
    partial += m_process->readAll();
    qsizetype start = 0;
    for (;;) {
        const qsizetype nl = partial.indexOf('\n', start);
        if (nl < 0)
            break;
        qsizetype end = nl;
        if (end > start && partial.at(end - 1) == '\r')
            --end;
        appendLog(QString::fromUtf8(partial.constData() + start, end - start),
                  c == 1 ? LogStream::Stderr : LogStream::Stdout);
        start = nl + 1;
    }
    partial.remove(0, start);
    while (partial.size() > kMaxLineBytes) {
        appendLog(QString::fromUtf8(partial.left(kMaxLineBytes)),
                  c == 1 ? LogStream::Stderr : LogStream::Stdout);
        partial.remove(0, kMaxLineBytes);
    }
    m_reading = false;
    flushLogFile();
}

void ProcessBackend::appendLog(const QString &line, LogStream stream) {
    const int cap = qMax(1, m_context.config->logRingLines);
    m_ring.append(line);
    while (m_ring.size() > cap)
        m_ring.removeFirst();
    if (stream == LogStream::Stderr) {
        m_stderrTail.append(line);
        while (m_stderrTail.size() > kStderrTailLines)
            m_stderrTail.removeFirst();
    }
    writeLogFile(line);
    Q_EMIT logLine(line, stream);
}

void ProcessBackend::writeLogFile(const QString &line) {
    if (m_context.logDir.isEmpty())
        return;
    m_logPending += line.toUtf8() + '\n';
    if (!m_reading)
        flushLogFile();
}

// One checked write per chunk of output; a failure (a full disk) is said once per spell
// and the lines stay in the ring that projects.logs reads.
void ProcessBackend::flushLogFile() {
    if (m_logPending.isEmpty())
        return;
    if (!m_log) {
        QDir().mkpath(m_context.logDir);
        m_log = std::make_unique<AppendFile>(
            QDir(m_context.logDir).filePath(m_spec.project + QStringLiteral(".log")), kMaxLogFileBytes, 0600);
    }
    const bool wasFailing = m_log->failing();
    QString error;
    if (!m_log->append(m_logPending, &error)) {
        if (!wasFailing)
            qCWarning(lcRuntime).noquote()
                << QStringLiteral("%1: %2; its output is kept in memory only (projects.logs)")
                       .arg(m_spec.project, error);
    } else if (wasFailing) {
        qCInfo(lcRuntime).noquote()
            << QStringLiteral("%1: writing %2 again").arg(m_spec.project, m_log->path());
    }
    m_logPending.clear();
}

QString ProcessBackend::stderrTail() const {
    if (m_stderrTail.isEmpty())
        return QStringLiteral(" (no output on stderr)");
    QString tail =
        m_stderrTail.mid(qMax<qsizetype>(0, m_stderrTail.size() - kReasonTailLines)).join(QLatin1Char('\n'));
    if (tail.size() > 2000)
        tail = QStringLiteral("...") + tail.right(2000);
    return QStringLiteral("; stderr:\n") + tail;
}

void ProcessBackend::signalGroup(int sig) {
    if (m_pgid <= 0)
        return;
    // Before the child's setsid() ran there is no group yet: signal the child itself.
    if (::kill(pid_t(-m_pgid), sig) != 0 && m_process)
        ::kill(pid_t(m_pgid), sig);
}

QByteArray ProcessBackend::openPtyMaster() {
    closePtyMaster();
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return {};
    char name[128];
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0 || ::ptsname_r(master, name, sizeof name) != 0) {
        ::close(master);
        return {};
    }
    m_ptyMaster = master;
    return QByteArray(name);
}

void ProcessBackend::closePtyMaster() {
    if (m_ptyMaster >= 0)
        ::close(m_ptyMaster);
    m_ptyMaster = -1;
}

void ProcessBackend::stopTimers() {
    m_pollTimer.stop();
    m_readyTimer.stop();
    m_udpTimer.stop();
    m_backoffTimer.stop();
    m_stableTimer.stop();
    m_killTimer.stop();
}

} // namespace portico

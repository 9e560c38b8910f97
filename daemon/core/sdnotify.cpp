#include "sdnotify.h"

#include "core/daemon.h"
#include "protocol.h"

#include <QMap>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcNotify, "portico.notify", QtInfoMsg)

namespace portico {

NotifySocket::NotifySocket() {
    const QByteArray path = qgetenv("NOTIFY_SOCKET");
    const QByteArray usec = qgetenv("WATCHDOG_USEC");
    const QByteArray pid = qgetenv("WATCHDOG_PID");
    qunsetenv("NOTIFY_SOCKET");
    qunsetenv("WATCHDOG_USEC");
    qunsetenv("WATCHDOG_PID");

    // WATCHDOG_PID, when set, names the process the watchdog is meant for: a child that
    // inherited the variable must not answer for its parent.
    bool ok = false;
    const qint64 micros = usec.toLongLong(&ok);
    if (ok && micros > 0 && (pid.isEmpty() || pid.toLongLong() == qint64(::getpid())))
        m_watchdogMs = qMax<qint64>(1, micros / 1000);

    if (path.isEmpty())
        return;
    m_path = QString::fromLocal8Bit(path);
    // "@name" is a socket in the abstract namespace: a leading NUL byte, no terminator.
    if (path.front() != '/' && path.front() != '@') {
        m_setupError =
            QStringLiteral("NOTIFY_SOCKET=%1 is neither an absolute path nor @abstract").arg(m_path);
        return;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (size_t(path.size()) >= sizeof(addr.sun_path)) {
        m_setupError = QStringLiteral("NOTIFY_SOCKET=%1 is too long for a UNIX socket").arg(m_path);
        return;
    }
    std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + size_t(path.size()));
    if (path.front() == '@')
        addr.sun_path[0] = '\0';
    else
        len += 1; // the terminating NUL of a path
    m_address = QByteArray(reinterpret_cast<const char *>(&addr), int(len));
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (m_fd < 0)
        m_setupError = QStringLiteral("cannot create a socket for NOTIFY_SOCKET: %1")
                           .arg(QString::fromLocal8Bit(std::strerror(errno)));
}

NotifySocket::~NotifySocket() {
    if (m_fd >= 0)
        ::close(m_fd);
}

int NotifySocket::send(const QByteArray &state) {
    if (m_fd < 0)
        return ENOTCONN;
    while (true) {
        const ssize_t n =
            ::sendto(m_fd, state.constData(), size_t(state.size()), MSG_DONTWAIT | MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr *>(m_address.constData()), socklen_t(m_address.size()));
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

namespace {

// "KEY=value\n…" as a map, so that a newer STATUS replaces an older one still pending.
QMap<QByteArray, QByteArray> lines(const QByteArray &state) {
    QMap<QByteArray, QByteArray> out;
    for (const QByteArray &line : state.split('\n')) {
        const qsizetype eq = line.indexOf('=');
        if (eq > 0)
            out.insert(line.left(eq), line.mid(eq + 1));
    }
    return out;
}

QByteArray joined(const QMap<QByteArray, QByteArray> &map) {
    QByteArray out;
    for (auto it = map.begin(); it != map.end(); ++it)
        out += it.key() + '=' + it.value() + '\n';
    return out;
}

} // namespace

ServiceNotifier::ServiceNotifier(QObject *parent) : QObject(parent) {
    if (!m_socket.setupError().isEmpty())
        qCWarning(lcNotify).noquote() << m_socket.setupError();
    m_retry.setInterval(200);
    connect(&m_retry, &QTimer::timeout, this, &ServiceNotifier::flushPending);
    if (m_socket.enabled() && m_socket.watchdogMs() > 0) {
        // Half the interval, as sd_watchdog_enabled(3) advises: one late turn is not a restart.
        m_watchdog.setInterval(int(qBound(qint64(1), m_socket.watchdogMs() / 2, qint64(24 * 3600 * 1000))));
        connect(&m_watchdog, &QTimer::timeout, this, [this] { send("WATCHDOG=1"); });
        qCInfo(lcNotify).noquote()
            << QStringLiteral("watchdog: pinging systemd every %1 ms").arg(m_watchdog.interval());
    }
}

ServiceNotifier::~ServiceNotifier() = default;

void ServiceNotifier::watch(Daemon *daemon) {
    m_daemon = daemon;
    if (!m_socket.enabled())
        return;
    connect(daemon, &Daemon::startupComplete, this, [this] {
        updateStatus(); // not sent on its own: it goes with READY=1
        m_ready = true;
        send("READY=1\nSTATUS=" + m_lastStatus);
        // systemd arms the watchdog once start-up is complete.
        if (m_socket.watchdogMs() > 0)
            m_watchdog.start();
    });
    connect(daemon, &AdminApi::event, this, [this](const QString &kind) {
        if (m_ready && kind == QLatin1String(protocol::event::RoutesChanged))
            updateStatus();
    });
}

void ServiceNotifier::stopping() {
    m_watchdog.stop();
    send("STOPPING=1\nSTATUS=stopping: closing listeners and stopping backends");
}

void ServiceNotifier::updateStatus() {
    if (!m_daemon)
        return;
    QSet<QString> projects;
    int routes = 0;
    QMap<QString, int> notActive;
    for (const RouteInfo &r : m_daemon->routes()) {
        if (r.project.isEmpty() || r.state == QLatin1String("draining"))
            continue; // the ingress itself, and versions that are going away
        projects.insert(r.project);
        ++routes;
        if (r.state != QLatin1String("active"))
            ++notActive[r.state];
    }
    QString text = QStringLiteral("%1 project%2, %3 route%4")
                       .arg(projects.size())
                       .arg(projects.size() == 1 ? "" : "s")
                       .arg(routes)
                       .arg(routes == 1 ? "" : "s");
    if (!notActive.isEmpty()) {
        QStringList parts;
        int total = 0;
        for (auto it = notActive.begin(); it != notActive.end(); ++it) {
            parts << QStringLiteral("%1 %2").arg(it.value()).arg(it.key());
            total += it.value();
        }
        text += QStringLiteral(", %1 not active (%2)").arg(total).arg(parts.join(QStringLiteral(", ")));
    }
    text += QStringLiteral("; ingress on port %1").arg(m_daemon->ingressPort());
    const QByteArray status = text.toUtf8();
    if (status == m_lastStatus)
        return;
    m_lastStatus = status;
    if (m_ready)
        send("STATUS=" + status);
}

void ServiceNotifier::send(const QByteArray &state) {
    if (!m_socket.enabled())
        return;
    auto merged = lines(m_pending);
    const auto next = lines(state);
    for (auto it = next.begin(); it != next.end(); ++it)
        merged.insert(it.key(), it.value());
    m_pending = joined(merged);
    flushPending();
}

void ServiceNotifier::flushPending() {
    if (m_pending.isEmpty()) {
        m_retry.stop();
        return;
    }
    const int e = m_socket.send(m_pending);
    if (e == 0) {
        m_pending.clear();
        m_retry.stop();
        m_warned = false;
        return;
    }
    if (!m_warned) {
        m_warned = true;
        qCWarning(lcNotify).noquote() << QStringLiteral("cannot notify %1: %2")
                                             .arg(m_socket.path(), QString::fromLocal8Bit(std::strerror(e)));
    }
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
        // A full queue at the receiver: try again shortly, keeping the latest of each key.
        if (!m_retry.isActive())
            m_retry.start();
        return;
    }
    m_pending.clear(); // nobody there: a later message may find it again
    m_retry.stop();
}

} // namespace portico

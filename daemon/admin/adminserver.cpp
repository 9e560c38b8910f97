#include "adminserver.h"

#include "adminconnection.h"
#include "adminlistener.h"
#include "auditlog.h"
#include "dispatcher.h"
#include "protocol.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QPointer>
#include <QTimer>

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcAdmin, "portico.admin", QtInfoMsg)

namespace portico {

namespace {

QString errnoText(int e) {
    return QString::fromLocal8Bit(std::strerror(e));
}

// Creates every missing directory of `dir` with `mode`; true when it created the last one.
bool makeDirs(const QString &dir, mode_t mode, bool *createdLeaf, QString *error) {
    *createdLeaf = false;
    QStringList missing;
    QString cur = QDir::cleanPath(dir);
    while (!cur.isEmpty() && !QFileInfo::exists(cur)) {
        missing.prepend(cur);
        const QString parent = QFileInfo(cur).path();
        if (parent == cur)
            break;
        cur = parent;
    }
    for (const auto &d : missing) {
        if (::mkdir(QFile::encodeName(d).constData(), mode) != 0 && errno != EEXIST) {
            *error = QStringLiteral("cannot create %1: %2").arg(d, errnoText(errno));
            return false;
        }
        // mkdir's mode is masked by the umask; say exactly what we mean.
        ::chmod(QFile::encodeName(d).constData(), mode);
    }
    *createdLeaf = !missing.isEmpty();
    return true;
}

// The peer's supplementary groups, from /proc (no NSS lookups on the control thread).
bool peerInGroup(qint64 pid, gid_t gid) {
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray status = f.read(64 * 1024);
    for (const QByteArray &line : status.split('\n')) {
        if (!line.startsWith("Groups:"))
            continue;
        for (const QByteArray &g : line.mid(7).simplified().split(' ')) {
            bool ok = false;
            if (g.toUInt(&ok) == gid && ok)
                return true;
        }
    }
    return false;
}

// Connections past admin_max_clients kept for root and the daemon's own user.
constexpr int kOperatorSlots = 1;

} // namespace

struct AdminServer::Impl {
    AdminServer *q = nullptr;
    Config config;
    AdminApi *api = nullptr;
    std::shared_ptr<AuditLog> audit;
    std::unique_ptr<Dispatcher> dispatcher;
    std::unique_ptr<AdminListener> listener;
    QList<AdminConnection *> connections;
    QTimer statsTimer;
    bool hasGroup = false;
    gid_t groupId = 0;

    void accepted(int fd);
    bool allowed(const ucred &cred) const;
    bool makeRoom(const ucred &cred);
    void broadcast(const QString &kind, const QJsonObject &data);
    void updateStatsTimer();
};

bool AdminServer::Impl::allowed(const ucred &cred) const {
    if (cred.uid == ::geteuid() || cred.uid == 0)
        return true;
    return hasGroup && (cred.gid == groupId || peerInGroup(cred.pid, groupId));
}

// admin_max_clients connections for anyone allowed; one more is kept for root and the
// daemon's own user, so that an operator always gets in past a crowd of group members.
// When that one is taken too, an operator's connection replaces the one idle the longest
// (no subscription, nothing in progress): such a connection would close at its idle
// timeout anyway.
bool AdminServer::Impl::makeRoom(const ucred &cred) {
    const int max = config.adminMaxClients;
    if (connections.size() < max)
        return true;
    const bool operatorPeer = cred.uid == 0 || cred.uid == ::geteuid();
    if (!operatorPeer)
        return false;
    if (connections.size() < max + kOperatorSlots)
        return true;
    AdminConnection *oldest = nullptr;
    for (AdminConnection *c : std::as_const(connections)) {
        if (c->isIdle() && (!oldest || c->idleForMs() > oldest->idleForMs()))
            oldest = c;
    }
    if (!oldest)
        return false;
    qCWarning(lcAdmin) << "admin socket: client limit" << max << "reached; closing the connection of uid"
                       << oldest->peer().uid << "pid" << oldest->peer().pid << "idle for"
                       << oldest->idleForMs() << "ms to let in uid" << cred.uid << "pid" << cred.pid;
    oldest->abort();
    return true;
}

void AdminServer::Impl::accepted(int fd) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || !allowed(cred)) {
        // Refused before a byte is read: no answer, no parsing.
        qCWarning(lcAdmin) << "admin socket: refused peer uid" << qint64(cred.uid) << "pid"
                           << qint64(cred.pid);
        ::close(fd);
        listener->connectionClosed();
        return;
    }
    if (!makeRoom(cred)) {
        qCWarning(lcAdmin) << "admin socket: client limit" << config.adminMaxClients
                           << "reached; refusing uid" << cred.uid << "pid" << cred.pid;
        // One small line fits the socket buffer; a UNIX socket's peer reads it after our close.
        const QByteArray refusal =
            jsonrpc::Message::error(
                QJsonValue(QJsonValue::Null), protocol::error::Busy,
                QStringLiteral("too many admin clients (max %1)").arg(config.adminMaxClients))
                .serialize();
        if (::send(fd, refusal.constData(), size_t(refusal.size()), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            qCDebug(lcAdmin) << "admin socket: the refusal could not be sent:" << errnoText(errno);
        ::close(fd);
        listener->connectionClosed();
        return;
    }
    AdminConnection::Limits limits;
    limits.maxLineBytes = config.adminMaxLineBytes;
    limits.maxQueueBytes = config.adminMaxQueueBytes;
    limits.idleTimeoutMs = config.adminIdleTimeoutMs;
    auto *conn =
        new AdminConnection(fd, PeerInfo{qint64(cred.uid), qint64(cred.pid)}, dispatcher.get(), limits, q);
    // The listener gets the descriptor back: it may keep its number for the reserve.
    QPointer<AdminServer> server(q);
    conn->setCloser([this, server](int closing) {
        if (server && listener)
            listener->closeConnection(closing);
        else
            ::close(closing);
    });
    connections.append(conn);
    QObject::connect(conn, &AdminConnection::subscriptionChanged, q, [this] { updateStatsTimer(); });
    QObject::connect(conn, &AdminConnection::closed, q, [this, conn] {
        connections.removeOne(conn);
        conn->deleteLater();
        updateStatsTimer();
    });
    qCDebug(lcAdmin) << "admin client connected: uid" << cred.uid << "pid" << cred.pid;
}

void AdminServer::Impl::broadcast(const QString &kind, const QJsonObject &data) {
    QByteArray line;
    // A client may be cut while we write: walk a copy.
    const auto targets = connections;
    for (AdminConnection *c : targets) {
        if (!c->wants(kind))
            continue;
        if (line.isEmpty())
            line =
                jsonrpc::Message::notification(
                    QLatin1String(protocol::method::Event),
                    {{QStringLiteral("kind"), kind},
                     {QStringLiteral("data"), data},
                     {QStringLiteral("time"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}})
                    .serialize();
        c->sendEvent(kind, line);
    }
}

void AdminServer::Impl::updateStatsTimer() {
    bool needed = false;
    for (const AdminConnection *c : std::as_const(connections))
        needed = needed || c->wants(QLatin1String(protocol::event::StatsTick));
    if (needed && !statsTimer.isActive())
        statsTimer.start();
    else if (!needed && statsTimer.isActive())
        statsTimer.stop();
}

AdminServer::AdminServer(const Config &config, AdminApi *api, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>()) {
    d->q = this;
    d->config = config;
    d->api = api;
    const QString auditFile =
        config.stateDir.isEmpty() ? QString() : QDir(config.stateDir).filePath(QStringLiteral("audit.log"));
    d->audit = std::make_shared<AuditLog>(auditFile);
    d->dispatcher = std::make_unique<Dispatcher>(api, d->audit);
    d->statsTimer.setInterval(1000);
    connect(&d->statsTimer, &QTimer::timeout, this,
            [this] { d->broadcast(QLatin1String(protocol::event::StatsTick), d->api->stats()); });
    Q_ASSERT(api);
    connect(api, &AdminApi::event, this,
            [this](const QString &kind, const QJsonObject &data) { d->broadcast(kind, data); });
}

AdminServer::~AdminServer() {
    close();
}

bool AdminServer::listen(QString *error) {
    QString dummy;
    if (!error)
        error = &dummy;
    if (d->listener && d->listener->isListening())
        return true;
    const QString path = d->config.adminSocket;
    if (path.isEmpty()) {
        *error = QStringLiteral("no admin socket path configured");
        return false;
    }
    if (!d->config.adminGroup.isEmpty()) {
        // Once, at start-up: the only NSS lookup the admin server makes.
        const group *g = ::getgrnam(d->config.adminGroup.toLocal8Bit().constData());
        if (!g) {
            *error = QStringLiteral("admin group '%1' does not exist").arg(d->config.adminGroup);
            return false;
        }
        d->hasGroup = true;
        d->groupId = g->gr_gid;
    }
    const QString dir = QFileInfo(path).absolutePath();
    bool created = false;
    if (!makeDirs(dir, 0700, &created, error))
        return false;
    if (created && d->hasGroup) {
        // Group members must be able to reach the socket: 0750, group-owned.
        if (::chown(QFile::encodeName(dir).constData(), uid_t(-1), d->groupId) != 0 ||
            ::chmod(QFile::encodeName(dir).constData(), 0750) != 0) {
            *error = QStringLiteral("cannot give %1 to group '%2': %3")
                         .arg(dir, d->config.adminGroup, errnoText(errno));
            return false;
        }
    }

    QString detail;
    switch (AdminListener::probe(path, &detail)) {
    case AdminListener::Probe::Absent:
        break;
    case AdminListener::Probe::Live:
        *error = QStringLiteral("another porticod is already serving %1").arg(path);
        return false;
    case AdminListener::Probe::Stale:
        qCInfo(lcAdmin) << "replacing stale admin socket" << path;
        if (::unlink(QFile::encodeName(path).constData()) != 0 && errno != ENOENT) {
            *error = QStringLiteral("cannot remove stale socket %1: %2").arg(path, errnoText(errno));
            return false;
        }
        break;
    case AdminListener::Probe::NotASocket:
        *error = QStringLiteral("%1 exists and is not a socket; not replacing it").arg(path);
        return false;
    case AdminListener::Probe::Unknown:
        *error = QStringLiteral("cannot tell whether %1 is in use: %2").arg(path, detail);
        return false;
    }

    AdminListener::Options options;
    options.path = path;
    options.mode = d->hasGroup ? 0660 : 0600;
    options.group = d->hasGroup ? d->groupId : gid_t(-1);
    options.backlog = qMax(128, d->config.adminMaxClients);
    auto listener = std::make_unique<AdminListener>(
        options, [this](int fd) { d->accepted(fd); }, this);
    if (!listener->listen(error))
        return false;
    d->listener = std::move(listener);
    qCInfo(lcAdmin) << "admin socket listening on" << path;
    return true;
}

QString AdminServer::socketPath() const {
    return d->config.adminSocket;
}

int AdminServer::clientCount() const {
    return int(d->connections.size());
}

int AdminServer::subscriberCount() const {
    int n = 0;
    for (const AdminConnection *c : std::as_const(d->connections))
        n += c->isSubscribed() ? 1 : 0;
    return n;
}

const AuditLog &AdminServer::auditLog() const {
    return *d->audit;
}

void AdminServer::close() {
    d->statsTimer.stop();
    d->listener.reset(); // closes the socket and removes its file
    const auto conns = d->connections;
    d->connections.clear();
    for (AdminConnection *c : conns) {
        c->disconnect(this);
        c->abort();
        delete c;
    }
}

} // namespace portico

#include "adminserver.h"

#include "adminconnection.h"
#include "auditlog.h"
#include "dispatcher.h"
#include "protocol.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QTimer>

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

enum class SocketProbe { Absent, Stale, Live, NotASocket, Unknown };

// Is anyone serving this path? A non-blocking connect() on AF_UNIX answers at once:
// ECONNREFUSED means nobody listens (a crashed daemon's leftover).
SocketProbe probeSocket(const QString &path, QString *detail) {
    const QByteArray native = QFile::encodeName(path);
    struct stat st {};
    if (::lstat(native.constData(), &st) != 0)
        return errno == ENOENT ? SocketProbe::Absent : SocketProbe::Unknown;
    if (!S_ISSOCK(st.st_mode))
        return SocketProbe::NotASocket;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (size_t(native.size()) >= sizeof(addr.sun_path)) {
        *detail = QStringLiteral("path too long for a UNIX socket");
        return SocketProbe::Unknown;
    }
    std::memcpy(addr.sun_path, native.constData(), size_t(native.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *detail = errnoText(errno);
        return SocketProbe::Unknown;
    }
    const int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
    const int e = errno;
    ::close(fd);
    if (rc == 0 || e == EINPROGRESS || e == EAGAIN)
        return SocketProbe::Live; // EAGAIN: a full backlog, still somebody's
    if (e == ECONNREFUSED)
        return SocketProbe::Stale;
    if (e == ENOENT)
        return SocketProbe::Absent;
    *detail = errnoText(e);
    return SocketProbe::Unknown;
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

} // namespace

struct AdminServer::Impl {
    AdminServer *q = nullptr;
    Config config;
    AdminApi *api = nullptr;
    std::shared_ptr<AuditLog> audit;
    std::unique_ptr<Dispatcher> dispatcher;
    QLocalServer *server = nullptr;
    QList<AdminConnection *> connections;
    QTimer statsTimer;
    bool hasGroup = false;
    gid_t groupId = 0;

    void onNewConnection();
    bool allowed(const ucred &cred) const;
    void broadcast(const QString &kind, const QJsonObject &data);
    void updateStatsTimer();
};

bool AdminServer::Impl::allowed(const ucred &cred) const {
    if (cred.uid == ::geteuid() || cred.uid == 0)
        return true;
    return hasGroup && (cred.gid == groupId || peerInGroup(cred.pid, groupId));
}

void AdminServer::Impl::onNewConnection() {
    while (server->hasPendingConnections()) {
        QLocalSocket *socket = server->nextPendingConnection();
        ucred cred{};
        socklen_t len = sizeof(cred);
        const auto fd = int(socket->socketDescriptor());
        if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || !allowed(cred)) {
            // Refused before a byte is read: no answer, no parsing.
            qCWarning(lcAdmin) << "admin socket: refused peer uid" << (fd < 0 ? -1 : qint64(cred.uid))
                               << "pid" << (fd < 0 ? -1 : qint64(cred.pid));
            socket->abort();
            socket->deleteLater();
            continue;
        }
        if (connections.size() >= config.adminMaxClients) {
            qCWarning(lcAdmin) << "admin socket: client limit" << config.adminMaxClients
                               << "reached; refusing pid" << cred.pid;
            socket->setParent(q);
            socket->write(jsonrpc::Message::error(
                              QJsonValue(QJsonValue::Null), protocol::error::Busy,
                              QStringLiteral("too many admin clients (max %1)").arg(config.adminMaxClients))
                              .serialize());
            QObject::connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromServer();
            // A client that never reads its refusal does not keep the socket.
            QTimer::singleShot(2000, socket, [socket] { socket->abort(); });
            continue;
        }
        AdminConnection::Limits limits;
        limits.maxLineBytes = config.adminMaxLineBytes;
        limits.maxQueueBytes = config.adminMaxQueueBytes;
        auto *conn = new AdminConnection(socket, PeerInfo{qint64(cred.uid), qint64(cred.pid)},
                                         dispatcher.get(), limits, q);
        connections.append(conn);
        QObject::connect(conn, &AdminConnection::subscriptionChanged, q, [this] { updateStatsTimer(); });
        QObject::connect(conn, &AdminConnection::closed, q, [this, conn] {
            connections.removeOne(conn);
            conn->deleteLater();
            updateStatsTimer();
        });
        qCDebug(lcAdmin) << "admin client connected: uid" << cred.uid << "pid" << cred.pid;
    }
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
    if (d->server && d->server->isListening())
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
    switch (probeSocket(path, &detail)) {
    case SocketProbe::Absent:
        break;
    case SocketProbe::Live:
        *error = QStringLiteral("another porticod is already serving %1").arg(path);
        return false;
    case SocketProbe::Stale:
        qCInfo(lcAdmin) << "replacing stale admin socket" << path;
        if (::unlink(QFile::encodeName(path).constData()) != 0 && errno != ENOENT) {
            *error = QStringLiteral("cannot remove stale socket %1: %2").arg(path, errnoText(errno));
            return false;
        }
        break;
    case SocketProbe::NotASocket:
        *error = QStringLiteral("%1 exists and is not a socket; not replacing it").arg(path);
        return false;
    case SocketProbe::Unknown:
        *error = QStringLiteral("cannot tell whether %1 is in use: %2").arg(path, detail);
        return false;
    }

    auto *server = new QLocalServer(this);
    server->setSocketOptions(d->hasGroup ? QLocalServer::UserAccessOption | QLocalServer::GroupAccessOption
                                         : QLocalServer::UserAccessOption);
    server->setMaxPendingConnections(qMax(30, d->config.adminMaxClients));
    if (!server->listen(path)) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(path, server->errorString());
        delete server;
        return false;
    }
    const QByteArray native = QFile::encodeName(path);
    const mode_t mode = d->hasGroup ? 0660 : 0600;
    if ((d->hasGroup && ::chown(native.constData(), uid_t(-1), d->groupId) != 0) ||
        ::chmod(native.constData(), mode) != 0) {
        *error = QStringLiteral("cannot set the mode of %1: %2").arg(path, errnoText(errno));
        server->close();
        delete server;
        return false;
    }
    d->server = server;
    connect(server, &QLocalServer::newConnection, this, [this] { d->onNewConnection(); });
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
    if (d->server) {
        d->server->close(); // removes the socket file
        delete d->server;
        d->server = nullptr;
    }
    const auto conns = d->connections;
    d->connections.clear();
    for (AdminConnection *c : conns) {
        c->disconnect(this);
        c->abort();
        delete c;
    }
}

} // namespace portico

#include "listenermanager.h"

#include "listenercontext.h"
#include "tcp/tcplistener.h"
#include "tcp/tcprelay.h"
#include "udp/udprelay.h"
#include "workerpool.h"

#include <QMutex>
#include <QRandomGenerator>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

Q_LOGGING_CATEGORY(lcNet, "portico.net", QtInfoMsg)

namespace portico {

namespace {

QString errnoText(int err) {
    switch (err) {
    case EADDRINUSE:
        return QStringLiteral("address already in use");
    case EACCES:
    case EPERM:
        return QStringLiteral("permission denied");
    case EADDRNOTAVAIL:
        return QStringLiteral("address not available");
    default:
        return QString::fromLocal8Bit(std::strerror(err)).toLower();
    }
}

QString portError(quint16 port, Transport transport, const QString &what) {
    return QStringLiteral("port %1/%2: %3").arg(port).arg(transportName(transport), what);
}

// The socket address for (address, port) and whether it needs IPV6_V6ONLY. QHostAddress::Any
// is the dual-stack wildcard (an IPv6 socket that also takes IPv4).
bool makeSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage *ss, socklen_t *len,
                  int *v6only) {
    std::memset(ss, 0, sizeof *ss);
    *v6only = -1;
    if (address == QHostAddress(QHostAddress::Any) || address.protocol() == QAbstractSocket::IPv6Protocol ||
        address == QHostAddress(QHostAddress::AnyIPv6)) {
        auto *sin6 = reinterpret_cast<sockaddr_in6 *>(ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        const Q_IPV6ADDR a = address.toIPv6Address();
        std::memcpy(&sin6->sin6_addr, a.c, 16);
        sin6->sin6_scope_id = address.scopeId().toUInt();
        *v6only = address == QHostAddress(QHostAddress::Any) ? 0 : 1;
        *len = sizeof(sockaddr_in6);
        return true;
    }
    bool ok = false;
    const quint32 v4 = address.toIPv4Address(&ok);
    if (!ok)
        return false;
    auto *sin = reinterpret_cast<sockaddr_in *>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(v4);
    *len = sizeof(sockaddr_in);
    return true;
}

enum class Reuse { None, Addr, AddrAndPort };

// socket + options + bind (+ listen for TCP). Returns the fd or -1 with errno-ish err.
int bindOne(const QHostAddress &address, quint16 port, Transport transport, Reuse reuse, bool listen,
            quint16 *boundPort, int *err) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int v6only = -1;
    if (!makeSockaddr(address, port, &ss, &len, &v6only)) {
        *err = EAFNOSUPPORT;
        return -1;
    }
    const int type = (transport == Transport::Tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    const int fd = ::socket(ss.ss_family, type, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    const int one = 1;
    if (reuse != Reuse::None)
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse == Reuse::AddrAndPort)
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (v6only >= 0)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || (listen && ::listen(fd, SOMAXCONN) != 0)) {
        *err = errno;
        ::close(fd);
        return -1;
    }
    if (boundPort) {
        sockaddr_storage out{};
        socklen_t outLen = sizeof out;
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&out), &outLen);
        *boundPort = out.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&out)->sin6_port)
                                               : ntohs(reinterpret_cast<sockaddr_in *>(&out)->sin_port);
    }
    return fd;
}

// The test bind every open() starts with. For TCP it deliberately omits SO_REUSEPORT: a
// socket holding the port with SO_REUSEPORT (another of our listeners, or any process of
// the same user) would otherwise let the real bind succeed and silently share the port.
bool testBind(const QHostAddress &address, quint16 port, Transport transport, quint16 *boundPort,
              QString *error) {
    int err = 0;
    const int fd = bindOne(address, port, transport, transport == Transport::Tcp ? Reuse::Addr : Reuse::None,
                           false, boundPort, &err);
    if (fd < 0) {
        if (error)
            *error = portError(port, transport, errnoText(err));
        return false;
    }
    ::close(fd);
    return true;
}

} // namespace

// Lets workers post back to the manager safely: the manager clears the pointer in its
// destructor, under the same lock the workers post under.
struct ManagerBridge {
    QMutex mutex;
    ListenerManager *manager = nullptr;
    // fn(ListenerManager *) runs later in the manager's thread (dropped if it is gone).
    template <typename Fn> void post(Fn fn) {
        QMutexLocker lock(&mutex);
        if (ListenerManager *m = manager)
            QMetaObject::invokeMethod(
                m, [m, fn] { fn(m); }, Qt::QueuedConnection);
    }
};

// Touched only in its worker's thread (by functors posted there, in order).
struct WorkerSlot {
    Listener *listener = nullptr;
    int fd = -1; // owned by the listener once it exists; closed here if it never did
};

struct ListenerManager::Impl {
    ListenerManager *q = nullptr;
    const Config &config;
    RouteTableHolder *routes;
    WorkerPool *workers;
    AccessLog *accessLog;
    std::shared_ptr<ManagerBridge> bridge = std::make_shared<ManagerBridge>();
    ListenerId nextId = 1;
    int nextUdpWorker = 0;
    // This daemon's Via pseudonym: a request that comes back carrying it looped (508).
    QByteArray via = "portico-" + QByteArray::number(QRandomGenerator::global()->generate(), 16);

    struct Record {
        ListenerOptions options;
        Transport transport = Transport::Tcp;
        quint16 port = 0;
        std::vector<std::pair<int, std::shared_ptr<WorkerSlot>>> slots; // (worker, slot)
        std::vector<int> fds; // listening fds; valid for shutdown() until fdsShut
        bool fdsShut = false;
        bool draining = false;
        int pendingWorkers = 0;
        QTimer *drainTimer = nullptr;
    };
    std::map<ListenerId, Record> records;

    Impl(const Config &c) : config(c) {}

    // Stops a TCP port taking connections synchronously, before the workers get to it:
    // shutdown() on a listening socket takes it out of the kernel's listening table, so
    // the port may be bound again at once (e.g. a redeploy on the same port) and new
    // visitors are refused instead of queued. The descriptor itself stays open until its
    // worker closes it, so its number is never reused under the worker's feet.
    void stopListening(Record &r) {
        if (r.fdsShut)
            return;
        r.fdsShut = true;
        if (r.transport == Transport::Tcp) {
            for (int fd : r.fds)
                ::shutdown(fd, SHUT_RD);
        }
    }

    void release(ListenerId id) {
        auto it = records.find(id);
        if (it == records.end())
            return;
        Record &r = it->second;
        stopListening(r);
        if (r.drainTimer) {
            r.drainTimer->stop();
            r.drainTimer->deleteLater();
        }
        for (auto &[worker, slot] : r.slots) {
            // An init-capture: clang before 16 cannot capture a structured binding by name.
            workers->post(worker, [slot = slot] {
                if (slot->listener) {
                    delete slot->listener;
                    slot->listener = nullptr;
                } else if (slot->fd >= 0) {
                    ::close(slot->fd);
                }
                slot->fd = -1;
            });
        }
        records.erase(it);
    }

    void workerDrained(ListenerId id) {
        auto it = records.find(id);
        if (it == records.end() || !it->second.draining)
            return;
        if (--it->second.pendingWorkers > 0)
            return;
        qCInfo(lcNet) << "listener" << id << "on port" << it->second.port << "drained";
        release(id);
        Q_EMIT q->drained(id);
    }

    void drainTimedOut(ListenerId id) {
        auto it = records.find(id);
        if (it == records.end())
            return;
        qCInfo(lcNet) << "listener" << id << "on port" << it->second.port
                      << "drain timeout: closing the remaining connections";
        release(id);
        Q_EMIT q->drained(id);
    }
};

ListenerManager::ListenerManager(const Config &config, RouteTableHolder *routes, WorkerPool *workers,
                                 AccessLog *accessLog, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>(config)) {
    d->q = this;
    d->routes = routes;
    d->workers = workers;
    d->accessLog = accessLog;
    d->bridge->manager = this;
}

ListenerManager::~ListenerManager() {
    {
        QMutexLocker lock(&d->bridge->mutex);
        d->bridge->manager = nullptr;
    }
    closeAll();
}

ListenerId ListenerManager::open(const ListenerOptions &options, QString *error) {
    const Transport transport = transportOf(options.protocol);
    auto fail = [&](const QString &message) -> ListenerId {
        if (error)
            *error = message;
        qCWarning(lcNet) << "cannot open listener:" << message;
        return 0;
    };
    if (!d->workers || d->workers->size() < 1)
        return fail(QStringLiteral("no worker threads"));
    if (options.address.isNull())
        return fail(
            QStringLiteral("port %1/%2: no listen address").arg(options.port).arg(transportName(transport)));
    if (options.protocol != Protocol::Http && options.project.isEmpty())
        return fail(QStringLiteral("a %1 listener needs a project").arg(protocolName(options.protocol)));

    quint16 port = options.port;
    QString bindError;
    if (!testBind(options.address, options.port, transport, &port, &bindError))
        return fail(bindError);

    Impl::Record record;
    record.options = options;
    record.transport = transport;
    record.port = port;
    const int sockets = transport == Transport::Tcp ? d->workers->size() : 1;
    for (int i = 0; i < sockets; ++i) {
        int err = 0;
        const int fd = bindOne(options.address, port, transport,
                               transport == Transport::Tcp ? Reuse::AddrAndPort : Reuse::None,
                               transport == Transport::Tcp, nullptr, &err);
        if (fd < 0) {
            for (int open : record.fds)
                ::close(open);
            return fail(portError(port, transport, errnoText(err)));
        }
        record.fds.push_back(fd);
    }

    const ListenerId id = d->nextId++;
    auto shared = std::make_shared<PortShared>(qMax(1, d->config.maxConnectionsPerListener),
                                               qMax(0, d->config.maxConnectionsPerSource));
    const IngressApi ingressApi = d->config.ingressApi == QLatin1String("all")   ? IngressApi::All
                                  : d->config.ingressApi == QLatin1String("off") ? IngressApi::Off
                                                                                 : IngressApi::Loopback;
    for (int i = 0; i < sockets; ++i) {
        const int worker = transport == Transport::Tcp ? i : (d->nextUdpWorker++ % d->workers->size());
        auto slot = std::make_shared<WorkerSlot>();
        slot->fd = record.fds[size_t(i)];
        record.slots.emplace_back(worker, slot);
        QObject *parent = d->workers->context(worker);
        const Config *config = &d->config;
        RouteTableHolder *routes = d->routes;
        AccessLog *accessLog = d->accessLog;
        const QByteArray via = d->via;

        d->workers->post(
            worker, [slot, parent, config, routes, accessLog, options, port, shared, ingressApi, via] {
                if (slot->fd < 0)
                    return; // closed before it started
                QString startError;
                bool ok = false;
                if (options.protocol == Protocol::Udp) {
                    auto ctx = std::make_shared<UdpRelayContext>();
                    ctx->config = config;
                    ctx->routes = routes;
                    ctx->project = options.project;
                    ctx->stats = options.stats;
                    ctx->port = port;
                    auto *relay = new UdpRelay(ctx, parent);
                    ok = relay->start(slot->fd, &startError); // closes the fd on failure
                    if (ok)
                        slot->listener = relay;
                    else
                        delete relay;
                    if (!ok)
                        slot->fd = -1;
                } else {
                    std::shared_ptr<HttpListenerContext> http;
                    std::shared_ptr<TcpRelayContext> relay;
                    if (options.protocol == Protocol::Http) {
                        http = std::make_shared<HttpListenerContext>();
                        http->config = config;
                        http->routes = routes;
                        http->accessLog = accessLog;
                        http->project = options.project;
                        http->port = port;
                        http->stats = options.stats;
                        http->ingressApi = ingressApi;
                        http->via = via;
                    } else {
                        relay = std::make_shared<TcpRelayContext>();
                        relay->config = config;
                        relay->routes = routes;
                        relay->project = options.project;
                        relay->proxyProtocol = options.proxyProtocol;
                        relay->stats = options.stats;
                        relay->port = port;
                    }
                    auto *listener = new TcpListener(http, relay, shared, parent);
                    ok = listener->start(slot->fd, &startError);
                    if (ok)
                        slot->listener = listener;
                    else
                        delete listener; // the fd stays in the slot and is closed on release
                }
                if (!ok)
                    qCWarning(lcNet) << "worker could not serve port" << port << ":" << startError;
            });
    }
    qCInfo(lcNet).noquote() << "listening on" << options.address.toString()
                            << QStringLiteral("%1/%2").arg(port).arg(protocolName(options.protocol))
                            << (options.project.isEmpty() ? QStringLiteral("(ingress)") : options.project);
    d->records.emplace(id, std::move(record));
    return id;
}

quint16 ListenerManager::boundPort(ListenerId id) const {
    const auto it = d->records.find(id);
    return it == d->records.end() ? 0 : it->second.port;
}

void ListenerManager::drain(ListenerId id, int timeoutMs) {
    auto it = d->records.find(id);
    if (it == d->records.end()) {
        // Nothing to wait for; still answer, asynchronously like a real drain.
        QMetaObject::invokeMethod(
            this, [this, id] { Q_EMIT drained(id); }, Qt::QueuedConnection);
        return;
    }
    Impl::Record &r = it->second;
    if (r.draining)
        return;
    r.draining = true;
    d->stopListening(r);
    r.pendingWorkers = int(r.slots.size());
    r.drainTimer = new QTimer(this);
    r.drainTimer->setSingleShot(true);
    connect(r.drainTimer, &QTimer::timeout, this, [this, id] { d->drainTimedOut(id); });
    r.drainTimer->start(qMax(0, timeoutMs));

    const std::shared_ptr<ManagerBridge> bridge = d->bridge;
    for (auto &[worker, slot] : r.slots) {
        // An init-capture: clang before 16 cannot capture a structured binding by name.
        d->workers->post(worker, [slot = slot, bridge, id] {
            auto done = [bridge, id] { bridge->post([id](ListenerManager *m) { m->d->workerDrained(id); }); };
            if (!slot->listener) {
                done();
                return;
            }
            slot->listener->stopAccepting();
            if (slot->listener->connectionCount() == 0) {
                done();
                return;
            }
            QObject::connect(slot->listener, &Listener::allClosed, slot->listener, done,
                             Qt::SingleShotConnection);
        });
    }
}

void ListenerManager::close(ListenerId id) {
    d->release(id);
}

void ListenerManager::closeAll() {
    while (!d->records.empty())
        d->release(d->records.begin()->first);
}

bool ListenerManager::probe(const QHostAddress &address, quint16 port, Transport transport, QString *error) {
    return testBind(address, port, transport, nullptr, error);
}

} // namespace portico

#pragma once

#include "config/config.h"
#include "manifest.h"
#include "routing/routetable.h"

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>

#include <array>
#include <atomic>
#include <memory>

struct sockaddr;

namespace portico {

class AccessLog;

// A peer's address as accepted (IPv4 kept as IPv4-mapped IPv6), without allocating.
struct PeerAddress {
    std::array<quint8, 16> ip{};
    quint16 port = 0;
    bool v4 = false;

    static PeerAddress from(const sockaddr *address);
    bool isLoopback() const;
    // "127.0.0.1", "::1"; written into out (at least 46 bytes), returns the length.
    int format(char *out) const;
    QString toString() const;
};

// Connections from one source address on one port, across the port's workers, so that one
// client cannot fill the listener and lock everyone else out (0: no per-source limit).
class SourceLimiter {
public:
    explicit SourceLimiter(int perSource) : m_max(perSource) {}
    bool acquire(const PeerAddress &peer);
    void release(const PeerAddress &peer);
    int count(const PeerAddress &peer) const;

private:
    static QByteArray key(const PeerAddress &peer) {
        return QByteArray(reinterpret_cast<const char *>(peer.ip.data()), 16);
    }
    const int m_max;
    mutable QMutex m_mutex;
    QHash<QByteArray, int> m_counts;
};

// What every worker's listening socket of one TCP port shares.
struct PortShared {
    PortShared(int maxConnections, int perSource) : max(maxConnections), sources(perSource) {}
    std::atomic<int> live{0};
    const int max;
    SourceLimiter sources;
};

// Who may read the ingress's own pages (`GET /`, `GET /_api/routes`).
enum class IngressApi { Loopback, All, Off };

// What an HTTP listener is, shared (read-only) by all its connections in one worker.
struct HttpListenerContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    AccessLog *accessLog = nullptr;    // may be null
    QString project;                   // empty: ingress with /<project>/ prefix routing
    quint16 port = 0;                  // the listener's own port (X-Forwarded-Host fallback)
    std::shared_ptr<RouteStats> stats; // this listener's row (dedicated port); ingress: table->ingressStats
    IngressApi ingressApi = IngressApi::Loopback;
    QByteArray via; // this daemon's Via pseudonym ("portico-1a2b3c4d")
};

// What every relay of one raw-TCP listener shares (read-only, one per listener per worker).
struct TcpRelayContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    QString project;
    ProxyProtocol proxyProtocol = ProxyProtocol::None;
    std::shared_ptr<RouteStats> stats; // may be null
    quint16 port = 0;                  // the listener's own port
};

// True when a backend at host:port is the listener itself (a loopback or unspecified address
// and the listener's own port): every connection would connect to itself again, without end.
bool loopsBack(const BackendTarget &target, quint16 ownPort);

} // namespace portico

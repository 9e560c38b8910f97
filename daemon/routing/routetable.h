#pragma once

#include "manifest.h"
#include "route.h"

#include <QHash>
#include <QJsonArray>
#include <QString>

#include <array>
#include <atomic>
#include <memory>

namespace portico {

// Where a route's traffic goes.
struct BackendTarget {
    enum class Kind { None, Tcp, Unix, Static };
    Kind kind = Kind::None;
    QString host; // Tcp: an address or a name (resolved asynchronously by the connector)
    quint16 port = 0;
    QString unixPath;
    QString staticRoot; // Static: absolute, canonical directory served by the daemon itself
    Dotfiles staticDotfiles = Dotfiles::Deny; // Static: what hidden paths get
    QString describe() const;
    bool isValid() const { return kind != Kind::None; }
    static const BackendTarget &none() {
        static const BackendTarget empty;
        return empty;
    }
    // "127.0.0.1:9000", "[::1]:9000", "unix:/run/x.sock"; nullopt when malformed.
    static std::optional<BackendTarget> fromUpstream(const QString &upstream);
    friend bool operator==(const BackendTarget &, const BackendTarget &) = default;
};

// Data-plane threads: each worker has an index so that counters are per worker.
constexpr int kMaxWorkers = 64;
int currentWorkerIndex();
void setCurrentWorkerIndex(int index); // called once by each worker thread at start

// Live counters of one route: one cache line per worker, summed when asked. Workers
// only ever touch their own slot, so the hot path has no shared writes.
class RouteStats {
public:
    struct alignas(64) Slot {
        std::atomic<quint64> open{0};
        std::atomic<quint64> total{0};
        std::atomic<quint64> bytesIn{0};
        std::atomic<quint64> bytesOut{0};
        std::atomic<quint64> requests{0};
        std::atomic<quint64> errors[size_t(ErrorKind::Count)]{};
    };
    Slot &local() { return m_slots[currentWorkerIndex()]; }
    RouteCounters sum() const;

    // Small helpers for the hot path (relaxed: counters are statistics, not synchronisation).
    void connectionOpened() {
        auto &s = local();
        s.open.fetch_add(1, std::memory_order_relaxed);
        s.total.fetch_add(1, std::memory_order_relaxed);
    }
    void connectionClosed() { local().open.fetch_sub(1, std::memory_order_relaxed); }
    void addIn(quint64 n) { local().bytesIn.fetch_add(n, std::memory_order_relaxed); }
    void addOut(quint64 n) { local().bytesOut.fetch_add(n, std::memory_order_relaxed); }
    void addRequest() { local().requests.fetch_add(1, std::memory_order_relaxed); }
    void addError(ErrorKind kind) { local().errors[size_t(kind)].fetch_add(1, std::memory_order_relaxed); }

private:
    std::array<Slot, kMaxWorkers> m_slots;
};

// One project as the data plane sees it.
struct ProjectRoute {
    QString name;
    BackendTarget target;    // where requests go; None while the backend is not serving
    bool pathRouted = false; // reachable as /<name>/ on the ingress
    QString state;           // active, starting, backoff, crashed, ... (see RouteInfo::state)
    QString reason;          // shown in the 503 body when target is None
    std::shared_ptr<RouteStats> ingressStats; // counters of the /<name>/ ingress row
    // Exchanges, relays, tunnels and UDP sessions using this backend right now (the data
    // plane counts; the control thread stops a replaced backend once it reaches zero).
    std::shared_ptr<std::atomic<int>> inflight;
    // Dedicated ports whose backend port is not target's: a process, deno or dockerfile
    // backend with several listen entries has one backend port per host port (PORT_<n>).
    // A port not in here (the ingress, every port of other runtimes) goes to target.
    QHash<quint16, BackendTarget> portTargets;
    const BackendTarget &targetFor(quint16 hostPort) const {
        const auto it = portTargets.constFind(hostPort);
        return it == portTargets.cend() ? target : *it;
    }
};

// An immutable routing table. The control thread builds a new one on each change and
// publishes it; workers read the current snapshot without locks.
class RouteTable {
public:
    quint16 ingressPort = 0;
    std::shared_ptr<RouteStats> ingressStats; // everything that arrived on the ingress
    QHash<QString, std::shared_ptr<const ProjectRoute>> projects;
    QList<RouteInfo> rows;                       // static parts of the rows, ingress first
    QList<std::shared_ptr<RouteStats>> rowStats; // parallel to rows (may hold nulls)

    const ProjectRoute *project(const QString &name) const;
    QList<RouteInfo> rowsWithCounters() const;
    QJsonArray toJson() const { return routesToJson(rowsWithCounters()); }
};

class RouteTableHolder {
public:
    RouteTableHolder();
    std::shared_ptr<const RouteTable> current() const { return m_table.load(std::memory_order_acquire); }
    void publish(std::shared_ptr<const RouteTable> table) {
        m_table.store(std::move(table), std::memory_order_release);
    }

private:
    std::atomic<std::shared_ptr<const RouteTable>> m_table;
};

} // namespace portico

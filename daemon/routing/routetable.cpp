#include "routetable.h"

namespace portico {

namespace {
thread_local int t_workerIndex = 0;
}

int currentWorkerIndex() {
    return t_workerIndex;
}

void setCurrentWorkerIndex(int index) {
    t_workerIndex = (index >= 0 && index < kMaxWorkers) ? index : 0;
}

QString BackendTarget::describe() const {
    switch (kind) {
    case Kind::None:
        return QStringLiteral("none");
    case Kind::Tcp:
        return host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]:%2").arg(host).arg(port)
                                               : QStringLiteral("%1:%2").arg(host).arg(port);
    case Kind::Unix:
        return QStringLiteral("unix:") + unixPath;
    case Kind::Static:
        return QStringLiteral("static ") + staticRoot;
    }
    return {};
}

std::optional<BackendTarget> BackendTarget::fromUpstream(const QString &upstream) {
    BackendTarget t;
    if (upstream.startsWith(QLatin1String("unix:"))) {
        t.kind = Kind::Unix;
        t.unixPath = upstream.mid(5);
        if (!t.unixPath.startsWith(QLatin1Char('/')))
            return std::nullopt;
        return t;
    }
    QString host;
    QString port;
    if (upstream.startsWith(QLatin1Char('['))) {
        const int close = upstream.indexOf(QLatin1Char(']'));
        if (close < 0 || upstream.mid(close + 1, 1) != QLatin1String(":"))
            return std::nullopt;
        host = upstream.mid(1, close - 1);
        port = upstream.mid(close + 2);
    } else {
        const int colon = upstream.lastIndexOf(QLatin1Char(':'));
        if (colon <= 0)
            return std::nullopt;
        host = upstream.left(colon);
        port = upstream.mid(colon + 1);
    }
    bool ok = false;
    const int p = port.toInt(&ok);
    if (!ok || p < 1 || p > 65535 || host.isEmpty())
        return std::nullopt;
    t.kind = Kind::Tcp;
    t.host = host;
    t.port = quint16(p);
    return t;
}

RouteCounters RouteStats::sum() const {
    RouteCounters c;
    for (const auto &s : m_slots) {
        c.connectionsOpen += s.open.load(std::memory_order_relaxed);
        c.connectionsTotal += s.total.load(std::memory_order_relaxed);
        c.bytesIn += s.bytesIn.load(std::memory_order_relaxed);
        c.bytesOut += s.bytesOut.load(std::memory_order_relaxed);
        c.requests += s.requests.load(std::memory_order_relaxed);
        for (size_t k = 0; k < c.errorsByKind.size(); ++k) {
            const quint64 n = s.errors[k].load(std::memory_order_relaxed);
            c.errorsByKind[k] += n;
            c.errors += n;
        }
    }
    return c;
}

const ProjectRoute *RouteTable::project(const QString &name) const {
    const auto it = projects.constFind(name);
    return it == projects.cend() ? nullptr : it->get();
}

QList<RouteInfo> RouteTable::rowsWithCounters() const {
    QList<RouteInfo> out = rows;
    for (int i = 0; i < out.size() && i < rowStats.size(); ++i) {
        if (rowStats.at(i))
            out[i].counters = rowStats.at(i)->sum();
    }
    return out;
}

RouteTableHolder::RouteTableHolder() : m_table(std::make_shared<const RouteTable>()) {}

} // namespace portico

#include "portfinder.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTcpServer>
#include <QUdpSocket>

namespace portico {

QString transportOf(const QString &protocol) {
    return protocol == QLatin1String("udp") ? QStringLiteral("udp") : QStringLiteral("tcp");
}

void PortClaims::add(int port, const QString &protocol) {
    (transportOf(protocol) == QLatin1String("udp") ? udp : tcp).insert(port);
}

bool PortClaims::isClaimed(int port, const QString &transport) const {
    return (transport == QLatin1String("udp") ? udp : tcp).contains(port);
}

PortClaims PortClaims::fromRoutes(const QJsonArray &routes) {
    PortClaims claims;
    for (const QJsonValue &v : routes) {
        const QJsonObject r = v.toObject();
        claims.add(r.value(QStringLiteral("host_port")).toInt(),
                   r.value(QStringLiteral("protocol")).toString());
    }
    return claims;
}

bool canBind(int port, const QString &transport) {
    if (port < 1 || port > 65535)
        return false;
    // Any (dual stack) collides with a listener on any address of either family.
    if (transport == QLatin1String("udp")) {
        QUdpSocket s;
        return s.bind(QHostAddress::Any, quint16(port), QAbstractSocket::DontShareAddress);
    }
    QTcpServer s;
    return s.listen(QHostAddress::Any, quint16(port));
}

int nearestFreePort(int wanted, const QString &transport, const PortClaims &claims, const QSet<int> &avoid,
                    int low, int high, const std::function<bool(int, const QString &)> &bindable,
                    int maxDistance) {
    const auto free = [&](int p) {
        return p >= low && p <= high && p != wanted && !claims.isClaimed(p, transport) &&
               !avoid.contains(p) && bindable(p, transport);
    };
    for (int d = 1; d <= maxDistance; ++d) {
        if (wanted + d > high && wanted - d < low)
            break;
        if (free(wanted + d))
            return wanted + d;
        if (free(wanted - d))
            return wanted - d;
    }
    return 0;
}

namespace {

// Calls f on every listen entry (an object, or each object of an array).
template <typename F> QJsonValue mapListen(const QJsonValue &listen, F f) {
    if (listen.isObject())
        return f(listen.toObject());
    if (!listen.isArray())
        return listen;
    QJsonArray out;
    for (const QJsonValue &v : listen.toArray())
        out.append(v.isObject() ? f(v.toObject()) : v);
    return out;
}

QString entryTransport(const QJsonObject &entry) {
    return transportOf(entry.value(QStringLiteral("protocol")).toString());
}

} // namespace

QSet<int> listenPorts(const QJsonObject &manifest, const QString &transport) {
    QSet<int> ports;
    mapListen(manifest.value(QStringLiteral("listen")), [&](const QJsonObject &e) {
        if (entryTransport(e) == transport)
            ports.insert(e.value(QStringLiteral("port")).toInt());
        return e;
    });
    return ports;
}

QList<PortSuggestion> suggestPorts(const QList<std::pair<int, QString>> &taken, const QJsonObject &manifest,
                                   const PortClaims &claims,
                                   const std::function<bool(int, const QString &)> &bindable) {
    QList<PortSuggestion> out;
    QHash<QString, QSet<int>> avoid;
    for (const auto &[port, transport] : taken) {
        if (!avoid.contains(transport))
            avoid.insert(transport, listenPorts(manifest, transport));
        if (std::any_of(out.cbegin(), out.cend(),
                        [&](const PortSuggestion &s) { return s.from == port && s.transport == transport; }))
            continue;
        const int to = nearestFreePort(port, transport, claims, avoid[transport], 1024, 65535, bindable);
        if (to > 0)
            avoid[transport].insert(to);
        out.append({port, to, transport});
    }
    return out;
}

QJsonObject applyPortSuggestions(QJsonObject manifest, const QList<PortSuggestion> &suggestions) {
    const QJsonValue listen = mapListen(manifest.value(QStringLiteral("listen")), [&](QJsonObject e) {
        for (const PortSuggestion &s : suggestions) {
            if (s.to > 0 && e.value(QStringLiteral("port")).toInt() == s.from &&
                entryTransport(e) == s.transport) {
                e.insert(QStringLiteral("port"), s.to);
                break;
            }
        }
        return e;
    });
    if (manifest.contains(QStringLiteral("listen")))
        manifest.insert(QStringLiteral("listen"), listen);
    return manifest;
}

} // namespace portico

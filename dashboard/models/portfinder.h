#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>

#include <functional>

namespace portico {

// Ports Portico's routing table claims, in the daemon's two namespaces: "tcp" (http and
// tcp routes, the ingress) and "udp".
struct PortClaims {
    QSet<int> tcp;
    QSet<int> udp;

    void add(int port, const QString &protocol);
    bool isClaimed(int port, const QString &transport) const;
    // From RouteInfo objects (routes.list, routes.changed).
    static PortClaims fromRoutes(const QJsonArray &routes);
};

// "udp" for a udp listen entry, else "tcp" (http and tcp share one namespace).
QString transportOf(const QString &protocol);

// Whether a listener could open that port now on every address: a test bind, released at
// once. A port another program holds fails it.
bool canBind(int port, const QString &transport);

// The free port nearest to wanted (above before below on a tie) in [low, high]: not
// claimed by a route, not in avoid, and bindable (canBind unless given). 0 when none is
// found within maxDistance.
int nearestFreePort(int wanted, const QString &transport, const PortClaims &claims,
                    const QSet<int> &avoid = {}, int low = 1024, int high = 65535,
                    const std::function<bool(int, const QString &)> &bindable = canBind,
                    int maxDistance = 2000);

// A port a manifest asks for that is taken, and the free one nearest to it.
struct PortSuggestion {
    int from = 0;
    int to = 0; // 0: none found
    QString transport;
    friend bool operator==(const PortSuggestion &, const PortSuggestion &) = default;
};

// The ports of a manifest's listen entries (object or array) in one transport.
QSet<int> listenPorts(const QJsonObject &manifest, const QString &transport);
// A suggestion for each (port, transport) taken: never a port the manifest itself uses,
// never the same one twice.
QList<PortSuggestion> suggestPorts(const QList<std::pair<int, QString>> &taken, const QJsonObject &manifest,
                                   const PortClaims &claims,
                                   const std::function<bool(int, const QString &)> &bindable = canBind);
// The manifest with each suggested port in place of the taken one.
QJsonObject applyPortSuggestions(QJsonObject manifest, const QList<PortSuggestion> &suggestions);

} // namespace portico

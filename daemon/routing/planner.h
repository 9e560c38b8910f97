#pragma once

#include "manifest.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace portico {

// A port some holder has (or the configuration keeps) in one transport.
struct PortClaim {
    quint16 port = 0;
    Transport transport = Transport::Tcp;
    QString holder;        // a project name
    bool inFlight = false; // reserved by a deploy of holder still in progress
};

// Why a listen entry cannot be had. holder is a project name, or one of "ingress",
// "reserved", "range", "host" (another program on this machine).
struct Conflict {
    quint16 port = 0;
    Transport transport = Transport::Tcp;
    QString holder;
    QString message; // "port 3000/tcp is already bound by project 'my-api'"
    QJsonObject toJson() const;
    friend bool operator==(const Conflict &, const Conflict &) = default;
};

// What a deploy changes in the routing table.
struct RouteDiff {
    bool newProject = true;
    bool pathRouteBefore = false;
    bool pathRouteAfter = false;
    QList<ListenSpec> added;   // ports to bind
    QList<ListenSpec> removed; // ports to drain and close
    QList<ListenSpec> kept;    // ports that stay bound (their listener is reused)
    QJsonObject toJson() const;
};

struct PlannerLimits {
    quint16 ingressPort = 8080;
    QList<quint16> reservedPorts;
    quint16 allowedMin = 1024;
    quint16 allowedMax = 65535;
};

struct Plan {
    RouteDiff diff;
    QList<Conflict> conflicts;
    bool ok() const { return conflicts.isEmpty(); }
    QJsonArray conflictsJson() const;
    QString conflictText() const; // one sentence per conflict, joined by "; "
};

// The planner: a pure function of the ports others hold, the manifest, the version it
// replaces (null for a new project) and the limits. It does not look at the host; the
// caller adds a test bind for diff.added.
Plan planDeploy(const QList<PortClaim> &claims, const Manifest &manifest, const Manifest *previous,
                const PlannerLimits &limits);

// The sentence for a port another program on the host holds.
Conflict hostConflict(const ListenSpec &spec, const QString &osError);

} // namespace portico

#include "planner.h"

namespace portico {

QJsonObject Conflict::toJson() const {
    return {{QStringLiteral("port"), int(port)},
            {QStringLiteral("transport"), transportName(transport)},
            {QStringLiteral("holder"), holder},
            {QStringLiteral("message"), message}};
}

static QJsonArray specsJson(const QList<ListenSpec> &specs) {
    QJsonArray a;
    for (const auto &s : specs)
        a.append(s.toJson());
    return a;
}

QJsonObject RouteDiff::toJson() const {
    return {{QStringLiteral("new_project"), newProject},
            {QStringLiteral("path_route_before"), pathRouteBefore},
            {QStringLiteral("path_route_after"), pathRouteAfter},
            {QStringLiteral("added"), specsJson(added)},
            {QStringLiteral("removed"), specsJson(removed)},
            {QStringLiteral("kept"), specsJson(kept)}};
}

QJsonArray Plan::conflictsJson() const {
    QJsonArray a;
    for (const auto &c : conflicts)
        a.append(c.toJson());
    return a;
}

QString Plan::conflictText() const {
    QStringList parts;
    for (const auto &c : conflicts)
        parts << c.message;
    return parts.join(QStringLiteral("; "));
}

Conflict hostConflict(const ListenSpec &spec, const QString &osError) {
    return {spec.port, spec.transport(), QStringLiteral("host"),
            QStringLiteral("port %1 is in use on this host by another program (%2)")
                .arg(spec.portLabel(), osError)};
}

Plan planDeploy(const QList<PortClaim> &claims, const Manifest &manifest, const Manifest *previous,
                const PlannerLimits &limits) {
    Plan plan;
    RouteDiff &diff = plan.diff;
    diff.newProject = previous == nullptr;
    diff.pathRouteBefore = previous && previous->isPathRouted();
    diff.pathRouteAfter = manifest.isPathRouted();

    const auto sameSlot = [](const ListenSpec &a, const ListenSpec &b) {
        return a.port == b.port && a.transport() == b.transport();
    };
    const QList<ListenSpec> before = previous ? previous->listen : QList<ListenSpec>();
    for (const auto &spec : manifest.listen) {
        const auto it = std::find_if(before.begin(), before.end(),
                                     [&](const ListenSpec &b) { return sameSlot(b, spec); });
        // A listener is reused only when it serves the same way; a protocol change
        // (http -> tcp on one port) rebinds it.
        if (it != before.end() && *it == spec)
            diff.kept.append(spec);
        else
            diff.added.append(spec);
    }
    for (const auto &b : before) {
        const bool stays =
            std::any_of(diff.kept.begin(), diff.kept.end(), [&](const ListenSpec &k) { return k == b; });
        if (!stays)
            diff.removed.append(b);
    }

    for (const auto &spec : manifest.listen) {
        const Transport t = spec.transport();
        const QString label = spec.portLabel();
        if (spec.port < limits.allowedMin || spec.port > limits.allowedMax) {
            plan.conflicts.append({spec.port, t, QStringLiteral("range"),
                                   QStringLiteral("port %1 is outside the allowed range %2-%3")
                                       .arg(label)
                                       .arg(limits.allowedMin)
                                       .arg(limits.allowedMax)});
            continue;
        }
        if (t == Transport::Tcp && spec.port == limits.ingressPort) {
            plan.conflicts.append({spec.port, t, QStringLiteral("ingress"),
                                   QStringLiteral("port %1 is the HTTP ingress port").arg(label)});
            continue;
        }
        if (limits.reservedPorts.contains(spec.port)) {
            plan.conflicts.append(
                {spec.port, t, QStringLiteral("reserved"),
                 QStringLiteral("port %1 is reserved by the daemon's configuration").arg(label)});
            continue;
        }
        for (const auto &claim : claims) {
            if (claim.port == spec.port && claim.transport == t && claim.holder != manifest.name) {
                plan.conflicts.append(
                    {spec.port, t, claim.holder,
                     claim.inFlight
                         ? QStringLiteral("port %1 is being taken by a deploy of project '%2' in progress")
                               .arg(label, claim.holder)
                         : QStringLiteral("port %1 is already bound by project '%2'")
                               .arg(label, claim.holder)});
                break;
            }
        }
    }
    return plan;
}

} // namespace portico

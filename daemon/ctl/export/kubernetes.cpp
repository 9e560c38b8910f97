#include "kubernetes.h"

#include "objects.h"

#include <QJsonObject>
#include <QSet>

#include <algorithm>

namespace portico::ctl::k8s {

namespace {

bool runsSomething(RuntimeKind r) {
    return r != RuntimeKind::Upstream;
}

// The ports a project's backend serves. A process-like backend listens in its own pod on
// the same numbers as its host ports (PORT_<n>), or on kPodHttpPort behind the ingress; an
// upstream has one address, which every entry of one transport reaches.
QList<BackendPort> backendPorts(const ProjectPlan &p) {
    QList<BackendPort> ports;
    for (const Entry &e : p.entries) {
        const Transport t = transportOf(e.protocol);
        auto same = std::find_if(ports.begin(), ports.end(), [&](const BackendPort &b) {
            return b.port == e.backendPort && b.transport == t;
        });
        const QString name = protocolName(e.protocol) + QLatin1Char('-') + QString::number(e.backendPort);
        if (same == ports.end())
            ports.append({e.backendPort, t, name});
        else if (e.protocol == Protocol::Tcp)
            same->name = name; // http and tcp entries share the port: it carries raw TCP
    }
    std::sort(ports.begin(), ports.end(), [](const BackendPort &a, const BackendPort &b) {
        return std::pair(a.port, int(a.transport)) < std::pair(b.port, int(b.transport));
    });
    return ports;
}

ProjectPlan planProject(const Manifest &m, const Options &options, Result &r) {
    ProjectPlan p;
    p.manifest = m;
    p.name = objectName(m.name);
    if (p.name != m.name)
        r.notes << QStringLiteral("project '%1' is named '%2' in Kubernetes (a Service name starts with a "
                                  "letter and ends with a letter or digit)")
                       .arg(m.name, p.name);
    quint16 upstreamPort = 0;
    if (m.runtime == RuntimeKind::Upstream) {
        QString why;
        p.upstream = upstreamAddress(m.upstream, &why);
        if (!p.upstream) {
            r.errors << QStringLiteral("project '%1': upstream %2").arg(m.name, why);
            return p;
        }
        upstreamPort = p.upstream->port;
        if (p.upstream->type == UpstreamAddress::Type::DnsName)
            r.notes << QStringLiteral(
                           "project '%1' forwards to %2, a DNS name: its Service is of type ExternalName, "
                           "which not every Gateway implementation routes to (check yours); the name "
                           "must resolve, and be reachable, from the cluster")
                           .arg(m.name, m.upstream);
        else
            r.notes << QStringLiteral(
                           "project '%1' forwards to %2, outside the cluster: that address must be "
                           "reachable from the cluster's Gateway and pods")
                           .arg(m.name, m.upstream);
    }
    if (m.isPathRouted()) {
        p.entries.append({Protocol::Http, options.ingressPort, upstreamPort ? upstreamPort : kPodHttpPort,
                          ProxyProtocol::None, true});
    } else {
        for (const ListenSpec &l : m.listen)
            p.entries.append(
                {l.protocol, l.port, upstreamPort ? upstreamPort : l.port, l.proxyProtocol, false});
    }
    p.ports = backendPorts(p);
    p.image = options.images.value(m.name);
    return p;
}

// Two projects (or a project and the ingress) on one port: Portico refuses that at deploy,
// so it only happens offline, and a Gateway cannot have it either.
void checkPorts(const QList<ProjectPlan> &plans, const Options &options, Result &r) {
    QMap<std::pair<quint16, Transport>, QString> holder;
    for (const ProjectPlan &p : plans) {
        for (const Entry &e : p.entries) {
            if (e.ingress)
                continue;
            const auto key = std::pair(e.hostPort, transportOf(e.protocol));
            const QString label = QStringLiteral("%1/%2").arg(e.hostPort).arg(transportName(key.second));
            if (key == std::pair(options.ingressPort, Transport::Tcp))
                r.errors << QStringLiteral("project '%1' listens on %2, the ingress port")
                                .arg(p.manifest.name, label);
            else if (holder.contains(key))
                r.errors << QStringLiteral("port %1 is claimed by both '%2' and '%3'")
                                .arg(label, holder.value(key), p.manifest.name);
            else
                holder.insert(key, p.manifest.name);
        }
    }
}

void checkImages(const QList<ProjectPlan> &plans, const Options &options, Result &r) {
    QMap<QString, const ProjectPlan *> byName;
    for (const ProjectPlan &p : plans)
        byName.insert(p.manifest.name, &p);
    for (auto it = options.images.cbegin(); it != options.images.cend(); ++it) {
        const ProjectPlan *p = byName.value(it.key());
        if (!p)
            r.errors << QStringLiteral("--image %1=%2: there is no project '%1' in this export")
                            .arg(it.key(), it.value());
        else if (!runsSomething(p->manifest.runtime))
            r.errors << QStringLiteral(
                            "--image %1=%2: project '%1' is an upstream, nothing of it runs in the cluster")
                            .arg(it.key(), it.value());
    }
    for (const ProjectPlan &p : plans) {
        if (!runsSomething(p.manifest.runtime) || !p.image.isEmpty())
            continue;
        const QString runtime = runtimeName(p.manifest.runtime);
        if (options.skipMissingImages)
            r.warnings << QStringLiteral(
                              "project '%1' (%2) has no --image: its Deployment is left out, and its "
                              "Service has no pods until one is added")
                              .arg(p.manifest.name, runtime);
        else
            r.errors << QStringLiteral(
                            "project '%1' (%2) runs a backend and needs a container image: pass "
                            "--image %1=IMAGE (or --skip-missing-images to leave its Deployment out)")
                            .arg(p.manifest.name, runtime);
    }
}

int protocolOrder(Protocol p) {
    return p == Protocol::Http ? 0 : p == Protocol::Tcp ? 1 : 2;
}

QString gatewayName(int index) {
    return index == 0 ? QLatin1String(kGatewayName)
                      : QStringLiteral("%1-%2").arg(QLatin1String(kGatewayName)).arg(index + 1);
}

QString nameOf(const QJsonValue &object) {
    return object[QLatin1String("metadata")][QLatin1String("name")].toString();
}

void appendSorted(QJsonArray &out, QList<QJsonObject> objects) {
    std::stable_sort(objects.begin(), objects.end(),
                     [](const QJsonObject &a, const QJsonObject &b) { return nameOf(a) < nameOf(b); });
    for (const QJsonObject &o : objects)
        out.append(o);
}

// A refusal says only why: what would have been left out or noted does not matter then.
Result refused(Result r) {
    r.objects = {};
    r.warnings.clear();
    r.notes.clear();
    return r;
}

} // namespace

QStringList checkOptions(const Options &options) {
    QStringList errors;
    if (!options.ns.isEmpty() && !isDnsLabel(options.ns))
        errors << QStringLiteral("--namespace %1: not a namespace name (1-63 of a-z, 0-9 and -, starting and "
                                 "ending with a letter or digit)")
                      .arg(options.ns);
    if (!isDnsSubdomain(options.gatewayClass))
        errors << QStringLiteral("--gateway-class %1: not a GatewayClass name (lower-case DNS name, e.g. "
                                 "\"eg\" or \"istio\")")
                      .arg(options.gatewayClass);
    for (auto it = options.images.cbegin(); it != options.images.cend(); ++it) {
        QString why;
        if (!isImageReference(it.value(), &why))
            errors << QStringLiteral("--image %1=%2: %3").arg(it.key(), it.value(), why);
    }
    return errors;
}

Result exportProjects(const QList<Manifest> &projects, const Options &options) {
    Result r;
    r.errors = checkOptions(options);

    QList<Manifest> sorted = projects;
    std::sort(sorted.begin(), sorted.end(),
              [](const Manifest &a, const Manifest &b) { return a.name < b.name; });
    QList<ProjectPlan> plans;
    for (qsizetype i = 0; i < sorted.size(); ++i) {
        if (i > 0 && sorted.at(i).name == sorted.at(i - 1).name) {
            r.errors << QStringLiteral("project '%1' is given twice").arg(sorted.at(i).name);
            continue;
        }
        plans.append(planProject(sorted.at(i), options, r));
    }
    checkPorts(plans, options, r);
    checkImages(plans, options, r);
    if (!r.ok())
        return refused(r);

    // Listeners: the ingress and every entry of every project, by port then protocol.
    QList<Listener> listeners{{Protocol::Http, options.ingressPort, {}}};
    for (const ProjectPlan &p : plans) {
        for (const Entry &e : p.entries) {
            if (!e.ingress)
                listeners.append({e.protocol, e.hostPort, {}});
        }
    }
    std::sort(listeners.begin(), listeners.end(), [](const Listener &a, const Listener &b) {
        return std::pair(a.port, protocolOrder(a.protocol)) < std::pair(b.port, protocolOrder(b.protocol));
    });
    QMap<QString, QString> gatewayOf; // listener name -> Gateway
    QList<QJsonObject> gateways;
    for (qsizetype start = 0, index = 0; start < listeners.size();
         start += kMaxListenersPerGateway, ++index) {
        const QList<Listener> chunk = listeners.mid(start, kMaxListenersPerGateway);
        for (const Listener &l : chunk)
            gatewayOf.insert(listenerName(l.protocol, l.port), gatewayName(int(index)));
        gateways.append(gatewayObject(gatewayName(int(index)), chunk, options));
    }
    if (gateways.size() > 1)
        r.notes << QStringLiteral("%1 listeners need %2 Gateways (at most %3 listeners each)")
                       .arg(listeners.size())
                       .arg(gateways.size())
                       .arg(kMaxListenersPerGateway);

    QList<QJsonObject> services, slices, deployments, routes[3];
    for (const ProjectPlan &p : plans) {
        services.append(serviceObject(p, options));
        if (p.upstream && p.upstream->type != UpstreamAddress::Type::DnsName)
            slices.append(endpointSliceObject(p, options));
        if (!p.image.isEmpty())
            deployments.append(deploymentObject(p, options));
        for (const Entry &e : p.entries) {
            routes[protocolOrder(e.protocol)].append(
                routeObject(p, e, gatewayOf.value(listenerName(e.protocol, e.hostPort)), options));
            if (e.proxyProtocol != ProxyProtocol::None)
                r.notes << QStringLiteral(
                               "project '%1' sends the PROXY protocol (%2) to its backend on %3/tcp; "
                               "the Gateway API has no field for it: configure it in your Gateway "
                               "implementation (annotation portico.dev/proxy-protocol)")
                               .arg(p.manifest.name, proxyProtocolName(e.proxyProtocol))
                               .arg(e.hostPort);
        }
    }
    QJsonArray out;
    appendSorted(out, gateways);
    appendSorted(out, services);
    appendSorted(out, slices);
    appendSorted(out, deployments);
    for (const auto &kind : routes)
        appendSorted(out, kind);

    // Names are derived so that they cannot meet; if two ever did, kubectl would silently
    // apply one over the other.
    QSet<QString> seen;
    for (const QJsonValue &o : std::as_const(out)) {
        const QString key = o[QLatin1String("kind")].toString() + QLatin1Char('/') + nameOf(o);
        if (seen.contains(key))
            r.errors << QStringLiteral("two objects would be named %1; rename one of the projects").arg(key);
        seen.insert(key);
    }
    if (!r.ok())
        return refused(r);
    r.objects = out;
    return r;
}

QJsonObject asList(const QJsonArray &objects) {
    return {{QStringLiteral("apiVersion"), QStringLiteral("v1")},
            {QStringLiteral("kind"), QStringLiteral("List")},
            {QStringLiteral("items"), objects}};
}

} // namespace portico::ctl::k8s

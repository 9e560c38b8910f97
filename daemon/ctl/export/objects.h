#pragma once

// Internal to the exporter: a project planned for Kubernetes, and the builders of its
// objects (objects.cpp). kubernetes.cpp decides; this file only shapes JSON.
#include "kubernetes.h"
#include "names.h"

#include <QJsonObject>

#include <optional>

namespace portico::ctl::k8s {

// One way in to a project: the ingress path, or one `listen` entry.
struct Entry {
    Protocol protocol = Protocol::Http;
    quint16 hostPort = 0;    // the Gateway listener's port
    quint16 backendPort = 0; // the Service port it goes to
    ProxyProtocol proxyProtocol = ProxyProtocol::None;
    bool ingress = false; // path-routed on the ingress
};

// One port the backend serves: a Service port (and a container port, or an EndpointSlice port).
struct BackendPort {
    quint16 port = 0;
    Transport transport = Transport::Tcp;
    QString name; // "http-8080", "tcp-5000", "udp-5353": an IANA service name (<= 15 chars)
};

struct ProjectPlan {
    Manifest manifest;
    QString name; // the objects' name (objectName(manifest.name))
    QList<Entry> entries;
    QList<BackendPort> ports;
    std::optional<UpstreamAddress> upstream; // upstream runtime only
    QString image;                           // empty: no Deployment
};

// "http-8080": how a listener (and the routes' sectionName) is named.
QString listenerName(Protocol protocol, quint16 port);
QString protocolUpper(Protocol protocol);

struct Listener {
    Protocol protocol = Protocol::Http;
    quint16 port = 0;
    QString gateway; // which Gateway holds it
};

QJsonObject gatewayObject(const QString &name, const QList<Listener> &listeners, const Options &options);
QJsonObject serviceObject(const ProjectPlan &p, const Options &options);
QJsonObject endpointSliceObject(const ProjectPlan &p, const Options &options);
QJsonObject deploymentObject(const ProjectPlan &p, const Options &options);
// The route for one entry; `gateway` holds the entry's listener.
QJsonObject routeObject(const ProjectPlan &p, const Entry &e, const QString &gateway, const Options &options);

} // namespace portico::ctl::k8s

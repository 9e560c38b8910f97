#include "objects.h"

#include <QJsonDocument>

namespace portico::ctl::k8s {

namespace {

const QString kGatewayApi = QStringLiteral("gateway.networking.k8s.io/v1");
const QString kGatewayApiAlpha = QStringLiteral("gateway.networking.k8s.io/v1alpha2");
const QString kProjectLabel = QStringLiteral("portico.dev/project");

QJsonObject metadata(const QString &name, const Options &options, const QJsonObject &labels,
                     const QJsonObject &annotations = {}) {
    QJsonObject m{{QStringLiteral("name"), name}};
    if (!options.ns.isEmpty())
        m.insert(QStringLiteral("namespace"), options.ns);
    if (!labels.isEmpty())
        m.insert(QStringLiteral("labels"), labels);
    if (!annotations.isEmpty())
        m.insert(QStringLiteral("annotations"), annotations);
    return m;
}

// Every object carries part-of=portico, so `kubectl get ... -l app.kubernetes.io/part-of=portico`
// lists what an export made.
QJsonObject projectLabels(const ProjectPlan &p) {
    return {{QStringLiteral("app.kubernetes.io/name"), p.name},
            {QStringLiteral("app.kubernetes.io/part-of"), QStringLiteral("portico")},
            {kProjectLabel, p.name}};
}

QJsonObject selector(const ProjectPlan &p) {
    return {{kProjectLabel, p.name}};
}

// What Portico knows and Kubernetes does not model.
QJsonObject projectAnnotations(const ProjectPlan &p) {
    return {{QStringLiteral("portico.dev/project"), p.manifest.name},
            {QStringLiteral("portico.dev/runtime"), runtimeName(p.manifest.runtime)}};
}

QString transportUpper(Transport t) {
    return t == Transport::Udp ? QStringLiteral("UDP") : QStringLiteral("TCP");
}

QString routeKind(Protocol p) {
    switch (p) {
    case Protocol::Http:
        return QStringLiteral("HTTPRoute");
    case Protocol::Tcp:
        return QStringLiteral("TCPRoute");
    case Protocol::Udp:
        break;
    }
    return QStringLiteral("UDPRoute");
}

// kubelet expands $(VAR) in env values and reads "$$" as "$"; Portico passes values as they
// are, so every '$' is doubled to come through unchanged.
QString literalEnvValue(const QString &v) {
    QString out = v;
    return out.replace(QLatin1Char('$'), QStringLiteral("$$"));
}

QJsonObject envVar(const QString &name, const QString &value) {
    return {{QStringLiteral("name"), name}, {QStringLiteral("value"), literalEnvValue(value)}};
}

// The environment Portico gives the backend, with HOST for a pod (every interface).
QJsonArray containerEnv(const ProjectPlan &p) {
    const Manifest &m = p.manifest;
    QJsonArray env;
    env.append(envVar(QStringLiteral("HOST"), QStringLiteral("0.0.0.0")));
    const quint16 first = p.entries.isEmpty() ? kPodHttpPort : p.entries.first().backendPort;
    env.append(envVar(QStringLiteral("PORT"), QString::number(first)));
    if (!m.isPathRouted()) {
        // PORT_<host port> for each listen entry (a tcp and a udp entry on one number share it).
        QList<quint16> numbers;
        for (const Entry &e : p.entries) {
            if (!numbers.contains(e.hostPort))
                numbers.append(e.hostPort);
        }
        std::sort(numbers.begin(), numbers.end());
        for (quint16 n : numbers)
            env.append(envVar(QStringLiteral("PORT_%1").arg(n), QString::number(n)));
    }
    for (auto it = m.env.cbegin(); it != m.env.cend(); ++it)
        env.append(envVar(it.key(), it.value()));
    if (m.runtime == RuntimeKind::Deno) {
        // What Portico's Deno bootstrap reads (resources/deno/bootstrap.ts).
        QJsonObject json;
        for (auto it = m.env.cbegin(); it != m.env.cend(); ++it)
            json.insert(it.key(), it.value());
        env.append(envVar(QStringLiteral("DENO_NO_UPDATE_CHECK"), QStringLiteral("1")));
        env.append(envVar(QStringLiteral("NO_COLOR"), QStringLiteral("1")));
        env.append(envVar(QStringLiteral("PORTICO_ENV"),
                          QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact))));
        env.append(envVar(QStringLiteral("PORTICO_PROJECT"), m.name));
    }
    return env;
}

QJsonObject backendRef(const ProjectPlan &p, quint16 port) {
    return {{QStringLiteral("name"), p.name}, {QStringLiteral("port"), int(port)}};
}

// Path routing as Portico does it: "/name" answers a redirect to "/name/", "/name/x" reaches
// the backend as "/x" with X-Forwarded-Prefix: /name.
QJsonArray ingressRules(const ProjectPlan &p, quint16 backendPort) {
    const QString prefix = QLatin1Char('/') + p.manifest.name;
    const QJsonObject redirect{
        {QStringLiteral("matches"),
         QJsonArray{QJsonObject{
             {QStringLiteral("path"), QJsonObject{{QStringLiteral("type"), QStringLiteral("Exact")},
                                                  {QStringLiteral("value"), prefix}}}}}},
        {QStringLiteral("filters"),
         QJsonArray{QJsonObject{
             {QStringLiteral("type"), QStringLiteral("RequestRedirect")},
             {QStringLiteral("requestRedirect"),
              QJsonObject{{QStringLiteral("path"),
                           QJsonObject{{QStringLiteral("type"), QStringLiteral("ReplaceFullPath")},
                                       {QStringLiteral("replaceFullPath"), prefix + QLatin1Char('/')}}},
                          {QStringLiteral("statusCode"), 301}}}}}}};
    const QJsonObject forward{
        {QStringLiteral("matches"),
         QJsonArray{QJsonObject{
             {QStringLiteral("path"), QJsonObject{{QStringLiteral("type"), QStringLiteral("PathPrefix")},
                                                  {QStringLiteral("value"), prefix}}}}}},
        {QStringLiteral("filters"),
         QJsonArray{
             QJsonObject{
                 {QStringLiteral("type"), QStringLiteral("URLRewrite")},
                 {QStringLiteral("urlRewrite"),
                  QJsonObject{{QStringLiteral("path"),
                               QJsonObject{{QStringLiteral("type"), QStringLiteral("ReplacePrefixMatch")},
                                           {QStringLiteral("replacePrefixMatch"), QStringLiteral("/")}}}}}},
             QJsonObject{{QStringLiteral("type"), QStringLiteral("RequestHeaderModifier")},
                         {QStringLiteral("requestHeaderModifier"),
                          QJsonObject{{QStringLiteral("set"),
                                       QJsonArray{QJsonObject{
                                           {QStringLiteral("name"), QStringLiteral("X-Forwarded-Prefix")},
                                           {QStringLiteral("value"), prefix}}}}}}}}},
        {QStringLiteral("backendRefs"), QJsonArray{backendRef(p, backendPort)}}};
    return {redirect, forward};
}

} // namespace

QString listenerName(Protocol protocol, quint16 port) {
    return protocolName(protocol) + QLatin1Char('-') + QString::number(port);
}

QString protocolUpper(Protocol protocol) {
    return protocolName(protocol).toUpper();
}

QJsonObject gatewayObject(const QString &name, const QList<Listener> &listeners, const Options &options) {
    QJsonArray out;
    for (const Listener &l : listeners)
        out.append(QJsonObject{{QStringLiteral("name"), listenerName(l.protocol, l.port)},
                               {QStringLiteral("port"), int(l.port)},
                               {QStringLiteral("protocol"), protocolUpper(l.protocol)}});
    return {
        {QStringLiteral("apiVersion"), kGatewayApi},
        {QStringLiteral("kind"), QStringLiteral("Gateway")},
        {QStringLiteral("metadata"),
         metadata(name, options, {{QStringLiteral("app.kubernetes.io/part-of"), QStringLiteral("portico")}})},
        {QStringLiteral("spec"), QJsonObject{{QStringLiteral("gatewayClassName"), options.gatewayClass},
                                             {QStringLiteral("listeners"), out}}}};
}

QJsonObject serviceObject(const ProjectPlan &p, const Options &options) {
    QJsonArray ports;
    for (const BackendPort &b : p.ports)
        ports.append(QJsonObject{{QStringLiteral("name"), b.name},
                                 {QStringLiteral("port"), int(b.port)},
                                 {QStringLiteral("protocol"), transportUpper(b.transport)},
                                 {QStringLiteral("targetPort"), int(b.port)}});
    QJsonObject spec{{QStringLiteral("ports"), ports}};
    QJsonObject annotations = projectAnnotations(p);
    if (!p.upstream) {
        spec.insert(QStringLiteral("selector"), selector(p));
    } else {
        // An address's endpoint is its EndpointSlice; a DNS name is what ExternalName is for
        // (an FQDN EndpointSlice is deprecated and nothing routes by it).
        annotations.insert(QStringLiteral("portico.dev/upstream"), p.manifest.upstream);
        if (p.upstream->type == UpstreamAddress::Type::DnsName) {
            spec.insert(QStringLiteral("type"), QStringLiteral("ExternalName"));
            spec.insert(QStringLiteral("externalName"), p.upstream->address);
        }
    }
    return {{QStringLiteral("apiVersion"), QStringLiteral("v1")},
            {QStringLiteral("kind"), QStringLiteral("Service")},
            {QStringLiteral("metadata"), metadata(p.name, options, projectLabels(p), annotations)},
            {QStringLiteral("spec"), spec}};
}

QJsonObject endpointSliceObject(const ProjectPlan &p, const Options &options) {
    QJsonObject labels = projectLabels(p);
    // These two make it the Service's endpoints and keep the EndpointSlice controller off it.
    labels.insert(QStringLiteral("kubernetes.io/service-name"), p.name);
    labels.insert(QStringLiteral("endpointslice.kubernetes.io/managed-by"), QStringLiteral("porticoctl"));
    QJsonArray ports;
    for (const BackendPort &b : p.ports)
        ports.append(QJsonObject{{QStringLiteral("name"), b.name},
                                 {QStringLiteral("port"), int(b.port)},
                                 {QStringLiteral("protocol"), transportUpper(b.transport)}});
    return {{QStringLiteral("apiVersion"), QStringLiteral("discovery.k8s.io/v1")},
            {QStringLiteral("kind"), QStringLiteral("EndpointSlice")},
            {QStringLiteral("metadata"), metadata(p.name, options, labels, projectAnnotations(p))},
            {QStringLiteral("addressType"), p.upstream->addressType()},
            {QStringLiteral("endpoints"),
             QJsonArray{
                 QJsonObject{{QStringLiteral("addresses"), QJsonArray{p.upstream->address}},
                             {QStringLiteral("conditions"), QJsonObject{{QStringLiteral("ready"), true}}}}}},
            {QStringLiteral("ports"), ports}};
}

QJsonObject deploymentObject(const ProjectPlan &p, const Options &options) {
    const Manifest &m = p.manifest;
    QJsonObject annotations = projectAnnotations(p);
    if (!m.command.isEmpty())
        annotations.insert(
            QStringLiteral("portico.dev/command"),
            QString::fromUtf8(
                QJsonDocument(QJsonArray::fromStringList(m.command)).toJson(QJsonDocument::Compact)));
    if (!m.effectiveEntry().isEmpty())
        annotations.insert(QStringLiteral("portico.dev/entry"), m.effectiveEntry());
    if (!m.workdir.isEmpty())
        annotations.insert(QStringLiteral("portico.dev/workdir"), m.workdir);

    QJsonArray ports;
    std::optional<quint16> firstTcp;
    for (const BackendPort &b : p.ports) {
        ports.append(QJsonObject{{QStringLiteral("containerPort"), int(b.port)},
                                 {QStringLiteral("name"), b.name},
                                 {QStringLiteral("protocol"), transportUpper(b.transport)}});
        if (b.transport == Transport::Tcp && !firstTcp)
            firstTcp = b.port;
    }
    QJsonObject container{{QStringLiteral("name"), p.name},
                          {QStringLiteral("image"), p.image},
                          {QStringLiteral("env"), containerEnv(p)},
                          {QStringLiteral("ports"), ports}};
    // Portico calls a backend ready once its port accepts a connection; so does this probe.
    if (firstTcp)
        container.insert(QStringLiteral("readinessProbe"),
                         QJsonObject{{QStringLiteral("tcpSocket"),
                                      QJsonObject{{QStringLiteral("port"), int(*firstTcp)}}}});
    const QJsonObject podSpec{// A backend sees only the environment Portico gives it, not
                              // one variable per Service of the namespace.
                              {QStringLiteral("enableServiceLinks"), false},
                              {QStringLiteral("containers"), QJsonArray{container}}};
    return {
        {QStringLiteral("apiVersion"), QStringLiteral("apps/v1")},
        {QStringLiteral("kind"), QStringLiteral("Deployment")},
        {QStringLiteral("metadata"), metadata(p.name, options, projectLabels(p), annotations)},
        {QStringLiteral("spec"),
         QJsonObject{{QStringLiteral("replicas"), 1},
                     {QStringLiteral("selector"), QJsonObject{{QStringLiteral("matchLabels"), selector(p)}}},
                     {QStringLiteral("template"),
                      QJsonObject{{QStringLiteral("metadata"),
                                   QJsonObject{{QStringLiteral("labels"), projectLabels(p)}}},
                                  {QStringLiteral("spec"), podSpec}}}}}};
}

QJsonObject routeObject(const ProjectPlan &p, const Entry &e, const QString &gateway,
                        const Options &options) {
    const QString section = listenerName(e.protocol, e.hostPort);
    const QString name = e.ingress ? p.name : p.name + QLatin1Char('-') + section;
    QJsonObject annotations{{QStringLiteral("portico.dev/project"), p.manifest.name}};
    if (e.proxyProtocol != ProxyProtocol::None)
        annotations.insert(QStringLiteral("portico.dev/proxy-protocol"), proxyProtocolName(e.proxyProtocol));
    const QJsonArray rules = e.ingress ? ingressRules(p, e.backendPort)
                                       : QJsonArray{QJsonObject{{QStringLiteral("backendRefs"),
                                                                 QJsonArray{backendRef(p, e.backendPort)}}}};
    return {{QStringLiteral("apiVersion"), e.protocol == Protocol::Http ? kGatewayApi : kGatewayApiAlpha},
            {QStringLiteral("kind"), routeKind(e.protocol)},
            {QStringLiteral("metadata"), metadata(name, options, projectLabels(p), annotations)},
            {QStringLiteral("spec"),
             QJsonObject{{QStringLiteral("parentRefs"),
                          QJsonArray{QJsonObject{{QStringLiteral("name"), gateway},
                                                 {QStringLiteral("sectionName"), section}}}},
                         {QStringLiteral("rules"), rules}}}};
}

} // namespace portico::ctl::k8s

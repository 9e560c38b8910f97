#pragma once

#include <QString>

#include <optional>

// The naming rules of the Kubernetes API that `porticoctl export kubernetes` must meet
// before anything is printed: the published schemas do not carry them (the API server
// checks them), so a validator run over the output would not catch a bad name.
namespace portico::ctl::k8s {

// RFC 1123 label: namespaces, container names, listener and port-section names.
bool isDnsLabel(const QString &s);
// RFC 1123 subdomain: most object names, GatewayClass names, an ExternalName.
bool isDnsSubdomain(const QString &s);
// RFC 1035 label: Service names (must start with a letter).
bool isDns1035Label(const QString &s);

// The name a project's objects get. A Portico name may start with a digit or end with
// '-', which a Service name may not; such a name gets a "p-" prefix and a short hash of the
// original so that two projects can never end up with one name.
QString objectName(const QString &project);

// An OCI/Docker image reference (registry/path[:tag][@digest]); false with *why otherwise.
bool isImageReference(const QString &ref, QString *why);

// Where an upstream project's traffic goes, as an EndpointSlice sees it.
struct UpstreamAddress {
    enum class Type { IPv4, IPv6, DnsName };
    Type type = Type::IPv4;
    QString address; // canonical IP text, or a lower-case DNS name without the final dot
    quint16 port = 0;
    QString addressType() const; // an EndpointSlice's: "IPv4" or "IPv6" (a DNS name gets none)
};
// Parses a manifest's upstream. Refuses what a cluster cannot reach or the API refuses:
// a unix socket, a loopback, unspecified, link-local or multicast address.
std::optional<UpstreamAddress> upstreamAddress(const QString &upstream, QString *why);

} // namespace portico::ctl::k8s

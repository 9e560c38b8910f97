#pragma once

#include "manifest.h"

#include <QJsonArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

// `porticoctl export kubernetes`: deployed projects in, Kubernetes objects out (Gateway API
// for the routing, Service / Deployment / EndpointSlice for the backends). Pure functions:
// no daemon, no files, no output; docs/scaling.md explains the mapping.
namespace portico::ctl::k8s {

inline constexpr char kGatewayName[] = "portico";
inline constexpr char kDefaultGatewayClass[] = "portico";
// The port a path-routed project's container listens on ($PORT); a project with `listen`
// entries listens on the same numbers as its host ports.
inline constexpr quint16 kPodHttpPort = 8080;
inline constexpr quint16 kDefaultIngressPort = 8080;
// A Gateway holds at most 64 listeners (the Gateway API's limit); more go to "portico-2"...
inline constexpr int kMaxListenersPerGateway = 64;

struct Options {
    QString ns; // empty: kubectl's current namespace
    QString gatewayClass = QLatin1String(kDefaultGatewayClass);
    QMap<QString, QString> images; // project name -> image reference
    bool skipMissingImages = false;
    quint16 ingressPort = kDefaultIngressPort;
};

struct Result {
    QJsonArray objects;   // in output order; empty when errors is not
    QStringList errors;   // every refusal, one sentence each
    QStringList warnings; // what was left out (stderr, "warning: ")
    QStringList notes;    // what the user must know (stderr, "note: ")
    bool ok() const { return errors.isEmpty(); }
};

// Checks the options on their own (names Kubernetes accepts, image references).
QStringList checkOptions(const Options &options);

// Every project (any order; duplicates by name are an error) to its objects. Gateways
// first, then Services, EndpointSlices, Deployments, HTTPRoutes, TCPRoutes, UDPRoutes,
// each sorted by name, so the same input always gives the same bytes.
Result exportProjects(const QList<Manifest> &projects, const Options &options);

// A JSON `List` of the objects (what `-o json` prints).
QJsonObject asList(const QJsonArray &objects);

} // namespace portico::ctl::k8s

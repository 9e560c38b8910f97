#pragma once

#include "httphead.h"
#include "net/listenercontext.h"
#include "routing/routetable.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace portico::http {

// What to do with one request: answer it here, serve a static file, or proxy it. A pure
// function of the request, the routing snapshot and the listener (unit-tested without
// sockets): every local answer the ingress and dedicated ports give is decided here.
struct Decision {
    enum class Kind { Local, Static, Proxy };
    Kind kind = Kind::Local;

    // Local: a JSON answer.
    int status = 0;
    QByteArray body;
    QByteArray allow;    // Allow header (405)
    QByteArray location; // Location header (308)
    bool close = false;  // close after answering (the stream may be out of step)

    // Static and Proxy
    const ProjectRoute *route = nullptr;
    const BackendTarget *target = nullptr; // Proxy: the route's, or its dedicated port's own
    QByteArrayView prefix;                 // "/<project>" on the ingress, empty on a dedicated port
    QByteArrayView backendTarget;          // what the backend gets as request-target (path and query)

    QString project; // for counters and the access log ("" when unknown)
};

struct RouteInput {
    const ParsedHead &request;
    const RouteTable &table;
    const HttpListenerContext &listener;
    bool peerIsLoopback = false;
};

Decision route(const RouteInput &in);

// The JSON error body every local error uses: {"error": message, "status": status, ...}.
QByteArray errorBody(int status, const QString &message, const QJsonObject &extra = {});

} // namespace portico::http

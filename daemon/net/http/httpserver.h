#pragma once

#include "config/config.h"
#include "routing/routetable.h"

#include <QLoggingCategory>
#include <QObject>

#include <memory>

class QTcpSocket;

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace portico {

class AccessLog;

// What an HTTP listener is, shared (read-only) by all its connections in one worker.
struct HttpListenerContext {
    const Config *config = nullptr;
    RouteTableHolder *routes = nullptr;
    AccessLog *accessLog = nullptr;  // may be null
    QString project;                 // empty: ingress with /<project>/ prefix routing
    quint16 port = 0;                // the listener's own port (X-Forwarded-Host fallback)
    std::shared_ptr<RouteStats> stats; // this listener's row (dedicated port); ingress: table->ingressStats
};

// Starts serving one accepted connection: creates the HTTP session (parser, routing,
// backend connection, streaming, upgrade tunnel) as a child of parent, in the calling
// (worker) thread. The session deletes itself when the connection ends.
void startHttpSession(QTcpSocket *socket, std::shared_ptr<const HttpListenerContext> context, QObject *parent);

} // namespace portico

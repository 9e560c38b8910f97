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
    AccessLog *accessLog = nullptr;    // may be null
    QString project;                   // empty: ingress with /<project>/ prefix routing
    quint16 port = 0;                  // the listener's own port (X-Forwarded-Host fallback)
    std::shared_ptr<RouteStats> stats; // this listener's row (dedicated port); ingress: table->ingressStats
};

// Starts serving one accepted connection: creates the HTTP session (parser, routing,
// backend connection, streaming, upgrade tunnel) as a child of parent, in the calling
// (worker) thread. The session deletes itself when the connection ends.
void startHttpSession(QTcpSocket *socket, std::shared_ptr<const HttpListenerContext> context,
                      QObject *parent);

// Graceful drain of the sessions that are children of parent (call in parent's thread):
// idle keep-alive connections close now, busy ones after their current answer (which
// says Connection: close); tunnels run until they end. Returns how many sessions remain;
// each remaining one still deletes itself when its connection ends (the socket given to
// startHttpSession is destroyed with it, so QObject::destroyed on it can be counted).
int drainHttpSessions(QObject *parent);
// Sessions currently alive under parent.
int httpSessionCount(const QObject *parent);

} // namespace portico

#include "httpserver.h"

#include "httpsession.h"

#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttp, "portico.http", QtInfoMsg)

namespace portico {

void startHttpSession(QTcpSocket *socket, std::shared_ptr<const HttpListenerContext> context,
                      QObject *parent) {
    auto *session = new http::HttpSession(socket, std::move(context), parent);
    session->start();
}

int drainHttpSessions(QObject *parent) {
    int remaining = 0;
    const auto sessions = parent->findChildren<http::HttpSession *>(Qt::FindDirectChildrenOnly);
    for (http::HttpSession *session : sessions) {
        if (session->drain())
            ++remaining;
    }
    return remaining;
}

int httpSessionCount(const QObject *parent) {
    int alive = 0;
    for (const http::HttpSession *session :
         parent->findChildren<http::HttpSession *>(Qt::FindDirectChildrenOnly))
        alive += session->isAlive() ? 1 : 0;
    return alive;
}

} // namespace portico

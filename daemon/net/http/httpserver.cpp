#include "httpserver.h"

#include "httpsession.h"

#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttp, "portico.http")

namespace portico {

void startHttpSession(QTcpSocket *socket, std::shared_ptr<const HttpListenerContext> context, QObject *parent) {
    auto *session = new http::HttpSession(socket, std::move(context), parent);
    session->start();
}

} // namespace portico

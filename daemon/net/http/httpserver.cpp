// PLACEHOLDER (replaced by the HTTP ingress work, issue 3).
#include "httpserver.h"

#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttp, "portico.http")

namespace portico {

void startHttpSession(QTcpSocket *socket, std::shared_ptr<const HttpListenerContext>, QObject *) {
    socket->write("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    socket->disconnectFromHost();
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
}

} // namespace portico

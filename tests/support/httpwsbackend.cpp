#include "httpwsbackend.h"

#include <QWebSocket>
#include <QWebSocketServer>

namespace portico::test {

HttpWsBackend::HttpWsBackend() {
    m_worker.run([this] {
        auto *server =
            new QWebSocketServer(QStringLiteral("echo"), QWebSocketServer::NonSecureMode, m_worker.context());
        server->setMaxPendingConnections(1000);
        server->listen(QHostAddress::LocalHost, 0);
        m_port = server->serverPort();
        QObject::connect(server, &QWebSocketServer::newConnection, server, [this, server] {
            while (QWebSocket *ws = server->nextPendingConnection()) {
                m_connections.fetch_add(1);
                ws->setParent(server);
                QObject::connect(ws, &QWebSocket::textMessageReceived, ws, [ws](const QString &m) {
                    if (m.startsWith(QLatin1String("close:")))
                        ws->close(QWebSocketProtocol::CloseCode(m.mid(6).toInt()), QStringLiteral("bye"));
                    else if (m == QLatin1String("path"))
                        ws->sendTextMessage(ws->requestUrl().path());
                    else if (m == QLatin1String("prefix"))
                        ws->sendTextMessage(
                            QString::fromLatin1(ws->request().rawHeader("X-Forwarded-Prefix")));
                    else
                        ws->sendTextMessage(m);
                });
                QObject::connect(ws, &QWebSocket::binaryMessageReceived, ws,
                                 [ws](const QByteArray &m) { ws->sendBinaryMessage(m); });
                QObject::connect(ws, &QWebSocket::disconnected, ws, [this, ws] {
                    m_lastCloseCode.store(int(ws->closeCode()));
                    ws->deleteLater();
                });
            }
        });
    });
}

HttpWsBackend::~HttpWsBackend() {
    m_worker.stop();
}

} // namespace portico::test

#pragma once

// Helpers for the runtime tests; header-only because they use daemon types.
#include "routing/routetable.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QFileInfo>
#include <QStandardPaths>
#include <QString>
#include <QTcpSocket>

namespace portico::test {

// deno on PATH, else <source>/.tools/deno from installer/deps.sh; empty when neither.
inline QString findDeno() {
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("deno"));
    if (!onPath.isEmpty())
        return onPath;
    const QString tools = QStringLiteral(PORTICO_SOURCE_DIR "/.tools/deno/node_modules/.bin/deno");
    return QFileInfo(tools).isExecutable() ? tools : QString();
}

// A blocking HTTP/1.1 GET (tests may block); returns the body, or "ERROR ..." text.
inline QByteArray httpGet(const BackendTarget &target, const QByteArray &path) {
    QTcpSocket s;
    s.connectToHost(target.host, target.port);
    if (!s.waitForConnected(3000))
        return "ERROR connect: " + s.errorString().toUtf8();
    s.write("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    QByteArray response;
    QDeadlineTimer deadline(5000);
    while (!deadline.hasExpired() && s.state() == QAbstractSocket::ConnectedState) {
        s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        response += s.readAll();
    }
    response += s.readAll();
    const qsizetype head = response.indexOf("\r\n\r\n");
    return head < 0 ? "ERROR no response: " + response : response.mid(head + 4);
}

} // namespace portico::test

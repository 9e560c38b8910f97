#include "upstreamprobe.h"

#include <QLocalSocket>
#include <QTcpSocket>

namespace portico {

UpstreamProbe::UpstreamProbe(QObject *context, Done done) : QObject(context), m_done(std::move(done)) {
    m_timeout.setSingleShot(true);
}

void UpstreamProbe::finish(bool answered, const QString &why) {
    if (std::exchange(m_finished, true))
        return;
    m_timeout.stop();
    m_done(answered, why);
    deleteLater();
}

void UpstreamProbe::probe(const QString &upstream, int timeoutMs, QObject *context, Done done) {
    // Owned by the context: gone with it, callback and all.
    auto *probe = new UpstreamProbe(context, std::move(done));
    connect(&probe->m_timeout, &QTimer::timeout, probe,
            [probe, timeoutMs] { probe->finish(false, tr("no answer within %1 ms").arg(timeoutMs)); });
    probe->m_timeout.start(timeoutMs);

    if (upstream.startsWith(QLatin1String("unix:"))) {
        auto *socket = new QLocalSocket(probe);
        connect(socket, &QLocalSocket::connected, probe, [probe] { probe->finish(true, {}); });
        connect(socket, &QLocalSocket::errorOccurred, probe,
                [probe, socket] { probe->finish(false, socket->errorString()); });
        socket->connectToServer(upstream.mid(5));
        return;
    }
    QString host;
    QString port;
    if (upstream.startsWith(QLatin1Char('['))) {
        const int close = upstream.indexOf(QLatin1Char(']'));
        host = upstream.mid(1, close - 1);
        port = upstream.mid(close + 2);
    } else {
        const int colon = upstream.lastIndexOf(QLatin1Char(':'));
        host = upstream.left(colon);
        port = upstream.mid(colon + 1);
    }
    bool ok = false;
    const int p = port.toInt(&ok);
    if (host.isEmpty() || !ok || p < 1 || p > 65535) {
        probe->finish(false, tr("'%1' is not an address").arg(upstream));
        return;
    }
    auto *socket = new QTcpSocket(probe);
    connect(socket, &QTcpSocket::connected, probe, [probe] { probe->finish(true, {}); });
    connect(socket, &QTcpSocket::errorOccurred, probe,
            [probe, socket] { probe->finish(false, socket->errorString()); });
    socket->connectToHost(host, quint16(p));
}

} // namespace portico

#pragma once

#include <QObject>
#include <QTimer>

#include <functional>

class QAbstractSocket;
class QLocalSocket;
class QTcpSocket;

namespace portico {

// Whether something answers at an upstream address ("127.0.0.1:9000", "[::1]:9000",
// "unix:/run/app.sock"): one connect, asynchronous, bounded by a timeout. The deploy
// dialog warns (but does not refuse) when nothing does: the daemon deploys an upstream
// project anyway and its requests fail until the upstream is there.
class UpstreamProbe final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamProbe)
public:
    using Done = std::function<void(bool answered, const QString &why)>;
    // Starts the probe; done is called once, unless context is destroyed first.
    static void probe(const QString &upstream, int timeoutMs, QObject *context, Done done);

private:
    UpstreamProbe(QObject *context, Done done);
    void finish(bool answered, const QString &why);

    Done m_done;
    QTimer m_timeout;
    bool m_finished = false;
};

} // namespace portico

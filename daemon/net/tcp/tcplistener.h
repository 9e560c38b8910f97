#pragma once

#include "net/listener.h"

#include <atomic>
#include <memory>

namespace portico {

struct HttpListenerContext;
struct TcpRelayContext;

// The worker-side half of a TCP-namespace port (protocol http or tcp): one SO_REUSEPORT
// listening socket of that port, wrapped in a QTcpServer in this worker's thread. Each
// accepted connection becomes an HTTP session (startHttpSession) or a TcpRelay, owned by
// this listener; deleting the listener closes them all.
class TcpListener final : public Listener {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpListener)
public:
    // Exactly one of http / relay is set. liveConnections is shared by the listener's
    // workers so that maxConnections holds for the port as a whole.
    TcpListener(std::shared_ptr<const HttpListenerContext> http, std::shared_ptr<const TcpRelayContext> relay,
                std::shared_ptr<std::atomic<int>> liveConnections, int maxConnections, QObject *parent);
    ~TcpListener() override;

    // Serves an already bound and listening descriptor (takes ownership).
    bool start(int listeningFd, QString *error);

    void stopAccepting() override;
    int connectionCount() const override { return m_count; }

private:
    class Acceptor;
    void onIncoming(qintptr fd);
    void track(QObject *connection);

    std::shared_ptr<const HttpListenerContext> m_http;
    std::shared_ptr<const TcpRelayContext> m_relay;
    std::shared_ptr<std::atomic<int>> m_live;
    int m_max = 0;
    Acceptor *m_acceptor = nullptr;
    int m_count = 0;
    bool m_closing = false;
};

} // namespace portico

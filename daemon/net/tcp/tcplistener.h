#pragma once

#include "net/listener.h"
#include "net/listenercontext.h"
#include "net/loop/deadlines.h"
#include "net/loop/eventloop.h"

#include <memory>

namespace portico {

class Connection;

// The worker-side half of a TCP-namespace port (protocol http or tcp): one SO_REUSEPORT
// listening socket of that port, on the worker's EventLoop. Each accepted connection
// becomes an HTTP connection or a raw relay, owned by this listener; deleting the
// listener closes them all.
//
// Limits at the door, in this order: the process's descriptor budget (when it runs short
// the listener pauses instead of spinning on EMFILE, and resumes as connections end), the
// port's connection limit, the per-source limit (one address cannot fill the port).
class TcpListener final : public Listener, private IoHandler {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpListener)
public:
    // Exactly one of http / relay is set. shared is the port's, across its workers.
    TcpListener(std::shared_ptr<const HttpListenerContext> http, std::shared_ptr<const TcpRelayContext> relay,
                std::shared_ptr<PortShared> shared, QObject *parent);
    ~TcpListener() override;

    // Serves an already bound and listening descriptor (takes ownership).
    bool start(int listeningFd, QString *error);

    void stopAccepting() override;
    int connectionCount() const override { return m_count; }
    // HTTP connections in an exchange or waiting for one (tunnels and raw relays not counted).
    int httpConnectionCount() const;
    // Drains HTTP connections (idle ones close now); returns how many remain.
    int drainHttp();
    bool paused() const { return m_paused; }
    // Times the listener paused because descriptors ran out.
    quint64 pauses() const { return m_pauses; }

    void connectionFinished(Connection *c);

private:
    void onIo(quint32 events) override;
    void acceptSome();
    void pause();
    void resume();
    void refuse(int fd, const char *why);
    void addLimitError();

    std::shared_ptr<const HttpListenerContext> m_http;
    std::shared_ptr<const TcpRelayContext> m_relay;
    std::shared_ptr<PortShared> m_shared;
    EventLoop *m_loop = nullptr;
    int m_fd = -1;
    bool m_accepting = false;
    bool m_paused = false;
    bool m_closing = false;
    quint64 m_pauses = 0;
    qint64 m_lastPauseLog = 0;
    Connection *m_first = nullptr;
    int m_count = 0;
    Timeout<TcpListener, &TcpListener::resume> m_resume{this};
};

} // namespace portico

#pragma once

#include "net/conn/connection.h"
#include "net/conn/connector.h"
#include "net/conn/relay.h"
#include "net/conn/socket.h"
#include "net/listenercontext.h"
#include "net/loop/deadlines.h"

#include <memory>
#include <optional>

namespace portico {

// One connection of a raw TCP port: the visitor's socket and a connection to the
// project's backend (TCP or Unix), relayed both ways by a Relay (bounded buffers or
// splice, real half-close).
// - the backend is looked up in the routing snapshot current when the visitor arrives; no
//   backend, a refusal or tcpConnectTimeoutMs closes the visitor at once;
// - tcpIdleTimeoutMs without a byte either way closes both;
// - with a PROXY protocol version set, its header goes to the backend before any data.
class TcpRelayConnection final : public Connection, private ConnectWaiter {
public:
    explicit TcpRelayConnection(std::shared_ptr<const TcpRelayContext> context);
    ~TcpRelayConnection() override;

    void start(int fd) override;
    void drain() override {} // a raw relay runs until it ends
    void abort() override { finish("listener closed"); }

private:
    struct Side final : IoHandler {
        TcpRelayConnection *c = nullptr;
        bool backend = false;
        void onIo(quint32 events) override;
    };
    void onConnectDecided(bool connected) override;
    void onEvent();
    void connected();
    void pump();
    void onTimeout();
    // error: counted on the route as an error of that kind.
    void finish(const char *why, std::optional<ErrorKind> error = std::nullopt);

    std::shared_ptr<const TcpRelayContext> m_ctx;
    std::shared_ptr<RouteStats> m_stats;
    std::shared_ptr<std::atomic<int>> m_inflight; // the backend's count, while this relay uses it
    EventLoop *m_loop = nullptr;
    Socket m_visitor;
    Socket m_backend;
    Side m_visitorSide;
    Side m_backendSide;
    Connector m_connector;
    std::unique_ptr<Relay> m_relay;
    Timeout<TcpRelayConnection, &TcpRelayConnection::onTimeout> m_timer{this};
    bool m_opened = false;
    bool m_done = false;
};

} // namespace portico

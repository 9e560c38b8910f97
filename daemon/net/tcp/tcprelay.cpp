#include "tcprelay.h"

#include "net/listenermanager.h"
#include "net/proxyprotocol.h"

#include <QHostAddress>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace portico {

namespace {

bool endpoint(int fd, bool peer, QHostAddress *address, quint16 *port) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len)
                       : ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    if (r != 0)
        return false;
    address->setAddress(reinterpret_cast<const sockaddr *>(&ss));
    const PeerAddress p = PeerAddress::from(reinterpret_cast<const sockaddr *>(&ss));
    *port = p.port;
    return true;
}

} // namespace

void TcpRelayConnection::Side::onIo(quint32 events) {
    (backend ? c->m_backend : c->m_visitor).note(events);
    c->onEvent();
}

TcpRelayConnection::TcpRelayConnection(std::shared_ptr<const TcpRelayContext> context)
    : m_ctx(std::move(context)), m_stats(m_ctx->stats) {
    m_visitorSide.c = this;
    m_backendSide.c = this;
    m_backendSide.backend = true;
}

TcpRelayConnection::~TcpRelayConnection() = default;

void TcpRelayConnection::start(int fd) {
    m_loop = EventLoop::current();
    m_visitor.adopt(fd, m_loop->budget());
    m_opened = true;
    if (m_stats)
        m_stats->connectionOpened();
    if (!m_visitor.watch(m_loop, &m_visitorSide)) {
        finish("cannot watch the visitor's socket", ErrorKind::Backend);
        return;
    }
    const auto table = m_ctx->routes ? m_ctx->routes->current() : nullptr;
    const ProjectRoute *route = table ? table->project(m_ctx->project) : nullptr;
    const BackendTarget &target = route ? route->targetFor(m_ctx->port) : BackendTarget::none();
    if (target.kind != BackendTarget::Kind::Tcp && target.kind != BackendTarget::Kind::Unix) {
        finish("no backend", ErrorKind::Unavailable);
        return;
    }
    m_inflight = route->inflight;
    if (m_inflight)
        m_inflight->fetch_add(1, std::memory_order_relaxed);
    if (loopsBack(target, m_ctx->port)) {
        qCWarning(lcNet).noquote() << "tcp port" << m_ctx->port << "of" << m_ctx->project
                                   << "relays to itself; connection closed";
        finish("the backend is this port itself", ErrorKind::Loop);
        return;
    }
    m_loop->arm(m_timer, qMax(1, m_ctx->config->tcpConnectTimeoutMs));
    switch (m_connector.start(target, &m_backend, m_loop, &m_backendSide, this)) {
    case Connector::Status::Connected:
        connected();
        break;
    case Connector::Status::Failed:
        finish(m_connector.error(), ErrorKind::Backend);
        break;
    case Connector::Status::InProgress:
        break;
    }
}

void TcpRelayConnection::onConnectDecided(bool ok) {
    if (ok)
        connected();
    else
        finish(m_connector.error(), ErrorKind::Backend);
}

void TcpRelayConnection::onEvent() {
    if (m_done)
        return;
    if (m_connector.connecting()) {
        switch (m_connector.progress()) {
        case Connector::Status::Connected:
            connected();
            return;
        case Connector::Status::Failed:
            finish(m_connector.error(), ErrorKind::Backend);
            return;
        case Connector::Status::InProgress:
            return; // visitor bytes wait in the kernel until the backend is there
        }
    }
    if (m_relay)
        pump();
}

void TcpRelayConnection::connected() {
    const int one = 1;
    ::setsockopt(m_visitor.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_relay = std::make_unique<Relay>(m_loop, m_visitor, m_backend, m_ctx->config->relayBufferBytes);
    if (m_ctx->proxyProtocol != ProxyProtocol::None) {
        QHostAddress src, dst;
        quint16 srcPort = 0, dstPort = 0;
        endpoint(m_visitor.fd(), true, &src, &srcPort);
        endpoint(m_visitor.fd(), false, &dst, &dstPort);
        const QByteArray header = buildProxyHeader(m_ctx->proxyProtocol, src, srcPort, dst, dstPort);
        m_relay->up.queue.append(header.constData(), size_t(header.size()));
    }
    m_loop->arm(m_timer, qMax(1, m_ctx->config->tcpIdleTimeoutMs));
    // Whatever arrived meanwhile is in the kernel; edge-triggered events for it are gone.
    m_visitor.setReadable();
    pump();
}

void TcpRelayConnection::pump() {
    const Relay::Result r = m_relay->pump();
    if (m_stats) {
        if (m_relay->up.moved)
            m_stats->addIn(std::exchange(m_relay->up.moved, 0));
        if (m_relay->down.moved)
            m_stats->addOut(std::exchange(m_relay->down.moved, 0));
    }
    if (r == Relay::Result::Done) {
        finish("done");
        return;
    }
    if (r == Relay::Result::Failed) {
        finish(m_relay->failure());
        return;
    }
    if (m_relay->progressed())
        m_loop->arm(m_timer, qMax(1, m_ctx->config->tcpIdleTimeoutMs));
}

void TcpRelayConnection::onTimeout() {
    if (m_relay)
        finish("idle timeout");
    else
        finish("backend connect timeout", ErrorKind::Timeout);
}

void TcpRelayConnection::finish(const char *why, std::optional<ErrorKind> error) {
    if (m_done)
        return;
    m_done = true;
    qCDebug(lcNet) << "tcp relay for" << m_ctx->project << "ends:" << why;
    m_timer.cancel();
    m_connector.cancel();
    m_relay.reset();
    if (m_stats) {
        if (error)
            m_stats->addError(*error);
        if (m_opened)
            m_stats->connectionClosed();
    }
    if (m_inflight)
        m_inflight->fetch_sub(1, std::memory_order_relaxed);
    m_inflight.reset();
    m_backend.close();
    m_visitor.close();
    finished();
}

} // namespace portico

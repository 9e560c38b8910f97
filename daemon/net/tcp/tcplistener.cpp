#include "tcplistener.h"

#include "net/http/httpserver.h"
#include "net/listenermanager.h"
#include "tcprelay.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <unistd.h>

namespace portico {

// QTcpServer hands out QTcpSockets; the relay wants the bare descriptor.
class TcpListener::Acceptor final : public QTcpServer {
public:
    Acceptor(TcpListener *owner) : QTcpServer(owner), m_owner(owner) {}

protected:
    void incomingConnection(qintptr fd) override { m_owner->onIncoming(fd); }

private:
    TcpListener *m_owner;
};

TcpListener::TcpListener(std::shared_ptr<const HttpListenerContext> http,
                         std::shared_ptr<const TcpRelayContext> relay,
                         std::shared_ptr<std::atomic<int>> liveConnections, int maxConnections,
                         QObject *parent)
    : Listener(parent), m_http(std::move(http)), m_relay(std::move(relay)),
      m_live(std::move(liveConnections)), m_max(maxConnections) {
    m_acceptor = new Acceptor(this);
}

TcpListener::~TcpListener() {
    // Connections go first, newest first (an HTTP session may refer to its socket), while
    // this object is still whole; the count they leave in the shared counter goes too.
    m_closing = true;
    m_live->fetch_sub(m_count, std::memory_order_relaxed);
    QList<QPointer<QObject>> kids;
    const QObjectList children = this->children();
    for (auto it = children.crbegin(); it != children.crend(); ++it) {
        if (*it != m_acceptor)
            kids.append(*it);
    }
    for (const QPointer<QObject> &kid : kids)
        delete kid.data();
}

bool TcpListener::start(int listeningFd, QString *error) {
    if (!m_acceptor->setSocketDescriptor(listeningFd)) {
        if (error)
            *error = m_acceptor->errorString();
        return false;
    }
    return true;
}

void TcpListener::stopAccepting() {
    m_acceptor->close();
    // Idle keep-alive connections close now and busy ones after their current answer, so
    // a drain ends when the work does rather than at the timeout.
    if (m_http)
        drainHttpSessions(this);
}

void TcpListener::onIncoming(qintptr fd) {
    if (m_closing || m_live->load(std::memory_order_relaxed) >= m_max) {
        const auto &stats = m_http ? m_http->stats : m_relay->stats;
        if (stats)
            stats->addError();
        ::close(int(fd));
        qCDebug(lcNet) << "connection refused: listener at its limit of" << m_max;
        return;
    }
    if (m_http) {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(fd)) {
            ::close(int(fd));
            delete socket;
            return;
        }
        track(socket);
        startHttpSession(socket, m_http, this);
    } else {
        auto *relay = new TcpRelay(int(fd), m_relay, this);
        track(relay);
        relay->start();
    }
}

void TcpListener::track(QObject *connection) {
    ++m_count;
    m_live->fetch_add(1, std::memory_order_relaxed);
    connect(connection, &QObject::destroyed, this, [this] {
        if (m_closing)
            return;
        --m_count;
        m_live->fetch_sub(1, std::memory_order_relaxed);
        if (m_count == 0)
            Q_EMIT allClosed();
    });
}

} // namespace portico

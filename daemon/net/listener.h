#pragma once

#include <QObject>

namespace portico {

// One listener kind as its worker thread sees it (TcpListener: http and raw tcp ports;
// UdpRelay: udp ports). Created and destroyed in its worker by the ListenerManager;
// destroying it closes the listening socket and every connection it accepted.
class Listener : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Listener)
public:
    using QObject::QObject;
    ~Listener() override = default;

    // Stops taking new connections now; the open ones carry on (drain).
    virtual void stopAccepting() = 0;
    // Connections (TCP) or client sessions (UDP) alive right now.
    virtual int connectionCount() const = 0;

Q_SIGNALS:
    // The last connection is gone (emitted each time the count drops to zero).
    void allClosed();
};

} // namespace portico

#pragma once

#include "backend.h"

#include <QPointer>
#include <QTimer>

namespace portico {

// An address that already serves: nothing is started. Health is checked periodically by
// the protocol the project relays: a non-blocking connect (TCP, with asynchronous name
// lookup, or a unix socket), or for a project whose ports are all udp, an empty datagram on
// a connected UDP socket, where only an ICMP port unreachable (ECONNREFUSED) counts as
// proof that nothing listens: UDP services need not answer, so silence is healthy. The
// state flips between running and unhealthy with the reason; the target stays the same.
class UpstreamBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamBackend)
public:
    UpstreamBackend(const BackendTarget &target, bool udpOnly, const RuntimeContext &context,
                    QObject *parent = nullptr);
    ~UpstreamBackend() override;

    void start() override;
    void stop() override;
    void restart() override;
    BackendTarget target() const override { return m_target; }
    BackendState state() const override { return m_state; }
    QString stateReason() const override { return m_reason; }

private:
    void check();
    void checkUdp();
    void probeUdp(const QHostAddress &address);
    void finishCheck(bool ok, const QString &error);
    void setState(BackendState state, const QString &reason);

    BackendTarget m_target;
    bool m_udpOnly = false;
    RuntimeContext m_context;
    BackendState m_state = BackendState::Stopped;
    QString m_reason;
    QTimer m_interval;
    QTimer m_checkTimeout;
    QPointer<QObject> m_check; // the socket of the check in flight
    int m_lookupId = -1;       // a name lookup of a udp check in flight
};

} // namespace portico

#pragma once

#include "backend.h"

#include <QPointer>
#include <QTimer>

namespace portico {

// An address that already serves: nothing is started. Health is a periodic non-blocking
// connect (TCP, with asynchronous name lookup, or a unix socket); the state flips between
// running and unhealthy with the reason, the target stays the same.
class UpstreamBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamBackend)
public:
    UpstreamBackend(const BackendTarget &target, const RuntimeContext &context, QObject *parent = nullptr);
    ~UpstreamBackend() override;

    void start() override;
    void stop() override;
    void restart() override;
    BackendTarget target() const override { return m_target; }
    BackendState state() const override { return m_state; }
    QString stateReason() const override { return m_reason; }

private:
    void check();
    void finishCheck(bool ok, const QString &error);
    void setState(BackendState state, const QString &reason);

    BackendTarget m_target;
    RuntimeContext m_context;
    BackendState m_state = BackendState::Stopped;
    QString m_reason;
    QTimer m_interval;
    QTimer m_checkTimeout;
    QPointer<QObject> m_check; // the socket of the check in flight
};

} // namespace portico

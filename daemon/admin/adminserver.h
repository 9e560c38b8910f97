#pragma once

#include "adminapi.h"
#include "config/config.h"

#include <QLoggingCategory>
#include <QObject>

#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcAdmin)

namespace portico {

class AuditLog;

// The admin socket: a UNIX stream socket (AdminListener) speaking JSON-RPC 2.0, one
// object per line. Only the owner (same uid), root, or the configured group may connect
// (SO_PEERCRED, checked before a byte is read). At admin_max_clients one more connection
// is kept for root and the owner, so an operator always gets in. Lives in the control
// thread.
class AdminServer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminServer)
public:
    AdminServer(const Config &config, AdminApi *api, QObject *parent = nullptr);
    ~AdminServer() override;

    // Creates the directory (0700) and the socket (0600, or 0660 with the admin group).
    // A stale socket file is replaced; a live daemon on the path is an error.
    bool listen(QString *error);
    QString socketPath() const;
    int clientCount() const;
    // Clients that asked for events.
    int subscriberCount() const;
    void close();
    // Every deploy, undeploy, restart, reload and refusal (also in <stateDir>/audit.log).
    const AuditLog &auditLog() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace portico

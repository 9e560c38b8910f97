#pragma once

#include "adminapi.h"
#include "jsonrpc.h"

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

#include <functional>
#include <memory>

namespace portico {

class AuditLog;

// The admin protocol without a socket: one request line (or message) in, one response
// out through a callback, synchronously for queries and later for slow operations.
// Methods come from an explicit table; params are taken by name with type checks.
class Dispatcher {
    Q_DISABLE_COPY_MOVE(Dispatcher)
public:
    // The caller's side of one request.
    struct Context {
        PeerInfo peer;
        // events.subscribe: the connection records the filter (empty = every kind).
        // Unset: events.subscribe answers InternalError (no event stream here).
        std::function<void(const QStringList &kinds)> subscribe;
        // Called once when the call is over, answered or not (notifications too).
        std::function<void()> finished;
    };
    // Called exactly once per request with an id; never for a notification.
    using Reply = std::function<void(const jsonrpc::Message &response)>;

    Dispatcher(AdminApi *api, std::shared_ptr<AuditLog> audit);
    ~Dispatcher();

    // A raw line: parse errors are answered here too (context.finished is not called
    // for a line that is not a message).
    void handleLine(const QByteArray &line, const Context &context, const Reply &reply);
    void handle(const jsonrpc::Message &request, const Context &context, const Reply &reply);

    // Every method the table serves, for docs and tests.
    static QStringList methods();
    // Methods answered later by the daemon (validate, deploy, undeploy, restart, reload):
    // what a connection caps in number; everything else answers at once.
    static bool isSlow(const QString &method);
    // Every event kind a subscription may name.
    static QStringList eventKinds();

    static constexpr int kMaxLogLines = 10'000;
    static constexpr int kDefaultLogLines = 100;
    static constexpr int kDefaultAuditLimit = 100;

    struct Call;

private:
    AdminApi *m_api;
    std::shared_ptr<AuditLog> m_audit;
};

} // namespace portico

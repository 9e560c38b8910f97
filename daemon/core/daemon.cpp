#include "daemon.h"

#include "protocol.h"

Q_LOGGING_CATEGORY(lcDaemon, "portico.daemon")

namespace portico {

// Skeleton while the subsystems land; filled in by the core work.
struct Daemon::Impl {
    Config config;
};

Daemon::Daemon(const Config &config, QObject *parent) : AdminApi(parent), d(std::make_unique<Impl>()) {
    d->config = config;
}
Daemon::~Daemon() = default;

bool Daemon::start(QString *error) {
    *error = QStringLiteral("not yet implemented");
    return false;
}
void Daemon::shutdown(const std::function<void()> &done) { done(); }
const Config &Daemon::config() const { return d->config; }
quint16 Daemon::ingressPort() const { return d->config.ingressPort; }
QString Daemon::adminSocketPath() const { return d->config.adminSocket; }
QJsonObject Daemon::info() const { return {}; }
QList<RouteInfo> Daemon::routes() const { return {}; }
QJsonArray Daemon::projects() const { return {}; }
std::optional<QJsonObject> Daemon::project(const QString &) const { return std::nullopt; }
void Daemon::validate(const QJsonValue &, const QString &, const ApiReply &reply) {
    reply(ApiResult::failure(protocol::error::InternalError, QStringLiteral("not yet implemented")));
}
void Daemon::deploy(const QJsonValue &, const QString &, const PeerInfo &, const ApiReply &reply) {
    reply(ApiResult::failure(protocol::error::InternalError, QStringLiteral("not yet implemented")));
}
void Daemon::undeploy(const QString &, const PeerInfo &, const ApiReply &reply) {
    reply(ApiResult::failure(protocol::error::InternalError, QStringLiteral("not yet implemented")));
}
void Daemon::restart(const QString &, const PeerInfo &, const ApiReply &reply) {
    reply(ApiResult::failure(protocol::error::InternalError, QStringLiteral("not yet implemented")));
}
ApiResult Daemon::logs(const QString &, int) const { return {}; }
QJsonObject Daemon::stats() const { return {}; }
void Daemon::reload(const PeerInfo &, const ApiReply &reply) { reply(ApiResult::success(true)); }

} // namespace portico

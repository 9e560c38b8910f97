#include "adminserver.h"

Q_LOGGING_CATEGORY(lcAdmin, "portico.admin")

namespace portico {

// Placeholder until the admin protocol lands (issue 5).
struct AdminServer::Impl {
    QString path;
};

AdminServer::AdminServer(const Config &config, AdminApi *, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>()) {
    d->path = config.adminSocket;
}
AdminServer::~AdminServer() = default;
bool AdminServer::listen(QString *error) {
    *error = QStringLiteral("the admin socket is not built yet");
    return false;
}
QString AdminServer::socketPath() const {
    return d->path;
}
int AdminServer::clientCount() const {
    return 0;
}
void AdminServer::close() {}

} // namespace portico

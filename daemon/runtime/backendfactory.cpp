// PLACEHOLDER (replaced by the runtimes work, issue 6).
#include "backend.h"
#include "staticfiles.h"

namespace portico {

std::unique_ptr<Backend> createBackend(const Manifest &manifest, const QString &, const RuntimeContext &, QString *error) {
    *error = QStringLiteral("the %1 runtime is not built yet").arg(runtimeName(manifest.runtime));
    return nullptr;
}

StaticReply resolveStatic(const QString &, const StaticRequest &) {
    StaticReply r;
    r.status = 501;
    r.body = "{\"error\":\"static files are not built yet\"}";
    return r;
}

} // namespace portico

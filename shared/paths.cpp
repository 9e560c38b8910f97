#include "paths.h"

#include <QDir>

#include <unistd.h>

namespace portico {

QString defaultAdminSocketPath() {
    const QString runtimeDir = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtimeDir.isEmpty())
        return runtimeDir + QStringLiteral("/portico/admin.sock");
    if (::geteuid() == 0)
        return QStringLiteral("/run/portico/admin.sock");
    const QString user = qEnvironmentVariable("USER", QString::number(::geteuid()));
    return QDir::tempPath() + QStringLiteral("/portico-%1/portico/admin.sock").arg(user);
}

} // namespace portico

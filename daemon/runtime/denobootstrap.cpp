#include "denobootstrap.h"

#include <QFile>
#include <QTemporaryDir>

#include <memory>

namespace portico {

QString denoBootstrapPath(QString *error) {
    // One private (0700) directory per daemon process, removed when the daemon exits.
    static std::unique_ptr<QTemporaryDir> dir;
    static QString path;
    if (!path.isEmpty() && QFile::exists(path))
        return path;
    QFile resource(QStringLiteral(":/portico/deno/bootstrap.ts"));
    if (!resource.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("the deno bootstrap is missing from the daemon's resources");
        return {};
    }
    const QByteArray content = resource.readAll(); // a few KiB from memory
    if (!dir || !dir->isValid())
        dir = std::make_unique<QTemporaryDir>();
    if (!dir->isValid()) {
        *error =
            QStringLiteral("cannot create a directory for the deno bootstrap: %1").arg(dir->errorString());
        return {};
    }
    QFile out(dir->filePath(QStringLiteral("bootstrap.ts")));
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(content) != content.size()) {
        *error = QStringLiteral("cannot write the deno bootstrap to %1: %2")
                     .arg(out.fileName(), out.errorString());
        return {};
    }
    path = out.fileName();
    return path;
}

} // namespace portico

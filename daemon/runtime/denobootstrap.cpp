#include "denobootstrap.h"

#include <QFile>
#include <QTemporaryDir>

#include <memory>

namespace portico {

QString denoBootstrapPath(QString *error) {
    // One directory per daemon process, removed when the daemon exits. Readable by all
    // (0755, the file 0644): a root daemon's backends run as another user and must read
    // it, and it holds nothing but the code embedded in porticod. Only root can write it.
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
    const auto readable =
        QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(content) != content.size() ||
        !out.flush() || !out.setPermissions(readable) ||
        !QFile::setPermissions(dir->path(), readable | QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther)) {
        *error = QStringLiteral("cannot write the deno bootstrap to %1: %2")
                     .arg(out.fileName(), out.errorString());
        return {};
    }
    path = out.fileName();
    return path;
}

} // namespace portico

#include "manifestfile.h"

#include <QDir>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QUrl>

namespace portico {

namespace {
const QString kRecentKey = QStringLiteral("deploy/recent");
}

QString manifestPathFor(const QString &path) {
    const QFileInfo fi(path);
    if (fi.isDir())
        return QDir(fi.absoluteFilePath()).filePath(QStringLiteral("portico.json"));
    return path;
}

QString manifestFromMimeData(const QMimeData *mime) {
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl &url : mime->urls()) {
        if (!url.isLocalFile())
            continue;
        const QFileInfo fi(url.toLocalFile());
        if (fi.isDir() && QFileInfo(manifestPathFor(fi.absoluteFilePath())).isFile())
            return manifestPathFor(fi.absoluteFilePath());
        if (fi.isFile() && fi.suffix().compare(QLatin1String("json"), Qt::CaseInsensitive) == 0)
            return fi.absoluteFilePath();
    }
    return {};
}

namespace recentManifests {

QStringList load() {
    QStringList out;
    for (const QString &p : QSettings().value(kRecentKey).toStringList())
        if (QFileInfo(p).isFile() && !out.contains(p))
            out << p;
    return out.mid(0, kMax);
}

void add(const QString &path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = QSettings().value(kRecentKey).toStringList();
    list.removeAll(absolute);
    list.prepend(absolute);
    QSettings().setValue(kRecentKey, list.mid(0, kMax));
}

} // namespace recentManifests

} // namespace portico

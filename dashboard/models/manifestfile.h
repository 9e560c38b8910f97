#pragma once

#include <QString>
#include <QStringList>

class QMimeData;

namespace portico {

// A folder means the portico.json in it; a file is itself.
QString manifestPathFor(const QString &path);
// The manifest a drag carries: its first local file that is a .json file, or folder that
// holds a portico.json. Empty when it carries none (the drop is then refused).
QString manifestFromMimeData(const QMimeData *mime);

// The manifests deployed or checked lately, newest first, remembered in QSettings
// ("deploy/recent"); files that are gone are left out.
namespace recentManifests {
inline constexpr int kMax = 10;
QStringList load();
void add(const QString &path);
} // namespace recentManifests

} // namespace portico

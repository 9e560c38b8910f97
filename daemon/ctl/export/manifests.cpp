#include "manifests.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMap>

namespace portico::ctl::k8s {

namespace {

// portico.json files under dir (hidden folders and symlinked folders skipped), sorted.
QStringList manifestsUnder(const QString &dir) {
    QStringList found;
    QDirIterator it(dir, {QStringLiteral("portico.json")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext() && found.size() <= kMaxManifests)
        found.append(it.next());
    std::sort(found.begin(), found.end());
    return found;
}

} // namespace

LoadedManifests loadManifests(const QStringList &paths) {
    LoadedManifests out;
    QStringList files;
    for (const QString &path : paths) {
        const QFileInfo fi(path);
        if (!fi.exists()) {
            out.errors << QStringLiteral("%1: no such file or folder").arg(path);
        } else if (fi.isDir()) {
            const QStringList found = manifestsUnder(path);
            if (found.isEmpty())
                out.errors << QStringLiteral("%1: no portico.json in this folder or below").arg(path);
            files += found;
        } else {
            files.append(path);
        }
    }
    if (files.size() > kMaxManifests) {
        out.errors << QStringLiteral("more than %1 manifests; export fewer at a time").arg(kMaxManifests);
        return out;
    }

    QMap<QString, QString> seenFiles; // canonical path -> as given
    QMap<QString, QString> fileOf;    // project -> file
    for (const QString &file : std::as_const(files)) {
        const QString canonical = QFileInfo(file).canonicalFilePath();
        if (seenFiles.contains(canonical))
            continue; // a folder and a file inside it: one manifest
        seenFiles.insert(canonical, file);
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly)) {
            out.errors << QStringLiteral("%1: cannot read: %2").arg(file, f.errorString());
            continue;
        }
        const QByteArray bytes = f.read(kMaxManifestBytes + 1);
        if (bytes.size() > kMaxManifestBytes) {
            out.errors
                << QStringLiteral("%1: over %2 bytes; not a manifest").arg(file).arg(kMaxManifestBytes);
            continue;
        }
        const ManifestParseResult parsed = Manifest::parse(bytes);
        if (!parsed.ok()) {
            for (const ValidationError &e : parsed.errors)
                out.errors << file + QStringLiteral(": ") + e.toString();
            continue;
        }
        const Manifest &m = *parsed.manifest;
        if (fileOf.contains(m.name)) {
            out.errors << QStringLiteral("project '%1' is in both %2 and %3")
                              .arg(m.name, fileOf.value(m.name), file);
            continue;
        }
        fileOf.insert(m.name, file);
        out.manifests.append(m);
    }
    return out;
}

} // namespace portico::ctl::k8s

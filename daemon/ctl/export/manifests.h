#pragma once

#include "manifest.h"

#include <QList>
#include <QStringList>

// Offline input of `porticoctl export kubernetes`: manifest files, or folders searched for
// portico.json files, parsed with the daemon's own rules (Manifest::parse).
namespace portico::ctl::k8s {

inline constexpr qint64 kMaxManifestBytes = 4 * 1024 * 1024;
inline constexpr int kMaxManifests = 1000;

struct LoadedManifests {
    QList<Manifest> manifests;
    QStringList errors; // "<file>: <path>: <message>", every one
    bool ok() const { return errors.isEmpty(); }
};

LoadedManifests loadManifests(const QStringList &paths);

} // namespace portico::ctl::k8s

#pragma once

#include <QString>
#include <QStringList>

namespace portico {

// The state directory holds secrets (manifests carry env values; logs carry whatever
// backends print), so it is the daemon user's alone: directories 0700, files 0600. The
// admin group, where one is configured, gets the admin socket and nothing of this tree.
namespace statetree {

// Creates stateDir and its projects/ and logs/ folders when missing, and tightens every
// directory and regular file already under it (a tree made by an older version, or by
// hand, with 0755/0644). Symbolic links are neither followed nor changed. Returns false
// with *error when the state directory itself cannot be made private; a file that cannot
// be tightened is reported in *warnings.
bool secure(const QString &stateDir, QStringList *warnings, QString *error);

// The daemon creates files and folders owner-only from here on (umask 077); the backends
// it starts get the conventional 022 back (see ProcessBackend).
void restrictNewFiles();

} // namespace statetree

} // namespace portico

#pragma once

#include <QStringList>

namespace portico::ctl {

// `porticoctl export kubernetes ...`, with its own command line: main.cpp hands over the
// arguments after "export". Exports the daemon's projects over the admin socket, or the
// manifests given, and prints YAML (or a JSON List) on stdout, only when nothing was refused.
// Exit codes as porticoctl's: 0 ok, 1 refused (usage, bad manifest, missing image, ...),
// 2 the daemon cannot be reached.
int exportMain(const QStringList &arguments);

} // namespace portico::ctl

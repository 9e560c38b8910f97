#pragma once

#include <QString>

namespace portico {

// The absolute path of the Deno bootstrap (resources/deno/bootstrap.ts, embedded with the
// Qt resource system) written out to a private temporary directory of this process on
// first use. Empty with *error when it cannot be written.
QString denoBootstrapPath(QString *error);

} // namespace portico

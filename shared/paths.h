#pragma once

#include <QString>

namespace portico {

// Where the daemon's admin socket is when nobody says otherwise; the daemon and every
// client use this one function so that they always meet:
// $XDG_RUNTIME_DIR/portico/admin.sock for a user session, /run/portico/admin.sock for
// root without one (the system service), else /tmp/portico-<user>/portico/admin.sock.
QString defaultAdminSocketPath();

} // namespace portico

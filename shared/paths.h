#pragma once

#include <QString>

namespace portico {

// Where Portico keeps its files when nobody says otherwise. The daemon and every client
// use these functions so that they always meet.
//
//   porticod run by root (the system service):  /etc/portico/porticod.json,
//                                               /var/lib/portico, /run/portico/admin.sock
//   porticod run by a user:                     $XDG_CONFIG_HOME/portico/porticod.json,
//                                               $XDG_STATE_HOME/portico,
//                                               $XDG_RUNTIME_DIR/portico/admin.sock
//                                               (/tmp/portico-<user>/portico/admin.sock
//                                               without a session)
namespace paths {

inline constexpr const char *kSystemConfigFile = "/etc/portico/porticod.json";
inline constexpr const char *kSystemStateDir = "/var/lib/portico";
inline constexpr const char *kSystemAdminSocket = "/run/portico/admin.sock";
// The group the package creates: its members may use the system daemon's admin socket.
inline constexpr const char *kAdminGroup = "portico";

// For the effective user of this process.
QString defaultConfigFile();
QString defaultStateDir();
QString defaultAdminSocket();

// The socket a client (porticoctl, the dashboard) talks to: $PORTICO_SOCKET, else the
// user's own daemon's socket when it exists, else the system daemon's when it exists
// (a user in group 'portico' manages the system service), else the user's own path
// (so that "no socket there" names the place a personal daemon would use).
QString clientSocket();
// The choice above, for given paths (testable without /run/portico).
QString chooseClientSocket(const QString &own, const QString &system);

// What to tell a user who may not connect to `socketPath`: the group that may (from the
// owner group of the socket or of its folder), and how to join it.
QString accessDeniedHint(const QString &socketPath);

} // namespace paths

// Kept for callers that predate paths::: the daemon's default admin socket.
QString defaultAdminSocketPath();

} // namespace portico

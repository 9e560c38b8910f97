#pragma once

#include "config/config.h"

#include <QString>

#include <sys/types.h>
#include <vector>

namespace portico {

// Who process and deno backends run as, what environment they get, and where they may
// write. A backend is a tenant, not a friend: when porticod runs as root, backends run as
// the unprivileged backend_user, so they cannot use the admin socket (peer uid check),
// read the state tree (0700), join the daemon's SO_REUSEPORT groups (those are per uid) or
// read the daemon's environment; each project gets a folder of its own under backend_dir
// (its HOME and DENO_DIR). As any other user, porticod runs backends as itself: what that
// cannot keep apart is in docs/security.md.
class BackendAccount {
public:
    // The credentials a backend is started with (looked up once; the child only calls
    // setgroups/setgid/setuid, no NSS after fork).
    struct Credentials {
        QString user;
        uid_t uid = 0;
        gid_t gid = 0;
        std::vector<gid_t> groups;
    };

    // Reads the configuration; looks backend_user up when running as root (NSS: call at
    // start-up, not per request).
    explicit BackendAccount(const Config &config);

    // True when backends change user (porticod is root and backend_user is not root).
    bool switchesUser() const { return m_switch; }
    // Credentials to switch to; null when backends run as the daemon's user, or when the
    // backend user does not exist (then *error says so, naming the user).
    const Credentials *credentials(QString *error) const;
    // What porticod does about backends, for its start-up log line and daemon.info.
    QString describe() const;
    QString userName() const;

    // The environment every backend starts from: PATH, LANG and HOME, nothing of the
    // daemon's own (which may hold secrets). Manifest env, PORT and HOST go on top.
    QString path() const;
    // A project's own folder (HOME, DENO_DIR), made when missing: owned by the backend
    // user, 0700, under backend_dir (itself root's, 0711, so backends can pass through but
    // not list it). Empty with *error when it cannot be made. Without a user switch there
    // is none: backends keep the daemon user's HOME.
    QString projectHome(const QString &project, QString *error) const;

private:
    void lookUp() const;

    QString m_userName;
    QString m_baseDir;
    bool m_switch = false;
    // Retried while missing, so that creating the user does not need a daemon restart.
    mutable bool m_found = false;
    mutable Credentials m_credentials;
};

} // namespace portico

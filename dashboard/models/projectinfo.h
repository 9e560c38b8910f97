#pragma once

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>

namespace portico {

// One project as projects.list / projects.get describe it. The process facts (pid, start,
// restarts, last exit, env names) came with protocol 2; a daemon that does not send one
// leaves it "not reported", which the views show as such rather than as zero.
struct ProjectInfo {
    QString name;
    QString runtime;
    QString state;
    QString reason;
    QString backend;
    QString sourceDir;
    QJsonObject manifest;
    QStringList routes; // "/site/ on :8080", "3000/http"
    qint64 pid = 0;     // 0: no process (or not reported)
    QDateTime startedAt;
    qint64 uptimeMs = -1;    // -1: not reported
    qint64 receivedAtMs = 0; // when uptimeMs was read
    int restarts = -1;       // -1: not reported
    bool reportsLastExit = false;
    QJsonObject lastExit; // empty: it has not exited yet
    bool reportsEnvNames = false;
    QStringList envNames;

    static ProjectInfo fromJson(const QJsonObject &o);
    // "/site/ on :8080" or "3000/http" for a RouteInfo object.
    static QString routeLabel(const QJsonObject &route);

    // The uptime at this moment, or -1 when the process is not running or it is unknown.
    qint64 uptimeNowMs() const;
    // "exit code 1 at 12:03:04", "killed by SIGKILL (9) at 12:03:04", "none yet", or empty
    // when the daemon does not report it.
    QString lastExitText() const;
    // The manifest as shown to a person: every env value replaced, names kept.
    QJsonObject redactedManifest() const;

    friend bool operator==(const ProjectInfo &, const ProjectInfo &) = default;
};

} // namespace portico

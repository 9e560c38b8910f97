#pragma once

#include "route.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QObject>

#include <functional>
#include <optional>

namespace portico {

// Who is asking (from SO_PEERCRED), for the audit log.
struct PeerInfo {
    qint64 uid = -1;
    qint64 pid = -1;
};

// The outcome of one admin call: a result, or an error with a stable code (see
// protocol.h), a sentence and details. (The audit log is kept by the admin server itself.)
struct ApiResult {
    QJsonValue result;
    int errorCode = 0; // 0: success
    QString errorMessage;
    QJsonObject errorData;
    bool ok() const { return errorCode == 0; }
    static ApiResult success(const QJsonValue &v) { return {v, 0, {}, {}}; }
    static ApiResult failure(int code, const QString &message, const QJsonObject &data = {}) {
        return {QJsonValue(), code, message, data};
    }
};
using ApiReply = std::function<void(const ApiResult &)>;

// What the admin dispatcher can ask of the daemon. Implemented by the daemon core;
// tests implement it with fakes. Slow operations (deploy, undeploy, restart, reload)
// answer through the callback, always on the control thread, maybe later.
class AdminApi : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    virtual QJsonObject info() const = 0;
    virtual QList<RouteInfo> routes() const = 0;
    virtual QJsonArray projects() const = 0;
    virtual std::optional<QJsonObject> project(const QString &name) const = 0;
    virtual void validate(const QJsonValue &manifest, const QString &sourceDir, const ApiReply &reply) = 0;
    virtual void deploy(const QJsonValue &manifest, const QString &sourceDir, const PeerInfo &peer,
                        const ApiReply &reply) = 0;
    virtual void undeploy(const QString &name, const PeerInfo &peer, const ApiReply &reply) = 0;
    virtual void restart(const QString &name, const PeerInfo &peer, const ApiReply &reply) = 0;
    virtual ApiResult logs(const QString &name, int lines) const = 0;
    virtual QJsonObject stats() const = 0;
    virtual void reload(const PeerInfo &peer, const ApiReply &reply) = 0;

Q_SIGNALS:
    // Every state change a screen would show (kinds in protocol.h event::).
    void event(const QString &kind, const QJsonObject &data);
};

} // namespace portico

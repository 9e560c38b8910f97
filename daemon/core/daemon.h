#pragma once

#include "admin/adminapi.h"
#include "config/config.h"

#include <QLoggingCategory>

#include <functional>
#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcDaemon)

namespace portico {

// The daemon: owns the config, the project store, the worker threads and their
// listeners, the backends and the admin socket, and carries out every deploy. Lives in
// the control thread. main.cpp only creates it.
class Daemon final : public AdminApi {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Daemon)
public:
    explicit Daemon(const Config &config, QObject *parent = nullptr);
    ~Daemon() override;

    // Binds the ingress and the admin socket, loads the persisted projects (a project
    // that cannot come up is reported and shown in its route's state; the daemon starts
    // anyway). False with *error only when the daemon itself cannot run.
    bool start(QString *error);
    // Graceful stop: stop accepting, stop backends, then done().
    void shutdown(const std::function<void()> &done);
    const Config &config() const;
    quint16 ingressPort() const;
    QString adminSocketPath() const;

    // AdminApi
    QJsonObject info() const override;
    QList<RouteInfo> routes() const override;
    QJsonArray projects() const override;
    std::optional<QJsonObject> project(const QString &name) const override;
    void validate(const QJsonValue &manifest, const QString &sourceDir, const ApiReply &reply) override;
    void deploy(const QJsonValue &manifest, const QString &sourceDir, const PeerInfo &peer,
                const ApiReply &reply) override;
    void undeploy(const QString &name, const PeerInfo &peer, const ApiReply &reply) override;
    void restart(const QString &name, const PeerInfo &peer, const ApiReply &reply) override;
    ApiResult logs(const QString &name, int lines) const override;
    QJsonObject stats() const override;
    void reload(const PeerInfo &peer, const ApiReply &reply) override;

Q_SIGNALS:
    // Once after start(): every persisted project has been started or has failed (a
    // conflict or a failed backend does not hold this up). systemd's READY=1.
    void startupComplete();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace portico

#pragma once

#include "admin/adminapi.h"

#include <QHash>
#include <QJsonObject>
#include <QList>

namespace portico::test {

// An AdminApi with canned, inspectable answers: the admin protocol is tested without a
// daemon. Deploys are refused on the conflicts/errors set here; a deploy of an unknown
// name adds the project and a route, like the real daemon would.
class FakeAdminApi final : public AdminApi {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeAdminApi)
public:
    explicit FakeAdminApi(QObject *parent = nullptr);

    // What the next calls answer.
    QList<RouteInfo> m_routes;
    QHash<QString, QJsonObject> m_projects; // name -> project JSON
    QJsonObject m_stats;
    QStringList m_logLines;
    int m_reloadChanged = 0; // daemon.reload's "changed"
    // deploy/validate refusals: each entry {path, message}, {port, transport, holder, message}.
    QJsonArray m_validationErrors;
    QJsonArray m_conflicts;
    // Slow operations answer later (on the next event loop turn) when set, else at once.
    bool m_deferReplies = false;
    // When set, slow operations never answer (the caller's reply is kept).
    bool m_holdReplies = false;
    QList<ApiReply> m_heldReplies;

    // What was asked.
    struct CallRecord {
        QString op;
        QJsonValue manifest;
        QString sourceDir;
        QString name;
        PeerInfo peer;
        int lines = 0;
    };
    QList<CallRecord> m_calls;

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

    // Emits AdminApi::event.
    void emitEvent(const QString &kind, const QJsonObject &data) { Q_EMIT event(kind, data); }

    // A route on `port` held by `project`, and the project itself.
    void addProject(const QString &name, quint16 port, const QString &protocol = QStringLiteral("http"));

private:
    void answer(const ApiReply &reply, const ApiResult &result);
    QJsonObject projectJson(const QString &name) const; // with its current routes
    QJsonObject diffFor(const QJsonValue &manifest) const;
    std::optional<ApiResult> refusal(const QJsonValue &manifest) const;
    mutable QList<CallRecord> *m_log = &m_calls;
};

} // namespace portico::test

#include "fakeadminapi.h"

#include "protocol.h"

#include <QJsonArray>
#include <QTimer>

namespace portico::test {

namespace err = protocol::error;

FakeAdminApi::FakeAdminApi(QObject *parent) : AdminApi(parent) {
    RouteInfo ingress;
    ingress.hostPort = 8080;
    ingress.protocol = QStringLiteral("http");
    ingress.backend = QStringLiteral("path-based routing");
    ingress.state = QStringLiteral("active");
    m_routes.append(ingress);
    m_stats = {{QStringLiteral("time"), QStringLiteral("2026-01-01T12:00:00.000Z")},
               {QStringLiteral("uptime_ms"), 1234},
               {QStringLiteral("routes"), QJsonArray()},
               {QStringLiteral("data_plane"), QJsonObject{{QStringLiteral("workers"), 2}}}};
}

// The answers are shaped like the daemon's (tests/support/contract.h checks them, in
// tst_dispatcher, against the same shapes tst_contract_e2e checks the daemon's against).
QJsonObject FakeAdminApi::projectJson(const QString &name) const {
    QJsonObject p = m_projects.value(name);
    QJsonArray routes;
    for (const RouteInfo &r : m_routes) {
        if (r.project == name)
            routes.append(r.toJson());
    }
    p.insert(QStringLiteral("routes"), routes);
    return p;
}

void FakeAdminApi::addProject(const QString &name, quint16 port, const QString &protocol) {
    RouteInfo r;
    r.hostPort = port;
    r.protocol = protocol;
    r.project = name;
    r.backend = QStringLiteral("127.0.0.1:20001");
    r.state = QStringLiteral("active");
    r.runtime = QStringLiteral("process");
    m_routes.append(r);
    // Shaped like the daemon's: the manifest as deployed and the live route rows.
    m_projects.insert(
        name, {{QStringLiteral("name"), name},
               {QStringLiteral("runtime"), QStringLiteral("process")},
               {QStringLiteral("state"), QStringLiteral("active")},
               {QStringLiteral("manifest"),
                QJsonObject{{QStringLiteral("name"), name},
                            {QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), port},
                                                                   {QStringLiteral("protocol"), protocol}}}}},
               {QStringLiteral("source_dir"), QStringLiteral("/srv/") + name},
               {QStringLiteral("backend"), r.backend},
               {QStringLiteral("routes"), QJsonArray{r.toJson()}},
               {QStringLiteral("pid"), 4300 + int(m_projects.size())},
               {QStringLiteral("started_at"), QStringLiteral("2026-01-01T11:59:00.000Z")},
               {QStringLiteral("uptime_ms"), 60000},
               {QStringLiteral("restarts"), 0},
               {QStringLiteral("last_exit"), QJsonValue::Null},
               {QStringLiteral("env_names"), QJsonArray()}});
}

QJsonObject FakeAdminApi::info() const {
    return {{QStringLiteral("version"), QStringLiteral("0.1.0-fake")},
            {QStringLiteral("uptime_ms"), 42000},
            {QStringLiteral("pid"), 4242},
            {QStringLiteral("bind"), QStringLiteral("127.0.0.1")},
            {QStringLiteral("ingress_port"), 8080},
            {QStringLiteral("admin_socket"), QStringLiteral("/run/portico/admin.sock")},
            {QStringLiteral("state_dir"), QStringLiteral("/var/lib/portico")},
            {QStringLiteral("workers"), 2},
            {QStringLiteral("projects"), int(m_projects.size())},
            {QStringLiteral("listeners"), routesToJson(m_routes)}};
}

QList<RouteInfo> FakeAdminApi::routes() const {
    return m_routes;
}

QJsonArray FakeAdminApi::projects() const {
    QJsonArray a;
    QStringList names = m_projects.keys();
    names.sort();
    for (const auto &n : names)
        a.append(projectJson(n));
    return a;
}

std::optional<QJsonObject> FakeAdminApi::project(const QString &name) const {
    if (!m_projects.contains(name))
        return std::nullopt;
    return projectJson(name);
}

void FakeAdminApi::answer(const ApiReply &reply, const ApiResult &result) {
    if (m_holdReplies) {
        m_heldReplies.append(reply);
        return;
    }
    if (m_deferReplies)
        QTimer::singleShot(0, this, [reply, result] { reply(result); });
    else
        reply(result);
}

QJsonObject FakeAdminApi::diffFor(const QJsonValue &manifest) const {
    const QJsonObject m = manifest.toObject();
    const QString name = m.value(QStringLiteral("name")).toString();
    QJsonArray added;
    const QJsonObject listen = m.value(QStringLiteral("listen")).toObject();
    if (!listen.isEmpty())
        added.append(
            QJsonObject{{QStringLiteral("port"), listen.value(QStringLiteral("port"))},
                        {QStringLiteral("protocol"),
                         listen.value(QStringLiteral("protocol")).toString(QStringLiteral("http"))}});
    return {{QStringLiteral("added"), added},
            {QStringLiteral("removed"), QJsonArray()},
            {QStringLiteral("kept"), QJsonArray()},
            {QStringLiteral("new_project"), !m_projects.contains(name)},
            {QStringLiteral("path_route_before"), false},
            {QStringLiteral("path_route_after"), listen.isEmpty()}};
}

std::optional<ApiResult> FakeAdminApi::refusal(const QJsonValue &manifest) const {
    if (!m_validationErrors.isEmpty())
        return ApiResult::failure(
            err::ValidationFailed,
            QStringLiteral("the manifest has %1 error(s)").arg(m_validationErrors.size()),
            {{QStringLiteral("errors"), m_validationErrors}});
    if (!m_conflicts.isEmpty())
        return ApiResult::failure(
            err::Conflict, m_conflicts.first().toObject().value(QStringLiteral("message")).toString(),
            {{QStringLiteral("project"), manifest.toObject().value(QStringLiteral("name"))},
             {QStringLiteral("conflicts"), m_conflicts}});
    return std::nullopt;
}

void FakeAdminApi::validate(const QJsonValue &manifest, const QString &sourceDir, const ApiReply &reply) {
    m_calls.append({QStringLiteral("validate"), manifest, sourceDir, {}, {}, 0});
    if (auto r = refusal(manifest))
        return answer(reply, *r);
    answer(reply, ApiResult::success(QJsonObject{
                      {QStringLiteral("ok"), true},
                      {QStringLiteral("project"), manifest.toObject().value(QStringLiteral("name"))},
                      {QStringLiteral("unchanged"), false},
                      {QStringLiteral("diff"), diffFor(manifest)}}));
}

void FakeAdminApi::deploy(const QJsonValue &manifest, const QString &sourceDir, const PeerInfo &peer,
                          const ApiReply &reply) {
    m_calls.append({QStringLiteral("deploy"), manifest, sourceDir, {}, peer, 0});
    if (auto r = refusal(manifest))
        return answer(reply, *r);
    const QJsonObject m = manifest.toObject();
    const QString name = m.value(QStringLiteral("name")).toString();
    const quint16 port =
        quint16(m.value(QStringLiteral("listen")).toObject().value(QStringLiteral("port")).toInt());
    const QJsonObject diff = diffFor(manifest);
    if (!m_projects.contains(name))
        addProject(name, port ? port : 8080);
    if (!port)
        m_routes.last().path = QLatin1Char('/') + name + QLatin1Char('/');
    m_projects[name].insert(QStringLiteral("manifest"), m);
    m_projects[name].insert(QStringLiteral("source_dir"), sourceDir);
    QJsonObject deployed = projectJson(name);
    deployed.insert(QStringLiteral("diff"), diff);
    answer(reply, ApiResult::success(deployed));
}

void FakeAdminApi::undeploy(const QString &name, const PeerInfo &peer, const ApiReply &reply) {
    m_calls.append({QStringLiteral("undeploy"), {}, {}, name, peer, 0});
    if (!m_projects.remove(name))
        return answer(reply,
                      ApiResult::failure(err::NotFound, QStringLiteral("no project named '%1'").arg(name),
                                         {{QStringLiteral("project"), name}}));
    m_routes.removeIf([&](const RouteInfo &r) { return r.project == name; });
    answer(reply, ApiResult::success(
                      QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("undeployed"), true}}));
}

void FakeAdminApi::restart(const QString &name, const PeerInfo &peer, const ApiReply &reply) {
    m_calls.append({QStringLiteral("restart"), {}, {}, name, peer, 0});
    if (!m_projects.contains(name))
        return answer(reply,
                      ApiResult::failure(err::NotFound, QStringLiteral("no project named '%1'").arg(name),
                                         {{QStringLiteral("project"), name}}));
    answer(reply, ApiResult::success(
                      QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("restarting"), true}}));
}

ApiResult FakeAdminApi::logs(const QString &name, int lines) const {
    m_log->append({QStringLiteral("logs"), {}, {}, name, {}, lines});
    if (!m_projects.contains(name))
        return ApiResult::failure(err::NotFound, QStringLiteral("no project named '%1'").arg(name),
                                  {{QStringLiteral("project"), name}});
    QJsonArray a;
    // Shaped like the daemon's lines (protocol 2), at a fixed time.
    for (qsizetype i = qMax<qsizetype>(0, m_logLines.size() - lines); i < m_logLines.size(); ++i)
        a.append(QJsonObject{{QStringLiteral("time"), QStringLiteral("2026-01-01T12:00:00.000Z")},
                             {QStringLiteral("stream"), QStringLiteral("stdout")},
                             {QStringLiteral("text"), m_logLines.at(i)}});
    return ApiResult::success(QJsonObject{
        {QStringLiteral("project"), name}, {QStringLiteral("deployed"), true}, {QStringLiteral("lines"), a}});
}

QJsonObject FakeAdminApi::stats() const {
    return m_stats;
}

void FakeAdminApi::reload(const PeerInfo &peer, const ApiReply &reply) {
    m_calls.append({QStringLiteral("reload"), {}, {}, {}, peer, 0});
    answer(reply, ApiResult::success(QJsonObject{{QStringLiteral("changed"), m_reloadChanged},
                                                 {QStringLiteral("problems"), QJsonArray()}}));
}

} // namespace portico::test

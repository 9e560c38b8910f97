#include "dispatcher.h"

#include "adminserver.h" // lcAdmin
#include "auditlog.h"
#include "protocol.h"

#include <QDir>
#include <QJsonArray>

#include <atomic>

namespace portico {

namespace err = protocol::error;

// One request on its way through a handler.
struct Dispatcher::Call {
    AdminApi *api;
    std::shared_ptr<AuditLog> audit;
    QJsonValue id;
    QString method;
    QJsonObject params;
    Context context;
    Reply reply;

    void ok(const QJsonValue &result) const { reply(jsonrpc::Message::response(id, result)); }
    void fail(int code, const QString &message, const QJsonObject &data = {}) const {
        reply(jsonrpc::Message::error(id, code, message, data));
    }
    void answer(const ApiResult &r) const {
        if (r.ok())
            ok(r.result);
        else
            fail(r.errorCode, r.errorMessage, r.errorData);
    }

    // -32602 naming the param, what it must be, and why.
    void badParam(const QString &name, const QString &expected, const QString &message) const {
        fail(err::InvalidParams, message,
             {{QStringLiteral("param"), name}, {QStringLiteral("expected"), expected}});
    }
    bool onlyKnown(std::initializer_list<const char *> names) const {
        for (auto it = params.begin(); it != params.end(); ++it) {
            bool known = false;
            for (const char *n : names)
                known = known || it.key() == QLatin1String(n);
            if (!known) {
                QStringList list;
                for (const char *n : names)
                    list.append(QLatin1String(n));
                badParam(
                    it.key(), QStringLiteral("absent"),
                    QStringLiteral("unknown param '%1' for %2 (takes: %3)")
                        .arg(it.key(), method, list.isEmpty() ? QStringLiteral("none") : list.join(u", ")));
                return false;
            }
        }
        return true;
    }
    bool string(const char *name, bool required, QString *out) const {
        const QString key = QLatin1String(name);
        const QJsonValue v = params.value(key);
        if (v.isUndefined() && !required)
            return true;
        if (v.isUndefined()) {
            badParam(key, QStringLiteral("string"), QStringLiteral("missing param '%1' (a string)").arg(key));
            return false;
        }
        if (!v.isString()) {
            badParam(key, QStringLiteral("string"), QStringLiteral("param '%1' must be a string").arg(key));
            return false;
        }
        if (v.toString().isEmpty() || v.toString().size() > 4096) {
            badParam(
                key, QStringLiteral("string"),
                QStringLiteral("param '%1' must be a non-empty string of at most 4096 characters").arg(key));
            return false;
        }
        *out = v.toString();
        return true;
    }
    bool integer(const char *name, int min, int max, int *out) const {
        const QString key = QLatin1String(name);
        const QJsonValue v = params.value(key);
        if (v.isUndefined())
            return true;
        const double d = v.toDouble();
        if (!v.isDouble() || d != double(qint64(d)) || d < min || d > max) {
            badParam(
                key, QStringLiteral("integer"),
                QStringLiteral("param '%1' must be a whole number from %2 to %3").arg(key).arg(min).arg(max));
            return false;
        }
        *out = int(d);
        return true;
    }
    bool manifestAndSource(QJsonValue *manifest, QString *sourceDir) const {
        if (!onlyKnown({"manifest", "source_dir"}))
            return false;
        const QJsonValue m = params.value(QStringLiteral("manifest"));
        if (m.isUndefined()) {
            badParam(QStringLiteral("manifest"), QStringLiteral("object"),
                     QStringLiteral("missing param 'manifest' (the manifest as a JSON object)"));
            return false;
        }
        if (!m.isObject()) {
            badParam(QStringLiteral("manifest"), QStringLiteral("object"),
                     QStringLiteral("param 'manifest' must be a JSON object"));
            return false;
        }
        if (!string("source_dir", false, sourceDir))
            return false;
        if (!sourceDir->isEmpty() && !QDir::isAbsolutePath(*sourceDir)) {
            badParam(QStringLiteral("source_dir"), QStringLiteral("absolute path"),
                     QStringLiteral("param 'source_dir' must be an absolute path"));
            return false;
        }
        *manifest = m;
        return true;
    }

    // Records the outcome of a change request in the audit log, then answers.
    ApiReply audited(const QString &project) const {
        auto self = *this;
        return [self, project](const ApiResult &r) {
            self.record(project, r.errorCode, r.errorMessage);
            self.answer(r);
        };
    }
    void record(const QString &project, int code, const QString &message) const {
        if (!audit)
            return;
        AuditEntry e;
        e.uid = context.peer.uid;
        e.pid = context.peer.pid;
        e.method = method;
        e.project = project;
        e.code = code;
        e.error = message;
        if (code == 0)
            e.outcome = QStringLiteral("ok");
        else if (code == err::ValidationFailed || code == err::Conflict || code == err::NotFound ||
                 code == err::InvalidParams || code == err::Busy)
            e.outcome = QStringLiteral("refused");
        else
            e.outcome = QStringLiteral("failed");
        audit->record(std::move(e));
    }
};

namespace {

using Call = Dispatcher::Call;

void daemonInfo(const Call &c) {
    if (!c.onlyKnown({}))
        return;
    QJsonObject info = c.api->info();
    info.insert(QStringLiteral("protocol_version"), protocol::kVersion);
    c.ok(info);
}

void routesList(const Call &c) {
    if (c.onlyKnown({}))
        c.ok(QJsonObject{{QStringLiteral("routes"), routesToJson(c.api->routes())}});
}

void projectsList(const Call &c) {
    if (c.onlyKnown({}))
        c.ok(QJsonObject{{QStringLiteral("projects"), c.api->projects()}});
}

void projectsGet(const Call &c) {
    QString name;
    if (!c.onlyKnown({"name"}) || !c.string("name", true, &name))
        return;
    const auto p = c.api->project(name);
    if (!p)
        c.fail(err::NotFound, QStringLiteral("no project named '%1'").arg(name),
               {{QStringLiteral("project"), name}});
    else
        c.ok(*p);
}

void projectsValidate(const Call &c) {
    QJsonValue manifest;
    QString sourceDir;
    if (!c.manifestAndSource(&manifest, &sourceDir))
        return;
    const Call self = c;
    c.api->validate(manifest, sourceDir, [self](const ApiResult &r) { self.answer(r); });
}

void projectsDeploy(const Call &c) {
    const QString project =
        c.params.value(QStringLiteral("manifest")).toObject().value(QStringLiteral("name")).toString();
    QJsonValue manifest;
    QString sourceDir;
    // Refusals before the daemon sees the request are audited like any other.
    const Call guard{
        c.api, c.audit, c.id, c.method, c.params, c.context, [c, project](const jsonrpc::Message &m) {
            c.record(project.left(256), m.errorCode(), m.errorMessage());
            c.reply(m);
        }};
    if (!guard.manifestAndSource(&manifest, &sourceDir))
        return;
    c.api->deploy(manifest, sourceDir, c.context.peer, c.audited(project.left(256)));
}

template <void (AdminApi::*Op)(const QString &, const PeerInfo &, const ApiReply &)>
void byName(const Call &c) {
    QString name;
    const QString raw = c.params.value(QStringLiteral("name")).toString().left(256);
    const Call guard{
        c.api, c.audit, c.id, c.method, c.params, c.context, [c, raw](const jsonrpc::Message &m) {
            c.record(raw, m.errorCode(), m.errorMessage());
            c.reply(m);
        }};
    if (!guard.onlyKnown({"name"}) || !guard.string("name", true, &name))
        return;
    (c.api->*Op)(name, c.context.peer, c.audited(name));
}

void projectsLogs(const Call &c) {
    QString name;
    int lines = Dispatcher::kDefaultLogLines;
    if (!c.onlyKnown({"name", "lines"}) || !c.string("name", true, &name) ||
        !c.integer("lines", 1, Dispatcher::kMaxLogLines, &lines))
        return;
    c.answer(c.api->logs(name, lines));
}

void statsGet(const Call &c) {
    if (c.onlyKnown({}))
        c.ok(c.api->stats());
}

void eventsSubscribe(const Call &c) {
    if (!c.onlyKnown({"kinds"}))
        return;
    QStringList kinds;
    const QJsonValue v = c.params.value(QStringLiteral("kinds"));
    if (!v.isUndefined()) {
        if (!v.isArray()) {
            c.badParam(QStringLiteral("kinds"), QStringLiteral("array of strings"),
                       QStringLiteral("param 'kinds' must be an array of event kinds"));
            return;
        }
        const QStringList known = Dispatcher::eventKinds();
        for (const auto &k : v.toArray()) {
            if (!k.isString() || !known.contains(k.toString())) {
                c.badParam(QStringLiteral("kinds"), QStringLiteral("array of strings"),
                           QStringLiteral("param 'kinds': unknown event kind %1 (known: %2)")
                               .arg(k.isString()
                                        ? QLatin1Char('\'') + k.toString().left(64) + QLatin1Char('\'')
                                        : QStringLiteral("(not a string)"),
                                    known.join(u", ")));
                return;
            }
            if (!kinds.contains(k.toString()))
                kinds.append(k.toString());
        }
    }
    if (!c.context.subscribe) {
        c.fail(err::InternalError, QStringLiteral("this connection cannot carry events"));
        return;
    }
    c.context.subscribe(kinds);
    c.ok(QJsonObject{{QStringLiteral("subscribed"), true},
                     {QStringLiteral("kinds"),
                      QJsonArray::fromStringList(kinds.isEmpty() ? Dispatcher::eventKinds() : kinds)}});
}

void daemonReload(const Call &c) {
    if (c.onlyKnown({}))
        c.api->reload(c.context.peer, c.audited(QString()));
}

void auditList(const Call &c) {
    int limit = Dispatcher::kDefaultAuditLimit;
    if (!c.onlyKnown({"limit"}) || !c.integer("limit", 1, 100'000, &limit))
        return;
    QJsonArray entries;
    if (c.audit) {
        for (const auto &e : c.audit->last(limit))
            entries.append(e.toJson());
    }
    c.ok(QJsonObject{{QStringLiteral("entries"), entries}});
}

struct MethodEntry {
    const char *name;
    void (*handler)(const Call &);
};

// The whole surface of the protocol. Nothing outside this table is callable.
const MethodEntry kMethods[] = {
    {protocol::method::DaemonInfo, daemonInfo},
    {protocol::method::DaemonReload, daemonReload},
    {protocol::method::RoutesList, routesList},
    {protocol::method::ProjectsList, projectsList},
    {protocol::method::ProjectsGet, projectsGet},
    {protocol::method::ProjectsValidate, projectsValidate},
    {protocol::method::ProjectsDeploy, projectsDeploy},
    {protocol::method::ProjectsUndeploy, byName<&AdminApi::undeploy>},
    {protocol::method::ProjectsRestart, byName<&AdminApi::restart>},
    {protocol::method::ProjectsLogs, projectsLogs},
    {protocol::method::StatsGet, statsGet},
    {protocol::method::EventsSubscribe, eventsSubscribe},
    {protocol::method::AuditList, auditList},
};

} // namespace

Dispatcher::Dispatcher(AdminApi *api, std::shared_ptr<AuditLog> audit)
    : m_api(api), m_audit(std::move(audit)) {}
Dispatcher::~Dispatcher() = default;

QStringList Dispatcher::methods() {
    QStringList out;
    for (const auto &m : kMethods)
        out.append(QLatin1String(m.name));
    return out;
}

bool Dispatcher::isSlow(const QString &method) {
    using namespace protocol::method;
    for (const char *m :
         {ProjectsValidate, ProjectsDeploy, ProjectsUndeploy, ProjectsRestart, DaemonReload}) {
        if (method == QLatin1String(m))
            return true;
    }
    return false;
}

QStringList Dispatcher::eventKinds() {
    using namespace protocol::event;
    QStringList out;
    for (const char *k : {RoutesChanged, ProjectState, ProjectDeployed, ProjectUndeployed, DeployRefused,
                          Conflict, StatsTick, Log})
        out.append(QLatin1String(k));
    return out;
}

void Dispatcher::handleLine(const QByteArray &line, const Context &context, const Reply &reply) {
    int code = 0;
    QString error;
    QJsonValue id;
    const auto msg = jsonrpc::Message::parse(line, &code, &error, &id);
    if (!msg) {
        reply(jsonrpc::Message::error(id, code, error));
        return;
    }
    handle(*msg, context, reply);
}

void Dispatcher::handle(const jsonrpc::Message &request, const Context &context, const Reply &reply) {
    const bool wantsReply = request.isRequest();
    if (!request.isRequest() && !request.isNotification()) {
        // A response or an error sent to the daemon: nothing asked for it.
        reply(jsonrpc::Message::error(request.id(), err::InvalidRequest,
                                      QStringLiteral("not a request: the daemon does not take responses")));
        if (context.finished)
            context.finished();
        return;
    }
    // Exactly one answer per request, none for a notification, whatever a handler does.
    auto answered = std::make_shared<std::atomic_bool>(false);
    const auto finished = context.finished;
    Reply once = [reply, answered, wantsReply, finished](const jsonrpc::Message &m) {
        if (answered->exchange(true)) {
            qCWarning(lcAdmin) << "dispatcher: second answer to one request dropped";
            return;
        }
        if (wantsReply)
            reply(m);
        if (finished)
            finished();
    };
    const QString method = request.method();
    const MethodEntry *entry = nullptr;
    for (const auto &m : kMethods) {
        if (method == QLatin1String(m.name))
            entry = &m;
    }
    if (!entry) {
        once(jsonrpc::Message::error(request.id(), err::MethodNotFound,
                                     QStringLiteral("unknown method '%1'").arg(method.left(128)),
                                     {{QStringLiteral("method"), method.left(128)}}));
        return;
    }
    const QJsonValue params = request.params();
    if (!params.isUndefined() && !params.isObject()) {
        once(
            jsonrpc::Message::error(request.id(), err::InvalidParams,
                                    QStringLiteral("params must be an object: every param is passed by name"),
                                    {{QStringLiteral("param"), QStringLiteral("params")},
                                     {QStringLiteral("expected"), QStringLiteral("object")}}));
        return;
    }
    const Call call{m_api, m_audit, request.id(), method, params.toObject(), context, once};
    entry->handler(call);
}

} // namespace portico

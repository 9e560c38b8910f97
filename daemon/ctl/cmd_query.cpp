// Commands that only read: status, routes, projects, projects get, stats, audit.
#include "commands.h"
#include "format.h"
#include "protocol.h"
#include "statsview.h"

#include <QJsonArray>

namespace portico::ctl {

namespace method = protocol::method;

namespace {

void status(Session &s) {
    s.call(QLatin1String(method::DaemonInfo), {}, QStringLiteral("status"), [&s](const QJsonValue &r) {
        if (s.json())
            s.printJson(r);
        else
            s.out() << infoText(r.toObject(), s.socketPath());
        s.finish(Ok);
    });
}

void routes(Session &s) {
    s.call(QLatin1String(method::RoutesList), {}, QStringLiteral("routes"), [&s](const QJsonValue &r) {
        const QJsonArray rows = r.toObject().value(QStringLiteral("routes")).toArray();
        if (s.json())
            s.printJson(rows);
        else
            s.out() << routesTable(rows, s.style());
        s.finish(Ok);
    });
}

void projects(Session &s) {
    s.call(QLatin1String(method::ProjectsList), {}, QStringLiteral("projects"), [&s](const QJsonValue &r) {
        const QJsonArray rows = r.toObject().value(QStringLiteral("projects")).toArray();
        if (s.json())
            s.printJson(rows);
        else
            s.out() << projectsTable(rows, s.style());
        s.finish(Ok);
    });
}

void projectGet(Session &s) {
    const QString name = s.inv().arg(0);
    s.call(QLatin1String(method::ProjectsGet), {{QStringLiteral("name"), name}},
           QStringLiteral("project '%1'").arg(name), [&s](const QJsonValue &r) {
               if (s.json())
                   s.printJson(r);
               else
                   s.out() << projectText(r.toObject(), s.style());
               s.finish(Ok);
           });
}

void stats(Session &s) {
    s.call(QLatin1String(method::StatsGet), {}, QStringLiteral("stats"), [&s](const QJsonValue &r) {
        if (s.json())
            s.printJson(r);
        else
            s.out() << statsTable(r.toObject(), s.style());
        s.finish(Ok);
    });
}

void audit(Session &s) {
    const QJsonObject params{{QStringLiteral("limit"), intOption(s.inv(), QStringLiteral("lines"), 20)}};
    s.call(QLatin1String(method::AuditList), params, QStringLiteral("audit"), [&s](const QJsonValue &r) {
        const QJsonArray entries = r.toObject().value(QStringLiteral("entries")).toArray();
        if (s.json())
            s.printJson(entries);
        else
            s.out() << auditTable(entries, s.style());
        s.finish(Ok);
    });
}

} // namespace

void addQueryCommands(CommandTable &table) {
    table.add({.words = {QStringLiteral("status")},
               .summary = QStringLiteral("the daemon: version, uptime, listeners, traffic"),
               .run = status});
    table.add({.words = {QStringLiteral("routes")},
               .summary = QStringLiteral("the routing table with live counters"),
               .run = routes});
    table.add({.words = {QStringLiteral("projects")},
               .summary = QStringLiteral("deployed projects: state, pid, uptime, restarts, last exit"),
               .run = projects});
    table.add({.words = {QStringLiteral("projects"), QStringLiteral("get")},
               .argsSynopsis = QStringLiteral("NAME"),
               .summary = QStringLiteral("one project: state, process, env names, routes, manifest"),
               .minArgs = 1,
               .maxArgs = 1,
               .run = projectGet});
    table.add({.words = {QStringLiteral("stats")},
               .summary = QStringLiteral("per-route rates and counters, once"),
               .run = stats});
    table.add(
        {.words = {QStringLiteral("audit")},
         .summary = QStringLiteral("who changed what, when, with what outcome"),
         .options = {{{QStringLiteral("n"), QStringLiteral("lines")},
                      QStringLiteral("N"),
                      QStringLiteral("how many entries, the newest last"),
                      QStringLiteral("20")}},
         .check =
             [](const Invocation &inv) { return checkIntOption(inv, QStringLiteral("lines"), 1, 100000); },
         .run = audit});
}

} // namespace portico::ctl

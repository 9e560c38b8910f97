// Commands that change the daemon: deploy (and its dry run), undeploy, restart, reload.
#include "commands.h"
#include "events.h"
#include "format.h"
#include "manifestfile.h"
#include "protocol.h"

#include <QJsonArray>

#include <memory>

namespace portico::ctl {

namespace method = protocol::method;

namespace {

// A refused deploy or dry run: the route diff it would have made, every error and
// conflict, and for a backend that did not start, the end of its output.
void refuse(Session &s, const jsonrpc::Message &reply, const QString &what, const ManifestFile &file,
            const QString &project) {
    const QJsonObject data = reply.errorData();
    QStringList details;
    for (const auto &l : diffLines(data.value(QStringLiteral("diff")).toObject(), project, s.errStyle()))
        details.append(l);
    details += refusalLines(data, &file);
    const QJsonArray log = data.value(QStringLiteral("log")).toArray();
    if (!log.isEmpty()) {
        details.append(QStringLiteral("last output of '%1':").arg(project));
        for (const auto &l : log)
            details.append(
                QStringLiteral("  ") +
                (l.isString() ? l.toString() : l.toObject().value(QStringLiteral("text")).toString()));
        details.append(QStringLiteral("(all of it: porticoctl logs %1)").arg(project));
    }
    s.failWith(reply, what, details);
}

void deploy(Session &s) {
    auto file = std::make_shared<ManifestFile>();
    QString headline;
    QStringList context;
    if (!ManifestFile::read(s.inv().arg(0), file.get(), &headline, &context))
        return s.fail(Refused, headline, context);
    const QString project = file->object.value(QStringLiteral("name")).toString();
    const QJsonObject params{{QStringLiteral("manifest"), file->object},
                             {QStringLiteral("source_dir"), file->dir}};
    const bool dryRun = s.inv().isSet(QStringLiteral("dry-run"));
    const QString rpc = QLatin1String(dryRun ? method::ProjectsValidate : method::ProjectsDeploy);
    s.client().call(rpc, params, [&s, file, project, dryRun](const jsonrpc::Message &reply) {
        if (s.isDone())
            return;
        if (!reply.isResponse())
            return refuse(s, reply,
                          dryRun ? QStringLiteral("manifest '%1' refused").arg(project)
                                 : QStringLiteral("deploy of '%1' refused").arg(project),
                          *file, project);
        const QJsonObject r = reply.result().toObject();
        if (s.json()) {
            s.printJson(r);
            return s.finish(Ok);
        }
        const bool unchanged = r.value(QStringLiteral("unchanged")).toBool();
        if (dryRun)
            s.out() << (unchanged ? QStringLiteral(
                                        "manifest '%1' is valid and runs already (dry run, nothing would "
                                        "change)\n")
                                  : QStringLiteral("manifest '%1' is valid (dry run, nothing changed)\n"))
                           .arg(project);
        else if (unchanged)
            s.out() << QStringLiteral("unchanged '%1': this manifest runs already; nothing was changed "
                                      "(porticoctl restart %1 starts it again, e.g. for new code)\n")
                           .arg(project);
        else
            s.out() << QStringLiteral("deployed '%1'\n").arg(project);
        for (const auto &l : diffLines(r.value(QStringLiteral("diff")).toObject(), project, s.style()))
            s.out() << "  " << l << "\n";
        // Where it can be reached now.
        const QJsonArray routes = r.value(QStringLiteral("routes")).toArray();
        if (!dryRun && !routes.isEmpty())
            s.out() << "\n" << routesTable(routes, s.style());
        s.finish(Ok);
    });
}

void byName(Session &s, const char *method, const QString &verb, const QString &done) {
    const QString name = s.inv().arg(0);
    s.call(QLatin1String(method), {{QStringLiteral("name"), name}}, QStringLiteral("%1 '%2'").arg(verb, name),
           [&s, name, done](const QJsonValue &r) {
               if (s.json())
                   s.printJson(r);
               else
                   s.out() << done.arg(name) << "\n";
               s.finish(Ok);
           });
}

void reload(Session &s) {
    s.call(QLatin1String(method::DaemonReload), {}, QStringLiteral("reload"), [&s](const QJsonValue &r) {
        if (s.json()) {
            s.printJson(r);
            return s.finish(Ok);
        }
        const QJsonObject o = r.toObject();
        s.out() << QStringLiteral("reloaded the project store: %1 project(s) to redeploy or undeploy\n")
                       .arg(compact(o.value(QStringLiteral("changed"))));
        for (const auto &p : o.value(QStringLiteral("problems")).toArray())
            s.out() << "  problem: " << p.toString() << "\n";
        s.finish(Ok);
    });
}

} // namespace

void addChangeCommands(CommandTable &table) {
    table.add(
        {.words = {QStringLiteral("deploy")},
         .argsSynopsis = QStringLiteral("FILE|DIR"),
         .summary = QStringLiteral("deploy a manifest (a folder means its portico.json)"),
         .minArgs = 1,
         .maxArgs = 1,
         .options = {{{QStringLiteral("dry-run")},
                      {},
                      QStringLiteral("only check: the route diff, every error and conflict; changes nothing"),
                      {}}},
         .run = deploy});
    table.add({.words = {QStringLiteral("undeploy")},
               .argsSynopsis = QStringLiteral("NAME"),
               .summary = QStringLiteral("remove a project and release its ports"),
               .minArgs = 1,
               .maxArgs = 1,
               .run = [](Session &s) {
                   byName(s, method::ProjectsUndeploy, QStringLiteral("undeploy of"),
                          QStringLiteral("undeployed '%1'"));
               }});
    table.add({.words = {QStringLiteral("restart")},
               .argsSynopsis = QStringLiteral("NAME"),
               .summary = QStringLiteral("restart a project's backend"),
               .minArgs = 1,
               .maxArgs = 1,
               .run = [](Session &s) {
                   byName(s, method::ProjectsRestart, QStringLiteral("restart of"),
                          QStringLiteral("restarting '%1'"));
               }});
    table.add({.words = {QStringLiteral("reload")},
               .summary = QStringLiteral("re-read the project store and apply what changed in it"),
               .run = reload});
}

} // namespace portico::ctl

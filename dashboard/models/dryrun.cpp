#include "dryrun.h"

#include "protocol.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>

namespace portico {

namespace {

QString tr(const char *text) {
    return QCoreApplication::translate("DryRun", text);
}

QString specLabel(const QJsonObject &s) {
    QString label = QStringLiteral("%1/%2")
                        .arg(s.value(QStringLiteral("port")).toInt())
                        .arg(s.value(QStringLiteral("protocol")).toString());
    if (s.contains(QStringLiteral("proxy_protocol")))
        label += QStringLiteral(" (PROXY %1)").arg(s.value(QStringLiteral("proxy_protocol")).toString());
    return label;
}

void addDiff(DryRun &run, const QJsonObject &diff) {
    using Kind = DryRun::Item::Kind;
    if (diff.isEmpty())
        return;
    const QString path = QStringLiteral("/%1/").arg(run.project);
    run.items.append({Kind::Summary, diff.value(QStringLiteral("new_project")).toBool()
                                         ? tr("new project '%1'").arg(run.project)
                                         : tr("replaces the running version of '%1'").arg(run.project)});
    const bool before = diff.value(QStringLiteral("path_route_before")).toBool();
    const bool after = diff.value(QStringLiteral("path_route_after")).toBool();
    if (after && !before)
        run.items.append({Kind::Added, tr("route %1 on the ingress").arg(path)});
    else if (before && !after)
        run.items.append({Kind::Removed, tr("route %1 on the ingress").arg(path)});
    else if (before && after)
        run.items.append({Kind::Kept, tr("route %1 on the ingress").arg(path)});
    const auto specs = [&](const char *key, Kind kind, const QString &verb) {
        for (const QJsonValue &v : diff.value(QLatin1String(key)).toArray())
            run.items.append({kind, verb.arg(specLabel(v.toObject()))});
    };
    specs("added", Kind::Added, tr("bind port %1"));
    specs("removed", Kind::Removed, tr("release port %1"));
    specs("kept", Kind::Kept, tr("keep port %1"));
}

} // namespace

int DryRun::count(Item::Kind kind) const {
    return int(std::count_if(items.cbegin(), items.cend(), [kind](const Item &i) { return i.kind == kind; }));
}

DryRun DryRun::fromReply(const jsonrpc::Message &reply) {
    DryRun run;
    if (reply.isResponse()) {
        const QJsonObject r = reply.result().toObject();
        run.project = r.contains(QStringLiteral("project")) ? r.value(QStringLiteral("project")).toString()
                                                            : r.value(QStringLiteral("name")).toString();
        run.outcome = Outcome::Clean;
        run.unchanged = r.value(QStringLiteral("unchanged")).toBool();
        addDiff(run, r.value(QStringLiteral("diff")).toObject());
        return run;
    }
    const QJsonObject data = reply.errorData();
    run.project = data.value(QStringLiteral("project")).toString();
    run.message = reply.errorMessage();
    switch (reply.errorCode()) {
    case protocol::error::ValidationFailed:
        run.outcome = Outcome::Invalid;
        for (const QJsonValue &v : data.value(QStringLiteral("errors")).toArray()) {
            const QJsonObject e = v.toObject();
            const QString path = e.value(QStringLiteral("path")).toString();
            const QString message = e.value(QStringLiteral("message")).toString();
            run.items.append(
                {Item::Kind::Error, path.isEmpty() ? message : path + QStringLiteral(": ") + message});
        }
        break;
    case protocol::error::Conflict:
        run.outcome = Outcome::Conflict;
        addDiff(run, data.value(QStringLiteral("diff")).toObject());
        for (const QJsonValue &v : data.value(QStringLiteral("conflicts")).toArray()) {
            const QJsonObject c = v.toObject();
            const QString holder = c.value(QStringLiteral("holder")).toString();
            run.conflicts.append({c.value(QStringLiteral("port")).toInt(),
                                  c.value(QStringLiteral("transport")).toString(), holder});
            // The daemon's message names the port and who holds it already.
            const QString message = c.value(QStringLiteral("message")).toString();
            run.items.append({Item::Kind::Conflict,
                              !message.isEmpty() ? message
                                                 : tr("port %1/%2 is held by %3")
                                                       .arg(c.value(QStringLiteral("port")).toInt())
                                                       .arg(c.value(QStringLiteral("transport")).toString(),
                                                            holder.isEmpty() ? tr("(unknown)") : holder)});
        }
        break;
    default:
        run.outcome = Outcome::Failed;
        run.items.append({Item::Kind::Error, reply.errorMessage()});
        for (const QJsonValue &v : data.value(QStringLiteral("log")).toArray())
            run.items.append({Item::Kind::Error, QStringLiteral("  | ") + v.toString()});
        break;
    }
    if (run.items.isEmpty())
        run.items.append({Item::Kind::Error, reply.errorMessage()});
    return run;
}

} // namespace portico

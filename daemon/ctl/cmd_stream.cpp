// Commands that follow the daemon: logs (and logs -f), watch (and watch --stats).
#include "commands.h"
#include "events.h"
#include "format.h"
#include "protocol.h"
#include "statsview.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <memory>
#include <utility>

namespace portico::ctl {

namespace method = protocol::method;
namespace event = protocol::event;

namespace {

QString lineKey(const QJsonObject &l) {
    return l.value(QStringLiteral("time")).toString() + QLatin1Char('\x1f') +
           l.value(QStringLiteral("stream")).toString() + QLatin1Char('\x1f') +
           l.value(QStringLiteral("text")).toString();
}

void printLogLine(Session &s, const QJsonObject &line) {
    if (s.json())
        s.out() << QJsonDocument(line).toJson(QJsonDocument::Compact) << "\n";
    else
        s.out() << logLineText(line, s.style()) << "\n";
}

void logs(Session &s) {
    const QString name = s.inv().arg(0);
    const bool follow = s.inv().isSet(QStringLiteral("follow"));
    const QJsonObject params{{QStringLiteral("name"), name},
                             {QStringLiteral("lines"), intOption(s.inv(), QStringLiteral("lines"), 100)}};
    // While following, lines that come before the backlog is in are held back, and the ones
    // the backlog already has are not printed twice.
    struct Follow {
        bool backlogIn = false;
        QList<QJsonObject> early;
    };
    auto state = std::make_shared<Follow>();
    const auto fetch = [&s, name, params, follow, state] {
        s.call(
            QLatin1String(method::ProjectsLogs), params, QStringLiteral("logs of '%1'").arg(name),
            [&s, name, follow, state](const QJsonValue &r) {
                const QJsonObject o = r.toObject();
                const QJsonArray lines = o.value(QStringLiteral("lines")).toArray();
                if (s.json() && !follow) {
                    s.printJson(r);
                    return s.finish(Ok);
                }
                if (o.value(QStringLiteral("deployed")) == QJsonValue(false))
                    s.err()
                        << "porticoctl: '" << name
                        << "' is not deployed: its last deploy was refused; this is what it printed then\n";
                QSet<QString> seen;
                for (const auto &l : lines) {
                    printLogLine(s, l.toObject());
                    seen.insert(lineKey(l.toObject()));
                }
                for (const auto &l : std::as_const(state->early))
                    if (!seen.contains(lineKey(l)))
                        printLogLine(s, l);
                state->early.clear();
                state->backlogIn = true;
                s.out().flush();
                s.err().flush();
                if (!follow)
                    s.finish(Ok);
            });
    };
    if (!follow)
        return fetch();
    // Subscribe first so that nothing falls between the backlog and the stream.
    QObject::connect(&s.client(), &AdminClient::eventReceived, &s,
                     [&s, name, state](const QString &kind, const QJsonObject &data) {
                         if (kind != QLatin1String(event::Log) ||
                             data.value(QStringLiteral("project")).toString() != name)
                             return;
                         QJsonObject line = data;
                         line.remove(QStringLiteral("project"));
                         if (!state->backlogIn)
                             return state->early.append(line);
                         printLogLine(s, line);
                         s.out().flush();
                     });
    s.client().subscribe({QLatin1String(event::Log)}, [&s, fetch](const jsonrpc::Message &r) {
        if (!r.isResponse())
            return s.failWith(r, QStringLiteral("logs"));
        fetch();
    });
}

void watch(Session &s) {
    const bool stats = s.inv().isSet(QStringLiteral("stats"));
    auto firstFrame = std::make_shared<bool>(true);
    QObject::connect(
        &s.client(), &AdminClient::eventReceived, &s,
        [&s, stats, firstFrame](const QString &kind, const QJsonObject &data, const QDateTime &time) {
            if (s.json()) {
                const QJsonObject params{{QStringLiteral("kind"), kind},
                                         {QStringLiteral("data"), data},
                                         {QStringLiteral("time"), time.toString(Qt::ISODateWithMs)}};
                s.out() << QJsonDocument(params).toJson(QJsonDocument::Compact) << "\n";
            } else if (!stats) {
                s.out() << eventLine(kind, data, time, s.style()) << "\n";
            } else if (s.style().terminal()) {
                s.out() << statsFrame(data, s.style(), std::exchange(*firstFrame, false));
            } else {
                for (const auto &line : statsLines(data))
                    s.out() << line << "\n";
            }
            s.out().flush();
        });
    QStringList kinds;
    if (stats) {
        kinds.append(QLatin1String(event::StatsTick));
    } else {
        // Every change; the whole routing table after each (routes.changed) only for scripts.
        for (const char *k : {event::ProjectState, event::ProjectDeployed, event::ProjectUndeployed,
                              event::DeployRefused, event::Conflict, event::Log})
            kinds.append(QLatin1String(k));
        if (s.json())
            kinds.append(QLatin1String(event::RoutesChanged));
    }
    s.client().subscribe(kinds, [&s, stats](const jsonrpc::Message &r) {
        if (!r.isResponse())
            return s.failWith(r, QStringLiteral("watch"));
        if (!s.json() && !(stats && s.style().terminal()))
            s.err() << "porticoctl: watching " << s.socketPath() << " (Ctrl-C to stop)\n";
        s.err().flush();
    });
}

} // namespace

void addStreamCommands(CommandTable &table) {
    table.add(
        {.words = {QStringLiteral("logs")},
         .argsSynopsis = QStringLiteral("NAME"),
         .summary = QStringLiteral("a project's recent output: time, stream, text"),
         .minArgs = 1,
         .maxArgs = 1,
         .options = {{{QStringLiteral("n"), QStringLiteral("lines")},
                      QStringLiteral("N"),
                      QStringLiteral("how many lines, the newest last"),
                      QStringLiteral("100")},
                     {{QStringLiteral("f"), QStringLiteral("follow")},
                      {},
                      QStringLiteral("keep printing new lines"),
                      {}}},
         .check =
             [](const Invocation &inv) { return checkIntOption(inv, QStringLiteral("lines"), 1, 10000); },
         .run = logs});
    table.add(
        {.words = {QStringLiteral("watch")},
         .summary = QStringLiteral("live events, one sentence each"),
         .options =
             {{{QStringLiteral("stats")},
               {},
               QStringLiteral(
                   "per-route rates instead: a table refreshed in place on a terminal, lines otherwise"),
               {}}},
         .run = watch});
}

} // namespace portico::ctl

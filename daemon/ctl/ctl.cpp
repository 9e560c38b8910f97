#include "ctl.h"

#include "format.h"
#include "protocol.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <cstdio>

namespace portico::ctl {

namespace {
constexpr qint64 kMaxManifestBytes = 4 * 1024 * 1024;
namespace method = protocol::method;
} // namespace

Ctl::Ctl(const Options &options, QObject *parent)
    : QObject(parent), m_opt(options), m_out(stdout), m_err(stderr) {
    m_client.setSocketPath(m_opt.socket.isEmpty() ? AdminClient::defaultSocketPath() : m_opt.socket);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        fail(Unreachable, QStringLiteral("cannot reach the daemon at %1: no answer within %2 s")
                              .arg(m_client.socketPath())
                              .arg(m_opt.connectTimeoutMs / 1000));
    });
    connect(&m_client, &AdminClient::connectError, this, [this](const QString &reason) {
        fail(Unreachable, QStringLiteral("cannot reach the daemon: %1").arg(reason));
    });
    connect(&m_client, &AdminClient::protocolError, this,
            [this](const QString &reason) { m_err << "porticoctl: daemon: " << reason << Qt::endl; });
    connect(&m_client, &AdminClient::disconnected, this, [this] {
        fail(Unreachable,
             QStringLiteral("the connection to the daemon at %1 was lost").arg(m_client.socketPath()));
    });
    connect(&m_client, &AdminClient::connected, this, [this] {
        m_connectTimer.stop();
        run();
    });
}

QStringList Ctl::commands() {
    return {QStringLiteral("status"), QStringLiteral("routes"),   QStringLiteral("projects"),
            QStringLiteral("deploy"), QStringLiteral("undeploy"), QStringLiteral("restart"),
            QStringLiteral("logs"),   QStringLiteral("watch")};
}

void Ctl::start() {
    m_connectTimer.start(m_opt.connectTimeoutMs);
    m_client.connectToDaemon();
}

void Ctl::finish(int code) {
    if (m_done)
        return;
    m_done = true;
    m_out.flush();
    m_err.flush();
    Q_EMIT finished(code);
}

void Ctl::fail(int code, const QString &reason) {
    if (m_done)
        return;
    m_err << "porticoctl: " << reason << Qt::endl;
    finish(code);
}

void Ctl::printJson(const QJsonValue &v) {
    if (v.isObject())
        m_out << QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented);
    else if (v.isArray())
        m_out << QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented);
    else
        m_out << compact(v) << "\n";
}

void Ctl::failWith(const jsonrpc::Message &reply, const QString &what) {
    if (reply.errorCode() == jsonrpc::kConnectionLost) {
        fail(Unreachable, reply.errorMessage());
        return;
    }
    if (m_opt.json)
        printJson(reply.toJson().value(QStringLiteral("error")));
    m_err << "porticoctl: " << what << ": " << reply.errorMessage() << " (code " << reply.errorCode() << ")"
          << Qt::endl;
    for (const auto &line : refusalLines(reply.errorData()))
        m_err << "  " << line << Qt::endl;
    finish(Refused);
}

void Ctl::run() {
    const QString &cmd = m_opt.command;
    const QString name = m_opt.args.value(0);
    if (cmd == QLatin1String("status")) {
        m_client.call(QLatin1String(method::DaemonInfo), {}, [this](const jsonrpc::Message &r) {
            if (!r.isResponse())
                return failWith(r, QStringLiteral("status"));
            if (m_opt.json)
                printJson(r.result());
            else
                m_out << infoText(r.result().toObject(), m_client.socketPath());
            finish(Ok);
        });
    } else if (cmd == QLatin1String("routes")) {
        m_client.call(QLatin1String(method::RoutesList), {}, [this](const jsonrpc::Message &r) {
            if (!r.isResponse())
                return failWith(r, QStringLiteral("routes"));
            const QJsonArray routes = r.result().toObject().value(QStringLiteral("routes")).toArray();
            if (m_opt.json)
                printJson(routes);
            else
                m_out << routesTable(routes);
            finish(Ok);
        });
    } else if (cmd == QLatin1String("projects")) {
        m_client.call(QLatin1String(method::ProjectsList), {}, [this](const jsonrpc::Message &r) {
            if (!r.isResponse())
                return failWith(r, QStringLiteral("projects"));
            const QJsonArray projects = r.result().toObject().value(QStringLiteral("projects")).toArray();
            if (m_opt.json)
                printJson(projects);
            else
                m_out << projectsTable(projects);
            finish(Ok);
        });
    } else if (cmd == QLatin1String("deploy")) {
        deploy();
    } else if (cmd == QLatin1String("undeploy") || cmd == QLatin1String("restart")) {
        const bool undeploy = cmd == QLatin1String("undeploy");
        m_client.call(QLatin1String(undeploy ? method::ProjectsUndeploy : method::ProjectsRestart),
                      {{QStringLiteral("name"), name}}, [this, undeploy, name](const jsonrpc::Message &r) {
                          if (!r.isResponse())
                              return failWith(r, QStringLiteral("%1 '%2'").arg(m_opt.command, name));
                          if (m_opt.json)
                              printJson(r.result());
                          else
                              m_out << (undeploy ? "undeployed '" : "restarted '") << name << "'\n";
                          finish(Ok);
                      });
    } else if (cmd == QLatin1String("logs")) {
        logs();
    } else if (cmd == QLatin1String("watch")) {
        watch();
    }
}

void Ctl::deploy() {
    const QString path = m_opt.args.value(0);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return fail(Refused, QStringLiteral("%1: cannot read: %2").arg(path, f.errorString()));
    if (f.size() > kMaxManifestBytes)
        return fail(Refused,
                    QStringLiteral("%1: over %2 bytes; not a manifest").arg(path).arg(kMaxManifestBytes));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.read(kMaxManifestBytes), &pe);
    if (pe.error != QJsonParseError::NoError)
        return fail(
            Refused,
            QStringLiteral("%1: invalid JSON: %2 at byte %3").arg(path, pe.errorString()).arg(pe.offset));
    if (!doc.isObject())
        return fail(Refused, QStringLiteral("%1: a manifest is a JSON object").arg(path));
    const QString project = doc.object().value(QStringLiteral("name")).toString();
    const QJsonObject params{{QStringLiteral("manifest"), doc.object()},
                             {QStringLiteral("source_dir"), QFileInfo(path).absolutePath()}};
    if (m_opt.dryRun) {
        m_client.call(
            QLatin1String(method::ProjectsValidate), params, [this, project](const jsonrpc::Message &r) {
                if (!r.isResponse())
                    return failWith(r, QStringLiteral("manifest '%1' refused").arg(project));
                const QJsonObject res = r.result().toObject();
                // Refusals may also come as a result that says so.
                const QStringList problems = refusalLines(res);
                const bool said =
                    res.value(QStringLiteral("ok")).toBool(res.value(QStringLiteral("valid")).toBool(true));
                const bool valid = said && problems.isEmpty();
                if (m_opt.json)
                    printJson(r.result());
                if (!valid) {
                    m_err << "porticoctl: manifest '" << project << "' refused" << Qt::endl;
                    for (const auto &line : problems)
                        m_err << "  " << line << Qt::endl;
                    return finish(Refused);
                }
                if (!m_opt.json) {
                    m_out << "manifest '" << project << "' is valid (dry run, nothing changed)\n";
                    const QJsonValue diff = res.value(QStringLiteral("diff"));
                    if (!diff.isUndefined())
                        m_out << "route diff: " << compact(diff) << "\n";
                }
                finish(Ok);
            });
        return;
    }
    m_client.call(QLatin1String(method::ProjectsDeploy), params, [this, project](const jsonrpc::Message &r) {
        if (!r.isResponse())
            return failWith(r, QStringLiteral("deploy of '%1' refused").arg(project));
        if (m_opt.json) {
            printJson(r.result());
            return finish(Ok);
        }
        m_out << "deployed '" << project << "'\n";
        // Show where it can be reached now.
        m_client.call(QLatin1String(method::RoutesList), {}, [this, project](const jsonrpc::Message &routes) {
            if (routes.isResponse()) {
                QJsonArray mine;
                for (const auto &v : routes.result().toObject().value(QStringLiteral("routes")).toArray()) {
                    if (v.toObject().value(QStringLiteral("project")).toString() == project)
                        mine.append(v);
                }
                if (!mine.isEmpty())
                    m_out << routesTable(mine);
            }
            finish(Ok);
        });
    });
}

void Ctl::logs() {
    const QString name = m_opt.args.value(0);
    auto fetch = [this, name] {
        m_client.call(QLatin1String(method::ProjectsLogs),
                      {{QStringLiteral("name"), name}, {QStringLiteral("lines"), m_opt.lines}},
                      [this, name](const jsonrpc::Message &r) {
                          if (!r.isResponse())
                              return failWith(r, QStringLiteral("logs of '%1'").arg(name));
                          const QJsonValue res = r.result();
                          const QJsonArray lines =
                              res.isArray() ? res.toArray()
                                            : res.toObject().value(QStringLiteral("lines")).toArray();
                          if (m_opt.json && !m_opt.follow)
                              printJson(res);
                          else {
                              for (const auto &l : lines)
                                  m_out
                                      << (l.isString() ? l.toString()
                                                       : l.toObject().value(QStringLiteral("text")).toString())
                                      << "\n";
                              m_out.flush();
                          }
                          if (!m_opt.follow)
                              finish(Ok);
                      });
    };
    if (!m_opt.follow)
        return fetch();
    // Subscribe first so that nothing falls between the backlog and the stream.
    connect(&m_client, &AdminClient::eventReceived, this,
            [this, name](const QString &kind, const QJsonObject &data, const QDateTime &time) {
                if (kind != QLatin1String(protocol::event::Log) ||
                    data.value(QStringLiteral("project")).toString() != name)
                    return;
                if (m_opt.json)
                    m_out << QJsonDocument(
                                 QJsonObject{{QStringLiteral("time"), time.toString(Qt::ISODateWithMs)},
                                             {QStringLiteral("data"), data}})
                                 .toJson(QJsonDocument::Compact)
                          << "\n";
                else
                    m_out << data.value(QStringLiteral("text")).toString() << "\n";
                m_out.flush();
            });
    m_client.subscribe({QLatin1String(protocol::event::Log)}, [this, fetch](const jsonrpc::Message &r) {
        if (!r.isResponse())
            return failWith(r, QStringLiteral("logs"));
        fetch();
    });
}

void Ctl::watch() {
    connect(&m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data, const QDateTime &time) {
                const QJsonObject params{{QStringLiteral("kind"), kind},
                                         {QStringLiteral("data"), data},
                                         {QStringLiteral("time"), time.toString(Qt::ISODateWithMs)}};
                if (m_opt.json)
                    m_out << QJsonDocument(params).toJson(QJsonDocument::Compact) << "\n";
                else
                    m_out << eventLine(params) << "\n";
                m_out.flush();
            });
    QStringList kinds;
    if (!m_opt.stats) {
        using namespace protocol::event;
        for (const char *k :
             {RoutesChanged, ProjectState, ProjectDeployed, ProjectUndeployed, DeployRefused, Conflict, Log})
            kinds.append(QLatin1String(k));
    }
    m_client.subscribe(kinds, [this](const jsonrpc::Message &r) {
        if (!r.isResponse())
            return failWith(r, QStringLiteral("watch"));
        if (!m_opt.json)
            m_err << "porticoctl: watching " << m_client.socketPath() << " (Ctrl-C to stop)" << Qt::endl;
    });
}

} // namespace portico::ctl

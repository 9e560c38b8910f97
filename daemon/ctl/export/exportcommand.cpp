#include "exportcommand.h"

#include "adminclient.h"
#include "kubernetes.h"
#include "manifests.h"
#include "protocol.h"
#include "yaml.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>
#include <QTimer>

#include <cstdio>

namespace portico::ctl {

namespace {

enum ExitCode { Ok = 0, Refused = 1, Unreachable = 2 };
constexpr int kConnectTimeoutMs = 10'000;

void say(const QString &line) {
    QTextStream err(stderr);
    err << "porticoctl: " << line << Qt::endl;
}

int refuse(const QStringList &errors) {
    QTextStream err(stderr);
    err << "porticoctl: export refused" << Qt::endl;
    for (const QString &e : errors)
        err << "  error: " << e << Qt::endl;
    return Refused;
}

// One line for what was wrong and one for where help is, not the whole help.
int usage(const QString &problem) {
    say(problem);
    say(QStringLiteral("see 'porticoctl export --help'"));
    return Refused;
}

// Every byte reaches stdout, or the export fails: a truncated manifest applied with
// `kubectl apply -f -` would be worse than none.
int writeOut(const QByteArray &bytes) {
    QFile out;
    if (!out.open(stdout, QIODevice::WriteOnly)) {
        say(QStringLiteral("cannot write the export: %1").arg(out.errorString()));
        return Refused;
    }
    if (out.write(bytes) != bytes.size() || !out.flush()) {
        say(QStringLiteral("cannot write the export: %1").arg(out.errorString()));
        return Refused;
    }
    return Ok;
}

struct Daemon {
    quint16 ingressPort = 0;
    QList<Manifest> manifests;
    QStringList errors;
    QString unreachable; // set when the daemon could not be asked
};

// daemon.info (for the ingress port) then projects.list, over the admin socket.
Daemon askDaemon(const QString &socket) {
    Daemon out;
    AdminClient client;
    client.setSocketPath(socket.isEmpty() ? AdminClient::defaultSocketPath() : socket);
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    const auto unreachable = [&](const QString &why) {
        if (out.unreachable.isEmpty())
            out.unreachable = why;
        loop.quit();
    };
    QObject::connect(&timer, &QTimer::timeout, &loop, [&] {
        unreachable(QStringLiteral("cannot reach the daemon at %1: no answer within %2 s")
                        .arg(client.socketPath())
                        .arg(kConnectTimeoutMs / 1000));
    });
    QObject::connect(&client, &AdminClient::connectError, &loop, [&](const QString &why) {
        unreachable(QStringLiteral("cannot reach the daemon: %1").arg(why));
    });
    const auto refusedBy = [&](const jsonrpc::Message &r, const char *method) {
        if (r.errorCode() == jsonrpc::kConnectionLost)
            return unreachable(r.errorMessage());
        out.errors << QStringLiteral("%1: %2 (code %3)")
                          .arg(QLatin1String(method), r.errorMessage())
                          .arg(r.errorCode());
        loop.quit();
    };
    QObject::connect(&client, &AdminClient::connected, &loop, [&] {
        client.call(QLatin1String(protocol::method::DaemonInfo), {}, [&](const jsonrpc::Message &info) {
            if (!info.isResponse())
                return refusedBy(info, protocol::method::DaemonInfo);
            const int port = info.result()[QLatin1String("ingress_port")].toInt();
            out.ingressPort = port > 0 && port <= 65535 ? quint16(port) : k8s::kDefaultIngressPort;
            client.call(QLatin1String(protocol::method::ProjectsList), {}, [&](const jsonrpc::Message &list) {
                if (!list.isResponse())
                    return refusedBy(list, protocol::method::ProjectsList);
                timer.stop();
                for (const QJsonValue &p : list.result()[QLatin1String("projects")].toArray()) {
                    const QString name = p[QLatin1String("name")].toString();
                    const ManifestParseResult parsed = Manifest::parse(p[QLatin1String("manifest")]);
                    if (parsed.ok())
                        out.manifests.append(*parsed.manifest);
                    else
                        for (const ValidationError &e : parsed.errors)
                            out.errors
                                << QStringLiteral("the daemon's project '%1': %2").arg(name, e.toString());
                }
                loop.quit();
            });
        });
    });
    timer.start(kConnectTimeoutMs);
    client.connectToDaemon();
    if (out.unreachable.isEmpty())
        loop.exec();
    return out;
}

} // namespace

int exportMain(const QStringList &arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Export projects as Kubernetes objects: a Gateway API Gateway with a listener per port and "
        "protocol, HTTPRoute / TCPRoute / UDPRoute objects, a Service per project, a Deployment per "
        "project that runs something, an EndpointSlice per upstream. Ready for `kubectl apply -f -`.\n\n"
        "Without MANIFEST arguments it exports the running daemon's projects; with manifest files or "
        "folders (searched for portico.json) it works offline. See docs/scaling.md."));
    parser.addHelpOption();
    const QCommandLineOption nsOpt(
        QStringLiteral("namespace"),
        QStringLiteral("Namespace of every object (default: none, kubectl's current)."),
        QStringLiteral("NS"));
    const QCommandLineOption classOpt(QStringLiteral("gateway-class"),
                                      QStringLiteral("The Gateway's gatewayClassName (default: %1).")
                                          .arg(QLatin1String(k8s::kDefaultGatewayClass)),
                                      QStringLiteral("NAME"));
    const QCommandLineOption imageOpt(QStringLiteral("image"),
                                      QStringLiteral("Container image of a project that runs something "
                                                     "(process, deno, static, dockerfile); repeatable."),
                                      QStringLiteral("PROJECT=REF"));
    const QCommandLineOption skipOpt(QStringLiteral("skip-missing-images"),
                                     QStringLiteral("Leave out the Deployment of a project without --image "
                                                    "(a warning) instead of refusing."));
    const QCommandLineOption outputOpt({QStringLiteral("o"), QStringLiteral("output")},
                                       QStringLiteral("yaml (default) or json (a List)."),
                                       QStringLiteral("FORMAT"));
    const QCommandLineOption socketOpt(
        QStringLiteral("socket"),
        QStringLiteral("Admin socket (default: $PORTICO_SOCKET, else the daemon's default)."),
        QStringLiteral("PATH"));
    parser.addOptions({nsOpt, classOpt, imageOpt, skipOpt, outputOpt, socketOpt});
    parser.addPositionalArgument(QStringLiteral("kubernetes"),
                                 QStringLiteral("What to export to (the only target)."),
                                 QStringLiteral("kubernetes"));
    parser.addPositionalArgument(QStringLiteral("MANIFEST"),
                                 QStringLiteral("Manifest files or folders (offline)."),
                                 QStringLiteral("[MANIFEST...]"));
    if (!parser.parse(QStringList{QStringLiteral("porticoctl export")} + arguments))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return Ok;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty() || positional.first() != QLatin1String("kubernetes"))
        return usage(
            positional.isEmpty()
                ? QStringLiteral("export: say what to export to: kubernetes")
                : QStringLiteral("export: unknown target '%1' (only kubernetes)").arg(positional.first()));
    const QString format = parser.isSet(outputOpt) ? parser.value(outputOpt) : QStringLiteral("yaml");
    if (format != QLatin1String("yaml") && format != QLatin1String("json"))
        return usage(QStringLiteral("-o %1: the format is yaml or json").arg(format));

    k8s::Options options;
    options.ns = parser.value(nsOpt);
    if (parser.isSet(classOpt))
        options.gatewayClass = parser.value(classOpt);
    options.skipMissingImages = parser.isSet(skipOpt);
    QStringList errors;
    for (const QString &image : parser.values(imageOpt)) {
        const qsizetype eq = image.indexOf(QLatin1Char('='));
        const QString project = image.left(eq);
        if (eq <= 0)
            errors << QStringLiteral("--image %1: expected PROJECT=REF, e.g. --image "
                                     "my-api=registry.example.com/my-api:1.0")
                          .arg(image);
        else if (options.images.contains(project))
            errors << QStringLiteral("--image %1: project '%2' has an image already (%3)")
                          .arg(image, project, options.images.value(project));
        else
            options.images.insert(project, image.mid(eq + 1));
    }
    if (!errors.isEmpty())
        return refuse(errors);

    const QStringList inputs = positional.mid(1);
    QList<Manifest> manifests;
    if (inputs.isEmpty()) {
        const Daemon daemon = askDaemon(parser.value(socketOpt));
        if (!daemon.unreachable.isEmpty()) {
            say(daemon.unreachable);
            say(QStringLiteral("(give manifest files or folders to export without a daemon)"));
            return Unreachable;
        }
        if (!daemon.errors.isEmpty())
            return refuse(daemon.errors);
        options.ingressPort = daemon.ingressPort;
        manifests = daemon.manifests;
    } else {
        if (parser.isSet(socketOpt))
            return usage(QStringLiteral("--socket is for exporting the daemon's projects; "
                                        "manifests are exported without a daemon"));
        const k8s::LoadedManifests loaded = k8s::loadManifests(inputs);
        if (!loaded.ok())
            return refuse(loaded.errors);
        manifests = loaded.manifests;
    }

    const k8s::Result result = k8s::exportProjects(manifests, options);
    if (!result.ok())
        return refuse(result.errors);
    for (const QString &w : result.warnings)
        say(QStringLiteral("warning: ") + w);
    for (const QString &n : result.notes)
        say(QStringLiteral("note: ") + n);
    if (!parser.isSet(classOpt))
        say(QStringLiteral("note: the Gateway's class is '%1', a placeholder: pass --gateway-class with your "
                           "cluster's (kubectl get gatewayclass)")
                .arg(options.gatewayClass));
    const QByteArray bytes = format == QLatin1String("json")
                                 ? QJsonDocument(k8s::asList(result.objects)).toJson(QJsonDocument::Indented)
                                 : yaml::documents(result.objects);
    return writeOut(bytes);
}

} // namespace portico::ctl

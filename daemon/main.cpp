// porticod: parses the command line and starts the Daemon. Logic lives in the libraries.
#include "config/config.h"
#include "core/daemon.h"
#include "core/logsink.h"
#include "core/lowports.h"
#include "core/sdnotify.h"
#include "core/signalwatcher.h"
#include "manifest.h"
#include "net/filelimit.h"
#include "paths.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

using namespace portico;

namespace {

int checkManifest(const QString &path) {
    QFile f(path);
    QTextStream err(stderr);
    if (!f.open(QIODevice::ReadOnly)) {
        err << path << ": cannot read: " << f.errorString() << "\n";
        return 1;
    }
    const auto result = Manifest::parse(f.read(4 * 1024 * 1024));
    if (!result.ok()) {
        for (const auto &e : result.errors)
            err << path << ": " << e.toString() << "\n";
        return 1;
    }
    QTextStream(stdout) << path << ": ok (project '" << result.manifest->name << "', runtime "
                        << runtimeName(result.manifest->runtime) << ")\n";
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("porticod"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Portico daemon: owns every listener and relays every byte."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOpt(
        QStringLiteral("config"),
        QStringLiteral("JSON config file (default: %1, when it exists).").arg(paths::defaultConfigFile()),
        QStringLiteral("FILE"));
    const QCommandLineOption portOpt(QStringLiteral("ingress-port"),
                                     QStringLiteral("HTTP ingress port (default 8080)."),
                                     QStringLiteral("N"));
    const QCommandLineOption bindOpt(QStringLiteral("bind"),
                                     QStringLiteral("Address to listen on (default 127.0.0.1)."),
                                     QStringLiteral("ADDR"));
    const QCommandLineOption socketOpt(QStringLiteral("admin-socket"), QStringLiteral("Admin socket path."),
                                       QStringLiteral("PATH"));
    const QCommandLineOption stateOpt(QStringLiteral("state-dir"), QStringLiteral("State directory."),
                                      QStringLiteral("DIR"));
    const QCommandLineOption metricsOpt(
        QStringLiteral("metrics-listen"),
        QStringLiteral("Serve Prometheus /metrics and /healthz on HOST:PORT (e.g. 127.0.0.1:9464)."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption checkOpt(
        QStringLiteral("check-manifest"),
        QStringLiteral("Validate a manifest offline, print every error, exit 0/1."), QStringLiteral("FILE"));
    const QCommandLineOption printOpt(QStringLiteral("print-config"),
                                      QStringLiteral("Print the effective configuration as JSON and exit."));
    parser.addOptions({configOpt, portOpt, bindOpt, socketOpt, stateOpt, metricsOpt, checkOpt, printOpt});
    parser.process(app);

    QTextStream err(stderr);
    if (parser.isSet(checkOpt))
        return checkManifest(parser.value(checkOpt));

    Config config;
    QStringList errors;
    // The packaged /etc/portico/porticod.json (or a user's ~/.config/portico/porticod.json)
    // applies without --config; a file named with --config must exist.
    const QString configFile = parser.isSet(configOpt) ? parser.value(configOpt) : paths::defaultConfigFile();
    if ((parser.isSet(configOpt) || QFileInfo::exists(configFile)) &&
        !Config::load(configFile, &config, &errors)) {
        for (const auto &e : errors)
            err << "porticod: " << e << "\n";
        return 1;
    }
    QJsonObject overrides;
    if (parser.isSet(portOpt)) {
        bool ok = false;
        const int port = parser.value(portOpt).toInt(&ok);
        if (!ok) {
            err << "porticod: --ingress-port: '" << parser.value(portOpt) << "' is not a number\n";
            return 1;
        }
        overrides.insert(QStringLiteral("ingress_port"), port);
    }
    if (parser.isSet(bindOpt))
        overrides.insert(QStringLiteral("bind"), parser.value(bindOpt));
    if (parser.isSet(socketOpt))
        overrides.insert(QStringLiteral("admin_socket"),
                         QFileInfo(parser.value(socketOpt)).absoluteFilePath());
    if (parser.isSet(stateOpt))
        overrides.insert(QStringLiteral("state_dir"), QFileInfo(parser.value(stateOpt)).absoluteFilePath());
    if (parser.isSet(metricsOpt))
        overrides.insert(QStringLiteral("metrics_listen"), parser.value(metricsOpt));
    if (!config.apply(overrides, &errors)) {
        for (const auto &e : errors)
            err << "porticod: --" << e << "\n";
        return 1;
    }
    config.fillDefaults();
    if (parser.isSet(printOpt)) {
        QTextStream(stdout) << QJsonDocument(config.toJson()).toJson(QJsonDocument::Indented);
        return 0;
    }

    // From here on the daemon runs event loops: logging must never block them.
    logsink::install();
    QString limitError;
    if (raiseFileLimit(&limitError) < 0)
        err << "porticod: warning: " << limitError << "\n";
    if (const QString advice = lowPortAdvice(config); !advice.isEmpty())
        qCWarning(lcLowPorts).noquote() << advice;

    // Before the daemon starts any backend: it takes $NOTIFY_SOCKET out of the environment.
    ServiceNotifier notifier;
    Daemon daemon(config);
    notifier.watch(&daemon);
    QString error;
    if (!daemon.start(&error)) {
        logsink::shutdown(); // what it logged on the way comes first
        err << "porticod: " << error << "\n";
        return 1;
    }

    SignalWatcher signals;
    bool stopping = false;
    QObject::connect(&signals, &SignalWatcher::terminate, &app, [&] {
        if (stopping)
            return;
        stopping = true;
        notifier.stopping();
        daemon.shutdown([] { QCoreApplication::exit(0); });
    });
    QObject::connect(&signals, &SignalWatcher::reload, &daemon,
                     [&] { daemon.reload({}, [](const ApiResult &) {}); });
    const int code = app.exec();
    logsink::shutdown();
    return code;
}

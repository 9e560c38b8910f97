// porticoctl: a client of the admin socket (never of the daemon's libraries). Parses the
// command line and runs one command; the work is in ctl.cpp.
#include "ctl.h"
#include "exportcommand.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

using namespace portico::ctl;

namespace {

int usage(QCommandLineParser &parser, const QString &problem) {
    QTextStream err(stderr);
    err << "porticoctl: " << problem << "\n\n" << parser.helpText();
    return Refused;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("porticoctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));
    // `export` has a command line of its own (daemon/ctl/export).
    if (app.arguments().value(1) == QLatin1String("export"))
        return exportMain(app.arguments().mid(2));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Control porticod over its admin socket.\n\n"
        "Commands:\n"
        "  status                 daemon version, uptime, listeners\n"
        "  routes                 the routing table\n"
        "  projects               deployed projects\n"
        "  deploy FILE [--dry-run] deploy (or only validate) a manifest\n"
        "  undeploy NAME          remove a project\n"
        "  restart NAME           restart a project's backend\n"
        "  logs NAME [-n N] [-f]  a project's recent output, optionally followed\n"
        "  watch [--stats]        live events\n"
        "  export kubernetes ...  Kubernetes objects (porticoctl export --help)\n\n"
        "Exit codes: 0 ok, 1 refused (validation, conflict, not found, usage), 2 cannot reach the daemon."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("Print JSON for scripts."));
    const QCommandLineOption socketOpt(
        QStringLiteral("socket"),
        QStringLiteral("Admin socket (default: $PORTICO_SOCKET, else your own daemon's "
                       "$XDG_RUNTIME_DIR/portico/admin.sock, else /run/portico/admin.sock)."),
        QStringLiteral("PATH"));
    const QCommandLineOption dryRunOpt(QStringLiteral("dry-run"), QStringLiteral("deploy: validate only."));
    const QCommandLineOption linesOpt({QStringLiteral("n"), QStringLiteral("lines")},
                                      QStringLiteral("logs: how many lines (default 100)."),
                                      QStringLiteral("N"));
    const QCommandLineOption followOpt({QStringLiteral("f"), QStringLiteral("follow")},
                                       QStringLiteral("logs: keep printing new lines."));
    const QCommandLineOption statsOpt(QStringLiteral("stats"),
                                      QStringLiteral("watch: include the 1 Hz stats ticks."));
    parser.addOptions({jsonOpt, socketOpt, dryRunOpt, linesOpt, followOpt, statsOpt});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("What to do (see above)."));
    parser.process(app);

    Options opt;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usage(parser, QStringLiteral("no command given"));
    opt.command = positional.first();
    opt.args = positional.mid(1);
    opt.json = parser.isSet(jsonOpt);
    opt.socket = parser.value(socketOpt);
    opt.dryRun = parser.isSet(dryRunOpt);
    opt.follow = parser.isSet(followOpt);
    opt.stats = parser.isSet(statsOpt);
    if (!Ctl::commands().contains(opt.command))
        return usage(parser, QStringLiteral("unknown command '%1'").arg(opt.command));
    const bool needsArg = opt.command == QLatin1String("deploy") ||
                          opt.command == QLatin1String("undeploy") ||
                          opt.command == QLatin1String("restart") || opt.command == QLatin1String("logs");
    const qsizetype wanted = needsArg ? 1 : 0;
    if (opt.args.size() != wanted)
        return usage(parser, needsArg ? QStringLiteral("'%1' takes exactly one argument").arg(opt.command)
                                      : QStringLiteral("'%1' takes no argument").arg(opt.command));
    if (parser.isSet(linesOpt)) {
        bool ok = false;
        opt.lines = parser.value(linesOpt).toInt(&ok);
        if (!ok || opt.lines < 1 || opt.lines > 10000)
            return usage(
                parser,
                QStringLiteral("-n: '%1' is not a number from 1 to 10000").arg(parser.value(linesOpt)));
    }

    Ctl ctl(opt);
    QObject::connect(
        &ctl, &Ctl::finished, &app, [](int code) { QCoreApplication::exit(code); }, Qt::QueuedConnection);
    ctl.start();
    return app.exec();
}

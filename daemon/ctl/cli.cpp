#include "cli.h"

#include "session.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

namespace portico::ctl {

namespace {

const QString kHelpHint = QStringLiteral("see 'porticoctl --help'");

QString optionSynopsis(const OptionSpec &o) {
    QStringList names;
    for (const auto &n : o.names)
        names.append((n.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + n);
    QString s = names.join(QStringLiteral(", "));
    if (!o.valueName.isEmpty())
        s += QLatin1Char(' ') + o.valueName;
    return s;
}

QString optionHelp(const OptionSpec &o) {
    return o.defaultValue.isEmpty() ? o.help : QStringLiteral("%1 (default %2)").arg(o.help, o.defaultValue);
}

QString commandSynopsis(const Command &c) {
    return c.argsSynopsis.isEmpty() ? c.name() : c.name() + QLatin1Char(' ') + c.argsSynopsis;
}

const QList<OptionSpec> &globalOptions() {
    static const QList<OptionSpec> options{
        {{QStringLiteral("socket")},
         QStringLiteral("PATH"),
         QStringLiteral(
             "the admin socket (default: $PORTICO_SOCKET, else $XDG_RUNTIME_DIR/portico/admin.sock, "
             "else /run/portico/admin.sock for root)"),
         {}},
        {{QStringLiteral("json")}, {}, QStringLiteral("print the daemon's JSON, for scripts"), {}},
        {{QStringLiteral("color")},
         QStringLiteral("WHEN"),
         QStringLiteral("auto: on a terminal unless NO_COLOR is set; always; never"),
         QStringLiteral("auto")},
        {{QStringLiteral("h"), QStringLiteral("help")},
         {},
         QStringLiteral("this help; COMMAND --help for one command"),
         {}},
        {{QStringLiteral("version")}, {}, QStringLiteral("porticoctl's version"), {}},
    };
    return options;
}

QString columns(const QList<QPair<QString, QString>> &rows, int indentLeft) {
    qsizetype width = 0;
    for (const auto &r : rows)
        width = qMax(width, r.first.size());
    QString out;
    for (const auto &r : rows)
        out += QString(indentLeft, QLatin1Char(' ')) + r.first.leftJustified(width + 2) + r.second +
               QLatin1Char('\n');
    return out;
}

const char kExitCodes[] = "Exit codes:\n"
                          "  0   done\n"
                          "  1   refused by the daemon: invalid manifest, port conflict, no such project,\n"
                          "      the backend did not start\n"
                          "  2   cannot reach the daemon, or the connection to it was lost\n"
                          "  64  usage error: unknown command or option, wrong arguments\n";

int usageError(const QString &problem) {
    QTextStream err(stderr);
    err << "porticoctl: " << problem << " (" << kHelpHint << ")\n";
    return Usage;
}

QCommandLineOption toOption(const OptionSpec &o) {
    return o.valueName.isEmpty() ? QCommandLineOption(o.names, o.help)
                                 : QCommandLineOption(o.names, o.help, o.valueName, o.defaultValue);
}

} // namespace

QString helpText(const CommandTable &table) {
    QString out =
        QStringLiteral("Usage: porticoctl [--socket PATH] [--json] [--color WHEN] COMMAND [ARGS]\n\n"
                       "Control porticod, Portico's daemon, over its admin socket.\n\nCommands:\n");
    QList<QPair<QString, QString>> rows;
    for (const auto &c : table.commands()) {
        rows.append({commandSynopsis(c), c.summary});
        for (const auto &o : c.options)
            rows.append({QStringLiteral("  ") + optionSynopsis(o), optionHelp(o)});
    }
    out += columns(rows, 2);
    out += QStringLiteral("\nOptions:\n");
    rows.clear();
    for (const auto &o : globalOptions())
        rows.append({optionSynopsis(o), optionHelp(o)});
    out += columns(rows, 2);
    return out + QLatin1Char('\n') + QLatin1String(kExitCodes);
}

QString commandHelp(const Command &command) {
    QString out = QStringLiteral("Usage: porticoctl [--socket PATH] [--json] [--color WHEN] %1\n\n%2\n")
                      .arg(commandSynopsis(command), command.summary);
    if (!command.options.isEmpty()) {
        QList<QPair<QString, QString>> rows;
        for (const auto &o : command.options)
            rows.append({optionSynopsis(o), optionHelp(o)});
        out += QStringLiteral("\nOptions:\n") + columns(rows, 2);
    }
    return out + QLatin1Char('\n') + QLatin1String(kExitCodes);
}

int runCli(const QStringList &arguments, const CommandTable &table) {
    // A command with a command line of its own gets it whole.
    for (const auto &c : table.commands())
        if (c.ownCommandLine && arguments.value(1) == c.words.first())
            return c.ownCommandLine(arguments.mid(2));

    QCommandLineParser parser;
    QList<OptionSpec> specs = globalOptions();
    for (const auto &o : table.allOptions()) {
        bool clash = false;
        for (const auto &g : specs)
            clash = clash || g.names.last() == o.names.last();
        if (!clash)
            specs.append(o);
    }
    for (const auto &o : specs)
        parser.addOption(toOption(o));
    if (!parser.parse(arguments)) {
        // "Unknown option 'x'." as a clause of our one line: "unknown option 'x'".
        QString problem = parser.errorText();
        if (problem.endsWith(QLatin1Char('.')))
            problem.chop(1);
        if (!problem.isEmpty())
            problem[0] = problem.at(0).toLower();
        return usageError(problem);
    }

    QTextStream out(stdout);
    const QStringList positional = parser.positionalArguments();
    if (parser.isSet(QStringLiteral("version"))) {
        out << "porticoctl " << QCoreApplication::applicationVersion() << "\n";
        return Ok;
    }
    const bool help = parser.isSet(QStringLiteral("help")) ||
                      (!positional.isEmpty() && positional.first() == QLatin1String("help"));
    const QStringList words =
        !positional.isEmpty() && positional.first() == QLatin1String("help") ? positional.mid(1) : positional;
    if (words.isEmpty()) {
        if (help) {
            out << helpText(table);
            return Ok;
        }
        return usageError(QStringLiteral("no command given"));
    }

    int used = 0;
    const Command *command = table.find(words, &used);
    if (!command) {
        const QString suggestion = table.suggest(words.first());
        return usageError(
            suggestion.isEmpty()
                ? QStringLiteral("unknown command '%1'").arg(words.first())
                : QStringLiteral("unknown command '%1'; did you mean '%2'?").arg(words.first(), suggestion));
    }
    // "projects foo": a word after a command that has subcommands names none of them.
    const QStringList args = words.mid(used);
    const auto subs = table.subcommands(command->words.first());
    if (command->words.size() == 1 && !subs.isEmpty() && !args.isEmpty() && command->maxArgs == 0) {
        QStringList names;
        for (const auto *c : subs)
            names.append(QStringLiteral("'%1'").arg(commandSynopsis(*c)));
        return usageError(QStringLiteral("'%1' has no subcommand '%2' (there is %3)")
                              .arg(command->name(), args.first(), names.join(QStringLiteral(", "))));
    }
    if (help) {
        out << commandHelp(*command);
        return Ok;
    }

    // Options that belong to another command are mistakes, not something to ignore.
    Invocation inv;
    inv.command = command;
    inv.args = args;
    for (const QString &given : parser.optionNames()) {
        bool global = false;
        for (const auto &g : globalOptions())
            global = global || g.names.contains(given);
        if (global)
            continue;
        const OptionSpec *own = nullptr;
        for (const auto &o : command->options)
            if (o.names.contains(given))
                own = &o;
        if (!own)
            return usageError(QStringLiteral("'%1' does not take %2%3")
                                  .arg(command->name(),
                                       given.size() == 1 ? QStringLiteral("-") : QStringLiteral("--"),
                                       given));
        inv.options.insert(own->names.last(), own->valueName.isEmpty() ? QString() : parser.value(given));
    }
    const auto argCount = int(args.size());
    if (argCount < command->minArgs || (command->maxArgs >= 0 && argCount > command->maxArgs)) {
        QString problem;
        if (command->maxArgs == 0)
            problem = QStringLiteral("'%1' takes no argument").arg(command->name());
        else if (argCount < command->minArgs)
            problem = QStringLiteral("'%1' needs %2").arg(command->name(), command->argsSynopsis);
        else
            problem = QStringLiteral("'%1' takes only %2").arg(command->name(), command->argsSynopsis);
        return usageError(problem);
    }
    const auto colorMode = Style::colorModeFromName(parser.value(QStringLiteral("color")));
    if (!colorMode)
        return usageError(QStringLiteral("--color: '%1' is not auto, always or never")
                              .arg(parser.value(QStringLiteral("color"))));
    inv.socket = parser.value(QStringLiteral("socket"));
    inv.json = parser.isSet(QStringLiteral("json"));
    inv.out = Style::detect(1, *colorMode);
    inv.err = Style::detect(2, *colorMode);
    if (command->check) {
        const QString problem = command->check(inv);
        if (!problem.isEmpty())
            return usageError(problem);
    }

    Session session(inv);
    QObject::connect(
        &session, &Session::finished, QCoreApplication::instance(),
        [](int code) { QCoreApplication::exit(code); }, Qt::QueuedConnection);
    session.start();
    return QCoreApplication::exec();
}

} // namespace portico::ctl

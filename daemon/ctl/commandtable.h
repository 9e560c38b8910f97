#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

// porticoctl's commands as data: the parser, the help text and the dispatch all read this
// table, so a new command is one add() call (see commands.h for where they are added).
namespace portico::ctl {

class Session;
struct Invocation;

// An option a command takes, besides the global ones (--socket, --json, --color).
struct OptionSpec {
    QStringList names; // {"n", "lines"}: short and long
    QString valueName; // empty for a flag
    QString help;
    QString defaultValue; // shown in the help
};

// Built with designated initializers ({.words = ..., .run = ...}); every member has a
// default, so a command names only what it needs.
struct Command {
    QStringList words{};    // {"projects", "get"}: what is typed before the arguments
    QString argsSynopsis{}; // "NAME", "FILE|DIR"
    QString summary{};      // one line for --help
    int minArgs = 0;
    int maxArgs = 0; // -1: any number
    QList<OptionSpec> options{};
    bool needsDaemon = true; // false: runs without connecting (e.g. a local conversion)
    // Checks the option values before anything is sent; an error is a usage error.
    std::function<QString(const Invocation &)> check{};
    // Does the work; ends with Session::finish() or fail(). Runs once connected when
    // needsDaemon is set.
    std::function<void(Session &)> run{};
    // Instead of run: a command with a command line of its own (its options are its own
    // business) gets every argument after its first word and returns the exit code.
    std::function<int(const QStringList &arguments)> ownCommandLine{};

    QString name() const { return words.join(QLatin1Char(' ')); }
};

class CommandTable {
public:
    void add(Command command);
    const QList<Command> &commands() const { return m_commands; }
    // The command named by the first positional words (the longest match), and how many
    // words it took; null when none matches.
    const Command *find(const QStringList &positional, int *wordsUsed) const;
    // Commands whose first word is `word` and that have more words ("projects get").
    QList<const Command *> subcommands(const QString &word) const;
    // The known command nearest to a mistyped one ("deplyo" -> "deploy"), if close.
    QString suggest(const QString &typo) const;
    // Every option of every command, each name once (for the parser).
    QList<OptionSpec> allOptions() const;

private:
    QList<Command> m_commands;
};

} // namespace portico::ctl

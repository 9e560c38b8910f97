#pragma once

#include "commandtable.h"

#include <QStringList>

namespace portico::ctl {

// porticoctl's entry: parses the command line against the table, prints help or one line
// for a usage error (exit 64), else runs the command in the event loop and returns its
// exit code.
int runCli(const QStringList &arguments, const CommandTable &table);

// The whole help (every command of the table), and one command's.
QString helpText(const CommandTable &table);
QString commandHelp(const Command &command);

} // namespace portico::ctl

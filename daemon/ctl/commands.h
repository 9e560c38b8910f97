#pragma once

#include "commandtable.h"
#include "session.h"

#include <QString>

// Where porticoctl's commands are added to the table. A new command (or group) is a
// function like these, called from builtinCommands() in commands.cpp.
namespace portico::ctl {

CommandTable builtinCommands();

void addQueryCommands(CommandTable &table);  // status, routes, projects, projects get, stats, audit
void addChangeCommands(CommandTable &table); // deploy, undeploy, restart, reload
void addStreamCommands(CommandTable &table); // logs, watch

// An integer option's value in [min, max], or its default when not given; a usage error
// when it is something else.
QString checkIntOption(const Invocation &inv, const QString &longName, int min, int max);
int intOption(const Invocation &inv, const QString &longName, int fallback);

} // namespace portico::ctl

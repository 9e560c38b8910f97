#include "commands.h"

#include "exportcommand.h"

namespace portico::ctl {

CommandTable builtinCommands() {
    CommandTable table;
    addQueryCommands(table);
    addChangeCommands(table);
    addStreamCommands(table);
    // daemon/ctl/export: Kubernetes objects from the daemon's projects or manifest files.
    Command exportCommand;
    exportCommand.words = QStringList{QStringLiteral("export")};
    exportCommand.argsSynopsis = QStringLiteral("kubernetes ...");
    exportCommand.summary = QStringLiteral("Kubernetes objects of the projects (porticoctl export --help)");
    exportCommand.maxArgs = -1;
    exportCommand.ownCommandLine = exportMain;
    table.add(exportCommand);
    return table;
}

QString checkIntOption(const Invocation &inv, const QString &longName, int min, int max) {
    if (!inv.isSet(longName))
        return {};
    bool ok = false;
    const int n = inv.value(longName).toInt(&ok);
    if (!ok || n < min || n > max)
        return QStringLiteral("--%1: '%2' is not a number from %3 to %4")
            .arg(longName, inv.value(longName))
            .arg(min)
            .arg(max);
    return {};
}

int intOption(const Invocation &inv, const QString &longName, int fallback) {
    return inv.isSet(longName) ? inv.value(longName).toInt() : fallback;
}

} // namespace portico::ctl

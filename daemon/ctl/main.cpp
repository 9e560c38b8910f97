// porticoctl: a client of the admin socket (never of the daemon's libraries). The commands
// are in the table of commands.cpp; this only starts them.
#include "cli.h"
#include "commands.h"

#include <QCoreApplication>

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("porticoctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));
    return portico::ctl::runCli(QCoreApplication::arguments(), portico::ctl::builtinCommands());
}

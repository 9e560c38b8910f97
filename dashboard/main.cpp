#include "adminclient.h"
#include "widgets/mainwindow.h"
#include "widgets/screenshot.h"
#include "widgets/theme.h"

#include <QApplication>
#include <QCommandLineParser>

#include <cstdio>
#include <cstring>
#include <memory>

namespace {

// Whether an option is given, as "--name" or "--name=value".
bool hasArg(int argc, char **argv, std::initializer_list<const char *> names) {
    for (int i = 1; i < argc; ++i) {
        for (const char *n : names) {
            const size_t len = std::strlen(n);
            if (std::strncmp(argv[i], n, len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '='))
                return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char **argv) {
    // --screenshot on a host without a display renders offscreen instead of failing.
    if (hasArg(argc, argv, {"--screenshot"}) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
        qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // --help and --version print without needing a display either.
    const bool textOnly = hasArg(argc, argv, {"--help", "-h", "--help-all", "--version", "-v"});
    std::unique_ptr<QCoreApplication> app = textOnly ? std::make_unique<QCoreApplication>(argc, argv)
                                                     : std::make_unique<QApplication>(argc, argv);
    QApplication::setApplicationName(QStringLiteral("portico-dashboard"));
    QApplication::setOrganizationName(QStringLiteral("portico")); // QSettings: ~/.config/portico/
    QApplication::setApplicationVersion(QStringLiteral(PORTICO_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Portico's dashboard: routes, projects and traffic of porticod."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption socket(QStringLiteral("socket"),
                                    QStringLiteral("The daemon's admin socket (default: %1).")
                                        .arg(portico::AdminClient::defaultSocketPath()),
                                    QStringLiteral("PATH"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the window to a PNG once the first data "
                                                       "arrived (or the timeout passed), then exit."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption timeout(QStringLiteral("screenshot-timeout"),
                                     QStringLiteral("How long --screenshot waits for data (default 10000)."),
                                     QStringLiteral("MS"), QStringLiteral("10000"));
    const QCommandLineOption settle(QStringLiteral("screenshot-settle"),
                                    QStringLiteral("How long --screenshot lets the traffic chart fill after "
                                                   "the first data (default 3500)."),
                                    QStringLiteral("MS"), QStringLiteral("3500"));
    const QCommandLineOption theme(QStringLiteral("theme"),
                                   QStringLiteral("system (default), light or dark."), QStringLiteral("NAME"),
                                   QStringLiteral("system"));
    const QCommandLineOption page(QStringLiteral("page"),
                                  QStringLiteral("Open on this page: overview, ports, audit, events, or "
                                                 "project:NAME."),
                                  QStringLiteral("PAGE"));
    const QCommandLineOption deploy(
        QStringLiteral("deploy"),
        QStringLiteral("Open the deploy dialog with this manifest (or its folder)."), QStringLiteral("FILE"));
    parser.addOptions({socket, screenshot, timeout, settle, theme, page, deploy});
    parser.process(*app);
    QString error;
    if (!portico::applyTheme(parser.value(theme), &error)) {
        std::fprintf(stderr, "portico-dashboard: %s\n", qPrintable(error));
        return 64;
    }

    portico::AdminClient client;
    client.setSocketPath(parser.isSet(socket) ? parser.value(socket)
                                              : portico::AdminClient::defaultSocketPath());
    client.setAutoReconnect(true, 250, 5000);
    portico::MainWindow window(&client);
    if (parser.isSet(page)) {
        const QString wanted = parser.value(page);
        const auto known = portico::Sidebar::pageFromKey(wanted.section(QLatin1Char(':'), 0, 0));
        if (!known || (*known == portico::Sidebar::Page::Project) != wanted.contains(QLatin1Char(':'))) {
            std::fprintf(
                stderr,
                "portico-dashboard: unknown page '%s' (overview, ports, audit, events, project:NAME)\n",
                qPrintable(wanted));
            return 64;
        }
        window.showPage(*known, wanted.section(QLatin1Char(':'), 1));
    }
    window.show();
    client.connectToDaemon();
    if (parser.isSet(deploy))
        window.openDeployDialog(parser.value(deploy));

    if (parser.isSet(screenshot)) {
        portico::screenshotWhenReady(&window, parser.value(screenshot),
                                     qBound(100, parser.value(timeout).toInt(), 600'000),
                                     qBound(0, parser.value(settle).toInt(), 600'000),
                                     [](bool written) { QCoreApplication::exit(written ? 0 : 1); });
    }
    return QCoreApplication::exec();
}

// portico-runtimeharness: starts one process backend through portico_runtime, exactly as
// the daemon does, and prints "child <pid> port <port>" on stdout once it is ready
// ("failed <reason>" and exit code 1 otherwise), and every line of the backend's output as
// "log <line>". A test kills this harness with SIGKILL
// and checks that the child died with it (PR_SET_PDEATHSIG).
//
//   portico-runtimeharness PROGRAM [ARGS...]

#include "runtime/backend.h"
#include "runtime/portallocator.h"

#include <QCoreApplication>
#include <QDir>
#include <QTemporaryDir>

#include <cstdio>

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    if (args.isEmpty()) {
        std::fprintf(stderr, "usage: portico-runtimeharness PROGRAM [ARGS...]\n");
        return 64;
    }
    QTemporaryDir logs;
    portico::Config config;
    config.readyTimeoutMs = 10'000;
    portico::PortAllocator ports(config.backendPortMin, config.backendPortMax);
    portico::RuntimeContext context;
    context.config = &config;
    context.ports = &ports;
    context.logDir = logs.path();

    portico::Manifest manifest;
    manifest.name = QStringLiteral("harness");
    manifest.runtime = portico::RuntimeKind::Process;
    manifest.command = args;
    QString error;
    auto backend = portico::createBackend(manifest, QDir::currentPath(), context, &error);
    if (!backend) {
        std::fprintf(stdout, "failed %s\n", qPrintable(error));
        return 1;
    }
    QObject::connect(backend.get(), &portico::Backend::ready, &app, [&backend] {
        std::fprintf(stdout, "child %lld port %d\n", static_cast<long long>(backend->pid()),
                     int(backend->target().port));
        std::fflush(stdout);
    });
    QObject::connect(backend.get(), &portico::Backend::logLine, &app, [](const QString &line) {
        std::fprintf(stdout, "log %s\n", qPrintable(line));
        std::fflush(stdout);
    });
    QObject::connect(backend.get(), &portico::Backend::failed, &app, [](const QString &reason) {
        std::fprintf(stdout, "failed %s\n", qPrintable(reason));
        std::fflush(stdout);
        QCoreApplication::exit(1);
    });
    backend->start();
    return app.exec();
}

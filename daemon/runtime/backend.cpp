#include "backend.h"

Q_LOGGING_CATEGORY(lcRuntime, "portico.runtime", QtInfoMsg)

namespace portico {

QString backendStateName(BackendState s) {
    switch (s) {
    case BackendState::Stopped:
        return QStringLiteral("stopped");
    case BackendState::Starting:
        return QStringLiteral("starting");
    case BackendState::Running:
        return QStringLiteral("running");
    case BackendState::Backoff:
        return QStringLiteral("backoff");
    case BackendState::Crashed:
        return QStringLiteral("crashed");
    case BackendState::Unhealthy:
        return QStringLiteral("unhealthy");
    }
    return {};
}

QString logStreamName(LogStream s) {
    switch (s) {
    case LogStream::Stdout:
        return QStringLiteral("stdout");
    case LogStream::Stderr:
        return QStringLiteral("stderr");
    case LogStream::Portico:
        return QStringLiteral("portico");
    }
    return {};
}

} // namespace portico

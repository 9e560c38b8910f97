#pragma once

#include <QByteArray>
#include <QLoggingCategory>
#include <QMutex>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcAccess)

namespace portico {

// One structured line per request (time, client, project, method, path, status, bytes each
// way, duration), written to the portico.access logging category and optionally to a file.
struct AccessRecord {
    QString client;
    QString project;
    QByteArray method;
    QByteArray path;
    int status = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    qint64 durationUs = 0;
};

class AccessLog {
public:
    explicit AccessLog(bool enabled) : m_enabled(enabled) {}
    bool enabled() const { return m_enabled; }
    void write(const AccessRecord &r);

private:
    bool m_enabled;
};

} // namespace portico

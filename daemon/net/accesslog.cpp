#include "accesslog.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

Q_LOGGING_CATEGORY(lcAccess, "portico.access", QtInfoMsg)

namespace portico {

void AccessLog::write(const AccessRecord &r) {
    if (!m_enabled)
        return;
    // When the record was written (the response ended), UTC: a log file keeps no time.
    const QString time = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    const QJsonObject o{{QStringLiteral("client"), r.client},
                        {QStringLiteral("project"), r.project},
                        {QStringLiteral("method"), QString::fromLatin1(r.method)},
                        {QStringLiteral("path"), QString::fromUtf8(r.path.left(2048))},
                        {QStringLiteral("status"), r.status},
                        {QStringLiteral("bytes_in"), double(r.bytesIn)},
                        {QStringLiteral("bytes_out"), double(r.bytesOut)},
                        {QStringLiteral("duration_ms"), double(r.durationUs) / 1000.0},
                        {QStringLiteral("time"), time}};
    qCInfo(lcAccess).noquote() << QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace portico

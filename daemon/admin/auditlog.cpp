#include "auditlog.h"

#include "adminserver.h" // lcAdmin

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>

namespace portico {

QJsonObject AuditEntry::toJson() const {
    QJsonObject o{
        {QStringLiteral("time"), time.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("uid"), double(uid)},
        {QStringLiteral("pid"), double(pid)},
        {QStringLiteral("method"), method},
        {QStringLiteral("project"), project.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(project)},
        {QStringLiteral("outcome"), outcome}};
    if (code != 0)
        o.insert(QStringLiteral("code"), code);
    if (!error.isEmpty())
        o.insert(QStringLiteral("error"), error);
    return o;
}

AuditLog::AuditLog(const QString &filePath, int capacity, qint64 maxFileBytes)
    : m_capacity(qMax(1, capacity)) {
    if (filePath.isEmpty())
        return;
    const QFileInfo fi(filePath);
    if (!QDir().mkpath(fi.absolutePath()))
        qCWarning(lcAdmin).noquote() << QStringLiteral("audit log: cannot create %1").arg(fi.absolutePath());
    m_file = std::make_unique<AppendFile>(filePath, maxFileBytes, 0600);
}

void AuditLog::record(AuditEntry entry) {
    if (!entry.time.isValid())
        entry.time = QDateTime::currentDateTimeUtc();
    if (entry.error.size() > kMaxErrorChars)
        entry.error = entry.error.left(kMaxErrorChars) + QStringLiteral("...");
    if (m_file) {
        QByteArray line = QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact);
        line.append('\n');
        const bool wasFailing = m_file->failing();
        QString error;
        if (m_file->append(line, &error)) {
            m_fileError.clear();
            if (wasFailing)
                qCWarning(lcAdmin).noquote()
                    << QStringLiteral("audit log: writing %1 again (%2 entries were not written; they are in "
                                      "audit.list until the daemon stops)")
                           .arg(m_file->path())
                           .arg(m_unwritten);
        } else {
            ++m_unwritten;
            // Loud once per spell of failures, not once per entry.
            if (!wasFailing || m_fileError != error)
                qCCritical(lcAdmin).noquote()
                    << QStringLiteral("audit log: %1; the entry (%2 %3 %4) is kept in memory only")
                           .arg(error, entry.method,
                                entry.project.isEmpty() ? QStringLiteral("-") : entry.project, entry.outcome);
            m_fileError = error;
        }
    }
    m_ring.push_back(std::move(entry));
    while (int(m_ring.size()) > m_capacity)
        m_ring.pop_front();
}

QList<AuditEntry> AuditLog::last(int limit) const {
    QList<AuditEntry> out;
    const int n = qBound(0, limit, int(m_ring.size()));
    for (auto it = m_ring.end() - n; it != m_ring.end(); ++it)
        out.append(*it);
    return out;
}

} // namespace portico

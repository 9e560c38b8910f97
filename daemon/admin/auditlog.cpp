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
    : m_capacity(qMax(1, capacity)), m_maxFileBytes(maxFileBytes) {
    if (filePath.isEmpty())
        return;
    m_file.setFileName(filePath);
    openFile();
}

bool AuditLog::openFile() {
    const QFileInfo fi(m_file.fileName());
    if (!QDir().mkpath(fi.absolutePath())) {
        m_fileError = QStringLiteral("cannot create %1").arg(fi.absolutePath());
        qCWarning(lcAdmin) << "audit log:" << m_fileError;
        return false;
    }
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        m_fileError = m_file.errorString();
        qCWarning(lcAdmin) << "audit log: cannot open" << m_file.fileName() << m_fileError;
        return false;
    }
    m_file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    m_fileError.clear();
    return true;
}

void AuditLog::record(AuditEntry entry) {
    if (!entry.time.isValid())
        entry.time = QDateTime::currentDateTimeUtc();
    if (entry.error.size() > kMaxErrorChars)
        entry.error = entry.error.left(kMaxErrorChars) + QStringLiteral("...");
    if (!m_file.fileName().isEmpty()) {
        if (m_file.isOpen() && m_file.size() > m_maxFileBytes) {
            // Keep one previous generation; the file never grows without bound.
            m_file.close();
            const QString old = m_file.fileName() + QStringLiteral(".1");
            QFile::remove(old);
            QFile::rename(m_file.fileName(), old);
        }
        if (m_file.isOpen() || openFile()) {
            QByteArray line = QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact);
            line.append('\n');
            if (m_file.write(line) != line.size() || !m_file.flush())
                qCWarning(lcAdmin) << "audit log: write failed:" << m_file.errorString();
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

#pragma once

#include "adminapi.h"
#include "store/statefile.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <deque>
#include <memory>

namespace portico {

// One recorded change request: who asked (SO_PEERCRED), what, and how it ended.
struct AuditEntry {
    QDateTime time;
    qint64 uid = -1;
    qint64 pid = -1;
    QString method;  // protocol method, e.g. "projects.deploy"
    QString project; // empty when the request named none
    QString outcome; // "ok", "refused" (validation, conflict, not found, bad params) or "failed"
    int code = 0;    // the error code, 0 on success
    QString error;   // the error sentence, empty on success
    QJsonObject toJson() const;
};

// The audit trail of every deploy, undeploy, restart, reload and refusal: an in-memory
// ring for audit.list, and JSON lines appended to a file (rotated once past a size) so
// that the record outlives the daemon. Writes are small appends on the control thread,
// each checked: an entry that cannot be written (a full disk) is still in the ring, and
// the daemon log says so (once per spell of failures, and again when writing works again).
class AuditLog {
    Q_DISABLE_COPY_MOVE(AuditLog)
public:
    // filePath empty: memory only.
    explicit AuditLog(const QString &filePath, int capacity = 1000, qint64 maxFileBytes = 16 * 1024 * 1024);
    void record(AuditEntry entry);
    // The newest `limit` entries, oldest first.
    QList<AuditEntry> last(int limit) const;
    int size() const { return int(m_ring.size()); }
    int capacity() const { return m_capacity; }
    QString filePath() const { return m_file ? m_file->path() : QString(); }
    // Why the last entry could not be written to the file; empty when it was.
    QString fileError() const { return m_fileError; }
    // Entries that did not reach the file.
    int unwritten() const { return m_unwritten; }

    static constexpr int kMaxErrorChars = 2000;

private:
    std::deque<AuditEntry> m_ring;
    int m_capacity;
    std::unique_ptr<AppendFile> m_file;
    QString m_fileError;
    int m_unwritten = 0;
};

} // namespace portico

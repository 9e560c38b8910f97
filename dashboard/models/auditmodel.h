#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QList>
#include <QTimer>

namespace portico {

class AdminClient;

// The audit trail (audit.list): who deployed, undeployed, restarted or reloaded what,
// when, and how it went; newest first. Loaded on every (re)connect and again shortly
// after events that come with an audited call (its view reloads it while shown too:
// not every audited call leaves an event behind).
class AuditModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditModel)
public:
    enum Column { Time, Who, Method, Project, Outcome, Error, ColumnCount };
    struct Entry {
        QDateTime time;
        qint64 uid = -1;
        qint64 pid = 0;
        QString method;
        QString project;
        QString outcome; // "ok", "refused", "failed"
        int code = 0;
        QString error;
        friend bool operator==(const Entry &, const Entry &) = default;
    };
    static constexpr int kLimit = 1000;

    explicit AuditModel(AdminClient *client, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void refresh(); // nothing while disconnected: every connect reloads
    bool isLoaded() const { return m_loaded; }
    Entry entry(int row) const { return m_entries.value(row); }
    // audit.list's entries (oldest first, as the daemon sends them).
    void applyEntries(const QJsonArray &entries);

Q_SIGNALS:
    void loaded();

private:
    QString userName(qint64 uid) const;

    AdminClient *m_client;
    QList<Entry> m_entries; // newest first
    QTimer m_soon;          // coalesces the refreshes events ask for
    bool m_loaded = false;
    mutable QHash<qint64, QString> m_users;
};

} // namespace portico

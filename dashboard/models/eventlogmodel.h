#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QJsonObject>
#include <QList>

namespace portico {

class AdminClient;

// The latest daemon events, newest first, at most maxRows() of them. stats.tick,
// project.log and routes.changed are left out: they are many and shown elsewhere.
class EventLogModel final : public QAbstractListModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventLogModel)
public:
    enum Role { KindRole = Qt::UserRole + 1 };
    explicit EventLogModel(AdminClient *client, int maxRows = 500, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    int maxRows() const { return m_max; }

    void addEvent(const QString &kind, const QJsonObject &data, const QDateTime &time);
    // One line saying what happened ("project 'site' is active").
    static QString describe(const QString &kind, const QJsonObject &data);

private:
    struct Entry {
        QDateTime time;
        QString kind;
        QString text;
    };
    QList<Entry> m_entries; // newest first
    int m_max;
};

} // namespace portico

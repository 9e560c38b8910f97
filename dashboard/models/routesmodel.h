#pragma once

#include "route.h"

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>

namespace portico {

class AdminClient;

// The daemon's routing table, one row per route, kept live: routes.list and stats.get
// when the connection comes up, then `routes.changed` (structure and state) and
// `stats.tick` (counters and rates). Rows are updated in place (dataChanged), inserted
// and removed one by one, never reset, so views keep their selection and scroll.
// Whoever owns the AdminClient subscribes it to events.
class RoutesModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RoutesModel)
public:
    enum Column {
        Port,
        Protocol,
        Project,
        Path,
        Backend,
        State,
        Connections,
        Requests,
        Errors,
        BytesIn,
        BytesOut,
        RateIn,
        RateOut,
        Reason,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1, StateRole, ProjectRole };

    struct Rates {
        double bytesInPerSec = 0;
        double bytesOutPerSec = 0;
        double requestsPerSec = 0;
        friend bool operator==(const Rates &, const Rates &) = default;
    };

    explicit RoutesModel(AdminClient *client, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Asks for routes.list and stats.get (done by itself on every (re)connect).
    void refresh();
    bool isLoaded() const { return m_loaded; }

    RouteInfo route(int row) const { return m_rows.value(row).info; }
    Rates rates(int row) const { return m_rows.value(row).rates; }
    // The row of a route, or -1. An empty project is the ingress row.
    int findRow(const QString &project, quint16 port, const QString &protocol = {}) const;

    // A full snapshot of the table. Counters and rates are taken from it only when it
    // carries them (routes.list, stats.tick); routes.changed rows keep the last ones.
    void applyRoutes(const QJsonArray &routes, bool withCounters);
    // Nobody measures while the daemon is away: the rates read 0 until the next tick.
    void clearRates();

Q_SIGNALS:
    void loaded(); // the first routes.list after a (re)connect was applied

private:
    struct Row {
        RouteInfo info;
        Rates rates;
        QString key;
    };
    void onEvent(const QString &kind, const QJsonObject &data);

    AdminClient *m_client;
    QList<Row> m_rows;
    bool m_loaded = false;
};

} // namespace portico

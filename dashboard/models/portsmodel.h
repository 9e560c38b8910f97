#pragma once

#include "hostports.h"

#include <QAbstractTableModel>
#include <QFutureWatcher>
#include <QList>

namespace portico {

class RoutesModel;

// Every port in use on this host, one row per port and transport: the ports Portico's
// routes claim (with project, protocol and state, bound or not) and every other
// listening socket the kernel lists, with the process that holds it where /proc lets
// us see it. So a person picks a free port before writing a manifest. The host is
// scanned off the GUI thread, on refresh() (its view asks every few seconds while shown).
class PortsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PortsModel)
public:
    enum Column { Port, Transport, Portico, State, Holder, Address, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, IsPorticoRole };
    struct Row {
        int port = 0;
        QString transport; // "tcp" or "udp"
        QString portico;   // "site (http)", "ingress (http)"; empty: not Portico's
        QString state;     // the route's state
        QString holder;    // "nginx (pid 812)", or empty when not readable
        QStringList addresses;
        friend bool operator==(const Row &, const Row &) = default;
    };

    explicit PortsModel(RoutesModel *routes, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Scans the host again (asynchronously); scanned() follows.
    void refresh();
    bool hasScanned() const { return m_scanned; }
    int findRow(int port, const QString &transport) const;
    Row row(int r) const { return m_rows.value(r); }

    // The rows for these routes and host sockets (pure: what the model shows).
    static QList<Row> merge(const RoutesModel *routes, const QList<HostSocket> &host);

Q_SIGNALS:
    void scanned();

private:
    void rebuild();

    RoutesModel *m_routes;
    QList<HostSocket> m_host;
    QList<Row> m_rows;
    QFutureWatcher<QList<HostSocket>> m_watcher;
    bool m_scanned = false;
    bool m_rescan = false; // refresh() while a scan runs: scan once more after it
};

} // namespace portico

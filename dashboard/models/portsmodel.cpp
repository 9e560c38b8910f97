#include "portsmodel.h"

#include "format.h"
#include "portfinder.h"
#include "routesmodel.h"

#include <QMap>
#include <QtConcurrent/QtConcurrentRun>

namespace portico {

PortsModel::PortsModel(RoutesModel *routes, QObject *parent) : QAbstractTableModel(parent), m_routes(routes) {
    connect(&m_watcher, &QFutureWatcher<QList<HostSocket>>::finished, this, [this] {
        m_host = m_watcher.result();
        m_scanned = true;
        rebuild();
        Q_EMIT scanned();
        if (std::exchange(m_rescan, false))
            refresh();
    });
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_routes, signal, this, &PortsModel::rebuild);
    connect(m_routes, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &from, const QModelIndex &to) {
                // Counters tick every second; only a state or a row's identity matters here.
                if (from.column() <= RoutesModel::State && to.column() >= RoutesModel::Port)
                    rebuild();
            });
}

void PortsModel::refresh() {
    if (m_watcher.isRunning()) {
        m_rescan = true;
        return;
    }
    m_watcher.setFuture(QtConcurrent::run([] { return scanHostSockets(); }));
}

QList<PortsModel::Row> PortsModel::merge(const RoutesModel *routes, const QList<HostSocket> &host) {
    QMap<std::pair<int, QString>, Row> rows;
    for (int i = 0; i < routes->rowCount(); ++i) {
        const RouteInfo r = routes->route(i);
        if (r.state == QLatin1String("draining"))
            continue;
        const QString transport = transportOf(r.protocol);
        Row &row = rows[{int(r.hostPort), transport}];
        row.port = r.hostPort;
        row.transport = transport;
        // The ingress and the projects routed through it share one port: the ingress
        // holds it, the projects are behind it.
        if (r.project.isEmpty() || row.portico.isEmpty()) {
            row.portico = r.project.isEmpty() ? QStringLiteral("ingress (%1)").arg(r.protocol)
                                              : QStringLiteral("%1 (%2)").arg(r.project, r.protocol);
            row.state = r.state;
        }
    }
    for (const HostSocket &s : host) {
        Row &row = rows[{int(s.port), s.transport}];
        row.port = s.port;
        row.transport = s.transport;
        if (!row.addresses.contains(s.address))
            row.addresses << s.address;
        if (row.holder.isEmpty() && s.pid > 0)
            row.holder = QStringLiteral("%1 (pid %2)").arg(s.process).arg(s.pid);
    }
    return rows.values();
}

void PortsModel::rebuild() {
    QList<Row> next = merge(m_routes, m_host);
    // Rows in place where they can be: the list is sorted by (port, transport) both ways.
    int i = 0;
    for (const Row &row : next) {
        while (i < m_rows.size() &&
               std::pair(m_rows[i].port, m_rows[i].transport) < std::pair(row.port, row.transport)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
        if (i < m_rows.size() && m_rows[i].port == row.port && m_rows[i].transport == row.transport) {
            if (!(m_rows[i] == row)) {
                m_rows[i] = row;
                Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
            }
        } else {
            beginInsertRows({}, i, i);
            m_rows.insert(i, row);
            endInsertRows();
        }
        ++i;
    }
    if (i < m_rows.size()) {
        beginRemoveRows({}, i, int(m_rows.size()) - 1);
        m_rows.resize(i);
        endRemoveRows();
    }
}

int PortsModel::findRow(int port, const QString &transport) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].port == port && m_rows[i].transport == transport)
            return i;
    return -1;
}

int PortsModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PortsModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PortsModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &r = m_rows[index.row()];
    switch (role) {
    case IsPorticoRole:
        return !r.portico.isEmpty();
    case SortRole:
        if (index.column() == Port)
            return r.port;
        return data(index, Qt::DisplayRole);
    case Qt::DisplayRole:
        switch (index.column()) {
        case Port:
            return r.port;
        case Transport:
            return r.transport;
        case Portico:
            return r.portico;
        case State:
            return r.state;
        case Holder:
            if (!r.holder.isEmpty())
                return r.holder;
            if (r.addresses.isEmpty())
                return tr("nobody (not bound)");
            return tr("another user's process");
        case Address:
            return r.addresses.join(QStringLiteral(", "));
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == Holder && r.holder.isEmpty() && !r.addresses.isEmpty())
            return tr("/proc does not show which process holds it (run as its user or as root to see)");
        return {};
    case Qt::ForegroundRole:
        if (index.column() == State) {
            const QColor c = dash::stateColor(r.state);
            return c.isValid() ? QVariant(c) : QVariant();
        }
        if (index.column() == Holder && r.holder.isEmpty())
            return dash::stateColor(QStringLiteral("stopped"));
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Port)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    default:
        return {};
    }
}

QVariant PortsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Port:
        return tr("Port");
    case Transport:
        return tr("Transport");
    case Portico:
        return tr("Portico route");
    case State:
        return tr("State");
    case Holder:
        return tr("Held by");
    case Address:
        return tr("Address");
    default:
        return {};
    }
}

} // namespace portico

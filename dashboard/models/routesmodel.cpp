#include "routesmodel.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QHash>
#include <QPointer>
#include <QSet>

namespace portico {

namespace {

QString routeKey(const RouteInfo &r) {
    // A draining listener may briefly sit beside its successor on the same port.
    return QStringLiteral("%1/%2/%3/%4/%5")
        .arg(r.hostPort)
        .arg(r.protocol, r.project, r.path,
             r.state == QLatin1String("draining") ? QStringLiteral("d") : QString());
}

RoutesModel::Rates ratesFromJson(const QJsonObject &o) {
    return {o.value(QStringLiteral("bytes_in_per_s")).toDouble(),
            o.value(QStringLiteral("bytes_out_per_s")).toDouble(),
            o.value(QStringLiteral("requests_per_s")).toDouble()};
}

} // namespace

RoutesModel::RoutesModel(AdminClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client) {
    connect(m_client, &AdminClient::connected, this, &RoutesModel::refresh);
    connect(m_client, &AdminClient::disconnected, this, [this] {
        m_loaded = false;
        clearRates();
    });
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) { onEvent(kind, data); });
    if (m_client->isConnected())
        refresh();
}

void RoutesModel::refresh() {
    QPointer<RoutesModel> self(this);
    m_client->call(QLatin1String(protocol::method::RoutesList), {}, [self](const jsonrpc::Message &reply) {
        if (!self)
            return;
        if (!reply.isResponse()) {
            qCWarning(lcDashboard) << "routes.list failed:" << reply.errorMessage();
            return;
        }
        self->applyRoutes(reply.result().toObject().value(QStringLiteral("routes")).toArray(), true);
        if (!self->m_loaded) {
            self->m_loaded = true;
            Q_EMIT self->loaded();
        }
    });
    // The rates: routes.list has the counters only.
    m_client->call(QLatin1String(protocol::method::StatsGet), {}, [self](const jsonrpc::Message &reply) {
        if (self && reply.isResponse())
            self->applyRoutes(reply.result().toObject().value(QStringLiteral("routes")).toArray(), true);
    });
}

void RoutesModel::onEvent(const QString &kind, const QJsonObject &data) {
    if (kind == QLatin1String(protocol::event::RoutesChanged))
        applyRoutes(data.value(QStringLiteral("routes")).toArray(), false);
    else if (kind == QLatin1String(protocol::event::StatsTick))
        applyRoutes(data.value(QStringLiteral("routes")).toArray(), true);
}

void RoutesModel::applyRoutes(const QJsonArray &routes, bool withCounters) {
    QList<Row> incoming;
    QHash<QString, int> seen;
    incoming.reserve(routes.size());
    for (const QJsonValue &v : routes) {
        const QJsonObject o = v.toObject();
        Row row{RouteInfo::fromJson(o), {}, {}};
        if (o.contains(QStringLiteral("rates")))
            row.rates = ratesFromJson(o.value(QStringLiteral("rates")).toObject());
        row.key = routeKey(row.info);
        const int n = seen[row.key]++;
        if (n > 0)
            row.key += QStringLiteral("#%1").arg(n);
        incoming.append(row);
    }

    QSet<QString> keys;
    for (const Row &r : std::as_const(incoming))
        keys.insert(r.key);
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!keys.contains(m_rows[i].key)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }

    QHash<QString, int> rowOfKey;
    for (int i = 0; i < m_rows.size(); ++i)
        rowOfKey.insert(m_rows[i].key, i);
    for (Row &in : incoming) {
        const auto it = rowOfKey.constFind(in.key);
        if (it == rowOfKey.cend()) {
            const int at = int(m_rows.size());
            beginInsertRows({}, at, at);
            m_rows.append(in);
            endInsertRows();
            continue;
        }
        Row &row = m_rows[*it];
        if (!withCounters) {
            in.info.counters = row.info.counters;
            in.rates = row.rates;
        }
        if (in.info == row.info && in.rates == row.rates)
            continue;
        row = in;
        Q_EMIT dataChanged(index(*it, 0), index(*it, ColumnCount - 1));
    }
}

void RoutesModel::clearRates() {
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].rates == Rates{})
            continue;
        m_rows[i].rates = {};
        Q_EMIT dataChanged(index(i, RateIn), index(i, RateOut));
    }
}

int RoutesModel::findRow(const QString &project, quint16 port, const QString &protocol) const {
    for (int i = 0; i < m_rows.size(); ++i) {
        const RouteInfo &r = m_rows[i].info;
        if (r.project == project && r.hostPort == port && (protocol.isEmpty() || r.protocol == protocol))
            return i;
    }
    return -1;
}

int RoutesModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RoutesModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RoutesModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &row = m_rows[index.row()];
    const RouteInfo &r = row.info;
    const RouteCounters &c = r.counters;
    switch (role) {
    case StateRole:
        return r.state;
    case ProjectRole:
        return r.project;
    case Qt::ToolTipRole:
        return r.reason.isEmpty() ? QVariant() : QVariant(r.state + QStringLiteral(": ") + r.reason);
    case Qt::ForegroundRole:
        if (index.column() == State || index.column() == Reason) {
            const QColor color = dash::stateColor(r.state);
            return color.isValid() ? QVariant(color) : QVariant();
        }
        if (r.project.isEmpty() && index.column() == Project)
            return QColor(Qt::gray);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == Port || (index.column() >= Connections && index.column() <= RateOut))
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case SortRole:
        switch (index.column()) {
        case Port:
            return int(r.hostPort);
        case Connections:
            return double(c.connectionsOpen) * 1e12 + double(c.connectionsTotal);
        case Requests:
            return double(c.requests);
        case Errors:
            return double(c.errors);
        case BytesIn:
            return double(c.bytesIn);
        case BytesOut:
            return double(c.bytesOut);
        case RateIn:
            return row.rates.bytesInPerSec;
        case RateOut:
            return row.rates.bytesOutPerSec;
        default:
            return data(index, Qt::DisplayRole);
        }
    case Qt::DisplayRole:
        switch (index.column()) {
        case Port:
            return int(r.hostPort);
        case Protocol:
            return r.protocol;
        case Project:
            return r.project.isEmpty() ? QStringLiteral("(ingress)") : r.project;
        case Path:
            return r.path;
        case Backend:
            return r.backend;
        case State:
            return r.state;
        case Connections:
            return QStringLiteral("%1 / %2").arg(c.connectionsOpen).arg(c.connectionsTotal);
        case Requests:
            return QString::number(c.requests);
        case Errors:
            return QString::number(c.errors);
        case BytesIn:
            return dash::humanBytes(double(c.bytesIn));
        case BytesOut:
            return dash::humanBytes(double(c.bytesOut));
        case RateIn:
            return dash::humanRate(row.rates.bytesInPerSec);
        case RateOut:
            return dash::humanRate(row.rates.bytesOutPerSec);
        case Reason:
            return r.reason;
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant RoutesModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Connections:
            return tr("Open / total connections");
        case Requests:
            return tr("HTTP requests, or UDP datagrams from visitors");
        case Errors:
            return tr("Requests answered by the daemon with an error, refused connections");
        case BytesIn:
        case RateIn:
            return tr("Visitor to backend");
        case BytesOut:
        case RateOut:
            return tr("Backend to visitor");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Port:
        return tr("Port");
    case Protocol:
        return tr("Proto");
    case Project:
        return tr("Project");
    case Path:
        return tr("Path");
    case Backend:
        return tr("Backend");
    case State:
        return tr("State");
    case Connections:
        return tr("Conns");
    case Requests:
        return tr("Requests");
    case Errors:
        return tr("Errors");
    case BytesIn:
        return tr("In");
    case BytesOut:
        return tr("Out");
    case RateIn:
        return tr("In/s");
    case RateOut:
        return tr("Out/s");
    case Reason:
        return tr("Reason");
    default:
        return {};
    }
}

} // namespace portico

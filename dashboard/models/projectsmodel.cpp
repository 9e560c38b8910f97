#include "projectsmodel.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QHash>
#include <QPointer>
#include <QSet>

namespace portico {

ProjectsModel::ProjectsModel(AdminClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client) {
    connect(m_client, &AdminClient::connected, this, &ProjectsModel::refresh);
    connect(m_client, &AdminClient::disconnected, this, [this] { m_loaded = false; });
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) { onEvent(kind, data); });
    if (m_client->isConnected())
        refresh();
    m_clock.setInterval(1000);
    connect(&m_clock, &QTimer::timeout, this, [this] {
        if (!m_rows.isEmpty())
            Q_EMIT dataChanged(index(0, Uptime), index(int(m_rows.size()) - 1, Uptime));
    });
    m_clock.start();
}

void ProjectsModel::refresh() {
    QPointer<ProjectsModel> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsList), {}, [self](const jsonrpc::Message &reply) {
        if (!self)
            return;
        if (!reply.isResponse()) {
            qCWarning(lcDashboard) << "projects.list failed:" << reply.errorMessage();
            return;
        }
        self->applyList(reply.result().toObject().value(QStringLiteral("projects")).toArray());
        if (!self->m_loaded) {
            self->m_loaded = true;
            Q_EMIT self->loaded();
        }
    });
}

void ProjectsModel::fetch(const QString &name) {
    QPointer<ProjectsModel> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsGet), {{QStringLiteral("name"), name}},
                   [self](const jsonrpc::Message &reply) {
                       // 1003: undeployed meanwhile; project.undeployed removes the row.
                       if (self && reply.isResponse())
                           self->applyProject(reply.result().toObject());
                   });
}

void ProjectsModel::onEvent(const QString &kind, const QJsonObject &data) {
    const QString name = data.value(QStringLiteral("project")).toString();
    if (kind == QLatin1String(protocol::event::ProjectState)) {
        const int row = findRow(name);
        if (row < 0)
            return; // a project being deployed: project.deployed brings the whole row
        Project p = m_rows[row];
        p.state = data.value(QStringLiteral("state")).toString();
        p.reason = data.value(QStringLiteral("reason")).toString();
        setRow(row, p);
        // The backend address and pid change with the process: read them again.
        fetch(name);
    } else if (kind == QLatin1String(protocol::event::ProjectDeployed)) {
        fetch(name);
    } else if (kind == QLatin1String(protocol::event::ProjectUndeployed)) {
        const int row = findRow(name);
        if (row >= 0) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    } else if (kind == QLatin1String(protocol::event::RoutesChanged)) {
        applyRoutes(data.value(QStringLiteral("routes")).toArray());
    }
}

void ProjectsModel::applyRoutes(const QJsonArray &routes) {
    QHash<QString, QStringList> labels;
    for (const QJsonValue &v : routes) {
        const QJsonObject r = v.toObject();
        const QString project = r.value(QStringLiteral("project")).toString();
        if (!project.isEmpty() && r.value(QStringLiteral("state")).toString() != QLatin1String("draining"))
            labels[project] << ProjectInfo::routeLabel(r);
    }
    for (int i = 0; i < m_rows.size(); ++i) {
        Project p = m_rows[i];
        p.routes = labels.value(p.name);
        setRow(i, p);
    }
}

void ProjectsModel::applyList(const QJsonArray &projects) {
    QSet<QString> names;
    for (const QJsonValue &v : projects)
        names.insert(v.toObject().value(QStringLiteral("name")).toString());
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!names.contains(m_rows[i].name)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    for (const QJsonValue &v : projects)
        applyProject(v.toObject());
}

void ProjectsModel::applyProject(const QJsonObject &o) {
    const Project p = ProjectInfo::fromJson(o);
    if (p.name.isEmpty())
        return;
    const int row = findRow(p.name);
    if (row >= 0) {
        setRow(row, p);
        return;
    }
    const int at = int(m_rows.size());
    beginInsertRows({}, at, at);
    m_rows.append(p);
    endInsertRows();
}

void ProjectsModel::setRow(int row, const Project &p) {
    if (m_rows[row] == p)
        return;
    m_rows[row] = p;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int ProjectsModel::findRow(const QString &name) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].name == name)
            return i;
    return -1;
}

int ProjectsModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ProjectsModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ProjectsModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Project &p = m_rows[index.row()];
    switch (role) {
    case NameRole:
        return p.name;
    case StateRole:
        return p.state;
    case Qt::ToolTipRole:
        if (index.column() == Routes)
            return p.routes.join(QLatin1Char('\n'));
        if (index.column() == Backend && p.pid > 0)
            return tr("%1\npid %2").arg(p.backend).arg(p.pid);
        if (index.column() == Restarts && p.reportsLastExit)
            return tr("last exit: %1").arg(p.lastExitText());
        if ((index.column() == Uptime || index.column() == Restarts) && p.restarts < 0 && p.uptimeMs < 0 &&
            !p.startedAt.isValid())
            return tr("this porticod does not report it");
        return p.reason.isEmpty() ? QVariant() : QVariant(p.state + QStringLiteral(": ") + p.reason);
    case StateColorRole: {
        const QColor color = dash::stateColor(p.state);
        return color.isValid() ? QVariant(color) : QVariant();
    }
    case Qt::TextAlignmentRole:
        if (index.column() == Uptime || index.column() == Restarts)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ForegroundRole:
        if (index.column() == State || index.column() == Reason) {
            const QColor color = dash::stateColor(p.state);
            return color.isValid() ? QVariant(color) : QVariant();
        }
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Name:
            return p.name;
        case Runtime:
            return p.runtime;
        case State:
            return p.state;
        case Uptime: {
            const qint64 up = p.uptimeNowMs();
            return up < 0 ? QStringLiteral("—") : dash::humanDuration(up);
        }
        case Restarts:
            return p.restarts < 0 ? QStringLiteral("—") : QString::number(p.restarts);
        case Routes:
            return p.routes.join(QStringLiteral(", "));
        case Backend:
            return p.backend;
        case Reason:
            return p.reason;
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant ProjectsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Project");
    case Runtime:
        return tr("Runtime");
    case State:
        return tr("State");
    case Uptime:
        return tr("Uptime");
    case Restarts:
        return tr("Restarts");
    case Routes:
        return tr("Routes");
    case Backend:
        return tr("Backend");
    case Reason:
        return tr("Reason");
    default:
        return {};
    }
}

} // namespace portico

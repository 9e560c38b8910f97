#include "eventlogmodel.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QJsonArray>

namespace portico {

EventLogModel::EventLogModel(AdminClient *client, int maxRows, QObject *parent)
    : QAbstractListModel(parent), m_max(qMax(1, maxRows)) {
    connect(client, &AdminClient::eventReceived, this, &EventLogModel::addEvent);
    connect(client, &AdminClient::connected, this, [this] {
        addEvent(QStringLiteral("connection"), {{QStringLiteral("up"), true}}, {});
    });
    connect(client, &AdminClient::disconnected, this, [this] {
        addEvent(QStringLiteral("connection"), {{QStringLiteral("up"), false}}, {});
    });
}

QString EventLogModel::describe(const QString &kind, const QJsonObject &data) {
    const QString project = data.value(QStringLiteral("project")).toString();
    if (kind == QLatin1String("connection"))
        return data.value(QStringLiteral("up")).toBool() ? tr("connected to the daemon")
                                                         : tr("lost the connection to the daemon");
    if (kind == QLatin1String(protocol::event::ProjectState)) {
        const QString reason = data.value(QStringLiteral("reason")).toString();
        return reason.isEmpty()
                   ? tr("%1 is %2").arg(project, data.value(QStringLiteral("state")).toString())
                   : tr("%1 is %2: %3").arg(project, data.value(QStringLiteral("state")).toString(), reason);
    }
    if (kind == QLatin1String(protocol::event::ProjectDeployed))
        return tr("%1 deployed").arg(project);
    if (kind == QLatin1String(protocol::event::ProjectUndeployed))
        return tr("%1 undeployed").arg(project);
    if (kind == QLatin1String(protocol::event::RoutesChanged))
        return tr("routing table: %n route(s)", nullptr,
                  int(data.value(QStringLiteral("routes")).toArray().size()));
    if (kind == QLatin1String(protocol::event::Conflict))
        return tr("%1: port %2/%3: %4")
            .arg(project)
            .arg(data.value(QStringLiteral("port")).toInt())
            .arg(data.value(QStringLiteral("transport")).toString(),
                 data.value(QStringLiteral("reason")).toString());
    if (kind == QLatin1String(protocol::event::DeployRefused)) {
        QStringList why;
        const QJsonArray items = data.contains(QStringLiteral("conflicts"))
                                     ? data.value(QStringLiteral("conflicts")).toArray()
                                     : data.value(QStringLiteral("errors")).toArray();
        for (const QJsonValue &v : items) {
            const QJsonObject o = v.toObject();
            why << (o.contains(QStringLiteral("path"))
                        ? o.value(QStringLiteral("path")).toString() + QStringLiteral(": ") +
                              o.value(QStringLiteral("message")).toString()
                        : o.value(QStringLiteral("message")).toString());
        }
        return tr("deploy of %1 refused: %2").arg(project, why.join(QStringLiteral("; ")));
    }
    return project.isEmpty() ? kind : project;
}

void EventLogModel::addEvent(const QString &kind, const QJsonObject &data, const QDateTime &time) {
    // Ticks and log lines are many and shown elsewhere; routes.changed follows every state
    // change, which project.state already tells.
    if (kind == QLatin1String(protocol::event::StatsTick) || kind == QLatin1String(protocol::event::Log) ||
        kind == QLatin1String(protocol::event::RoutesChanged))
        return;
    beginInsertRows({}, 0, 0);
    m_entries.prepend({time.isValid() ? time : QDateTime::currentDateTimeUtc(), kind, describe(kind, data)});
    endInsertRows();
    if (m_entries.size() > m_max) {
        beginRemoveRows({}, m_max, int(m_entries.size()) - 1);
        m_entries.resize(m_max);
        endRemoveRows();
    }
}

int EventLogModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_entries.size())
        return {};
    const Entry &e = m_entries[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return QStringLiteral("%1  %2").arg(e.time.toLocalTime().toString(QStringLiteral("HH:mm:ss")),
                                            e.text);
    case Qt::ToolTipRole:
        return QStringLiteral("%1 (%2)").arg(e.text, e.kind); // the whole line when it is elided
    case KindRole:
        return e.kind;
    case Qt::ForegroundRole:
        if (e.kind == QLatin1String(protocol::event::DeployRefused) ||
            e.kind == QLatin1String(protocol::event::Conflict))
            return dash::stateColor(QStringLiteral("conflict"));
        return {};
    default:
        return {};
    }
}

} // namespace portico

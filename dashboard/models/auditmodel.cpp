#include "auditmodel.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QJsonObject>
#include <QPointer>

#include <pwd.h>
#include <unistd.h>

namespace portico {

AuditModel::AuditModel(AdminClient *client, QObject *parent) : QAbstractTableModel(parent), m_client(client) {
    m_soon.setSingleShot(true);
    m_soon.setInterval(300);
    connect(&m_soon, &QTimer::timeout, this, &AuditModel::refresh);
    connect(m_client, &AdminClient::connected, this, &AuditModel::refresh);
    connect(m_client, &AdminClient::eventReceived, this, [this](const QString &kind) {
        // Every audited call leaves one of these behind (a restart: a project.state).
        if (kind == QLatin1String(protocol::event::ProjectDeployed) ||
            kind == QLatin1String(protocol::event::ProjectUndeployed) ||
            kind == QLatin1String(protocol::event::DeployRefused) ||
            kind == QLatin1String(protocol::event::ProjectState))
            m_soon.start();
    });
    if (m_client->isConnected())
        refresh();
}

void AuditModel::refresh() {
    if (!m_client->isConnected())
        return; // not queued meanwhile: the connect reloads anyway
    QPointer<AuditModel> self(this);
    m_client->call(QLatin1String(protocol::method::AuditList), {{QStringLiteral("limit"), kLimit}},
                   [self](const jsonrpc::Message &reply) {
                       if (!self)
                           return;
                       if (!reply.isResponse()) {
                           qCWarning(lcDashboard) << "audit.list failed:" << reply.errorMessage();
                           return;
                       }
                       self->applyEntries(
                           reply.result().toObject().value(QStringLiteral("entries")).toArray());
                       if (!std::exchange(self->m_loaded, true))
                           Q_EMIT self->loaded();
                   });
}

void AuditModel::applyEntries(const QJsonArray &entries) {
    QList<Entry> next;
    next.reserve(entries.size());
    for (qsizetype i = entries.size() - 1; i >= 0; --i) {
        const QJsonObject o = entries.at(i).toObject();
        next.append(
            {QDateTime::fromString(o.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs),
             o.contains(QStringLiteral("uid")) ? qint64(o.value(QStringLiteral("uid")).toDouble()) : -1,
             qint64(o.value(QStringLiteral("pid")).toDouble()), o.value(QStringLiteral("method")).toString(),
             o.value(QStringLiteral("project")).toString(), o.value(QStringLiteral("outcome")).toString(),
             o.value(QStringLiteral("code")).toInt(), o.value(QStringLiteral("error")).toString()});
    }
    if (next == m_entries)
        return;
    // New entries come on top; the rest stays (a view keeps its scroll and selection).
    const qsizetype added = next.size() - m_entries.size();
    if (added > 0 && next.mid(added) == m_entries) {
        beginInsertRows({}, 0, int(added) - 1);
        m_entries = std::move(next);
        endInsertRows();
        return;
    }
    beginResetModel();
    m_entries = std::move(next);
    endResetModel();
}

QString AuditModel::userName(qint64 uid) const {
    const auto it = m_users.constFind(uid);
    if (it != m_users.cend())
        return *it;
    QString name;
    passwd pw{};
    passwd *found = nullptr;
    char buffer[4096];
    if (getpwuid_r(uid_t(uid), &pw, buffer, sizeof buffer, &found) == 0 && found)
        name = QString::fromLocal8Bit(found->pw_name);
    m_users.insert(uid, name);
    return name;
}

int AuditModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_entries.size());
}

int AuditModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AuditModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_entries.size())
        return {};
    const Entry &e = m_entries[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return dash::localTime(e.time);
        case Who: {
            if (e.uid < 0)
                return QString();
            const QString name = userName(e.uid);
            const QString who = name.isEmpty() ? tr("uid %1").arg(e.uid) : name;
            return e.pid > 0 ? tr("%1 (pid %2)").arg(who).arg(e.pid) : who;
        }
        case Method:
            return e.method;
        case Project:
            return e.project;
        case Outcome:
            return e.code != 0 ? QStringLiteral("%1 (%2)").arg(e.outcome).arg(e.code) : e.outcome;
        case Error:
            return e.error;
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == Time)
            return e.time.toLocalTime().toString(Qt::ISODateWithMs);
        if (index.column() == Error && !e.error.isEmpty())
            return e.error;
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Outcome || index.column() == Error) {
            if (e.outcome == QLatin1String("ok"))
                return dash::stateColor(QStringLiteral("active"));
            if (e.outcome == QLatin1String("refused"))
                return dash::stateColor(QStringLiteral("backoff"));
            return dash::stateColor(QStringLiteral("failed"));
        }
        return {};
    default:
        return {};
    }
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Who:
        return tr("Who");
    case Method:
        return tr("Call");
    case Project:
        return tr("Project");
    case Outcome:
        return tr("Outcome");
    case Error:
        return tr("Error");
    default:
        return {};
    }
}

} // namespace portico

#include "logmodel.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>

namespace portico {

LogModel::LogModel(AdminClient *client, int maxLines, QObject *parent)
    : QAbstractTableModel(parent), m_client(client), m_max(qMax(1, maxLines)) {
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) { onEvent(kind, data); });
    connect(m_client, &AdminClient::connected, this, &LogModel::reload);
}

LogModel::Line LogModel::lineFromJson(const QJsonValue &value) {
    if (value.isString())
        return {{}, {}, value.toString()};
    const QJsonObject o = value.toObject();
    // An event's data has "line" on a daemon before protocol 2, "text" after.
    const QString text = o.contains(QStringLiteral("text")) ? o.value(QStringLiteral("text")).toString()
                                                            : o.value(QStringLiteral("line")).toString();
    return {QDateTime::fromString(o.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs),
            o.value(QStringLiteral("stream")).toString(), text};
}

void LogModel::setProject(const QString &name) {
    if (name == m_project)
        return;
    m_project = name;
    replaceAll({});
    reload();
}

void LogModel::setFollowing(bool on) {
    m_following = on;
}

void LogModel::reload() {
    const quint64 generation = ++m_generation;
    if (m_project.isEmpty()) {
        Q_EMIT statusChanged({});
        return;
    }
    Q_EMIT statusChanged(tr("loading…"));
    QPointer<LogModel> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsLogs),
                   {{QStringLiteral("name"), m_project}, {QStringLiteral("lines"), kTailLines}},
                   [self, generation](const jsonrpc::Message &reply) {
                       if (!self || generation != self->m_generation)
                           return;
                       if (!reply.isResponse()) {
                           Q_EMIT self->statusChanged(reply.errorMessage());
                           return;
                       }
                       const QJsonObject result = reply.result().toObject();
                       QList<Line> lines;
                       for (const QJsonValue &v : result.value(QStringLiteral("lines")).toArray())
                           lines.append(lineFromJson(v));
                       self->replaceAll(std::move(lines));
                       // Protocol 2 keeps the output of a refused deploy, readable by its name.
                       Q_EMIT self->statusChanged(
                           result.value(QStringLiteral("deployed")).toBool(true)
                               ? QString()
                               : tr("not deployed: the output of its refused deploy (%n line(s))", nullptr,
                                    int(self->m_lines.size())));
                       Q_EMIT self->reloaded();
                   });
}

void LogModel::replaceAll(QList<Line> lines) {
    if (lines.size() > m_max)
        lines.remove(0, lines.size() - m_max);
    beginResetModel();
    m_lines = std::move(lines);
    endResetModel();
}

void LogModel::onEvent(const QString &kind, const QJsonObject &data) {
    if (!m_following || m_project.isEmpty() || kind != QLatin1String(protocol::event::Log) ||
        data.value(QStringLiteral("project")).toString() != m_project)
        return;
    append(lineFromJson(data));
}

void LogModel::append(const Line &line) {
    if (m_lines.size() >= m_max) {
        const int drop = int(m_lines.size()) - m_max + 1;
        beginRemoveRows({}, 0, drop - 1);
        m_lines.remove(0, drop);
        endRemoveRows();
    }
    const int at = int(m_lines.size());
    beginInsertRows({}, at, at);
    m_lines.append(line);
    endInsertRows();
}

QString LogModel::text() const {
    QStringList out;
    out.reserve(m_lines.size());
    for (const Line &l : m_lines)
        out << l.text;
    return out.join(QLatin1Char('\n'));
}

int LogModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : int(m_lines.size());
}

int LogModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LogModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_lines.size())
        return {};
    const Line &l = m_lines[index.row()];
    const bool err = l.stream == QLatin1String("stderr");
    switch (role) {
    case StreamRole:
        return l.stream;
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return l.time.isValid() ? l.time.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"))
                                    : QString();
        case Stream:
            // stdout is the usual case and stays quiet; the others are marked.
            return err                                    ? QStringLiteral("err")
                   : l.stream == QLatin1String("portico") ? QStringLiteral("portico")
                                                          : QString();
        case Text:
            return l.text;
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == Time && l.time.isValid())
            return l.time.toLocalTime().toString(Qt::ISODateWithMs);
        if (index.column() == Stream && !l.stream.isEmpty())
            return l.stream;
        return {};
    case Qt::ForegroundRole:
        if (err)
            return dash::stateColor(QStringLiteral("crashed"));
        if (l.stream == QLatin1String("portico") || index.column() == Time)
            return dash::stateColor(QStringLiteral("stopped"));
        return {};
    default:
        return {};
    }
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Stream:
        return tr("Stream");
    case Text:
        return tr("Output");
    default:
        return {};
    }
}

} // namespace portico

#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

// Human-readable rendering for porticoctl: aligned tables and one-line summaries.
namespace portico::ctl {

class Table {
public:
    explicit Table(const QStringList &header) : m_header(header) {}
    void addRow(const QStringList &row) { m_rows.append(row); }
    int rowCount() const { return int(m_rows.size()); }
    // Columns padded to their widest cell, two spaces apart, no trailing blanks.
    QString render() const;

private:
    QStringList m_header;
    QList<QStringList> m_rows;
};

QString routesTable(const QJsonArray &routes);
QString projectsTable(const QJsonArray &projects);
// daemon.info as aligned "key  value" lines, the socket first.
QString infoText(const QJsonObject &info, const QString &socketPath);
// One line for an event notification's params {kind, data, time}.
QString eventLine(const QJsonObject &params);
// Every validation error and conflict of a refusal's data, one per line.
QStringList refusalLines(const QJsonObject &data);
QString compact(const QJsonValue &v);
QString duration(qint64 ms);

} // namespace portico::ctl

#pragma once

#include "style.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

// Human-readable rendering for porticoctl: aligned tables, durations, sizes and times.
// Pure functions of the daemon's JSON and a Style, so that output is the same for the same
// answers (the golden tests rely on it).
namespace portico::ctl {

class Table {
public:
    explicit Table(const QStringList &header) : m_header(header) {}
    // One cell per column; a cell's colour does not count towards its width.
    void addRow(const QStringList &cells, const QList<Color> &colors = {});
    int rowCount() const { return int(m_rows.size()); }
    // The column that gives way when the table is wider than the terminal: its cells are
    // cut to what is left ("…" marks the cut). Meant for the last column.
    void setElastic(int column) { m_elastic = column; }
    // Columns padded to their widest cell, two spaces apart, no trailing blanks. Cells show
    // their first line only, control characters as spaces.
    QString render(const Style &style) const;

private:
    struct Row {
        QStringList cells;
        QList<Color> colors;
    };
    QStringList m_header;
    QList<Row> m_rows;
    int m_elastic = -1;
};

// A cell's text: the first line, control characters replaced, "-" when empty.
QString cellText(const QString &s);
// Cuts s to at most `width` characters, marking the cut with "…".
QString elide(const QString &s, int width);

QString compact(const QJsonValue &v);     // a value in one short line ("-" for null)
QString duration(qint64 ms);              // "3d 4h 5m", "2h 3m 4s", "5m 6s", "7s"
QString bytes(double n);                  // "512 B", "1.5 KiB", "3.2 MiB"
QString rate(double perSecond);           // "0", "0.5", "12.3", "1234"
QDateTime parseTime(const QJsonValue &v); // ISO-8601 from the daemon; invalid if not
QString clockTime(const QDateTime &t);    // local "12:03:04"
QString dateTime(const QDateTime &t);     // local "2026-01-01 12:03:04"
QString dateTimeMs(const QDateTime &t);   // local "2026-01-01 12:03:04.123"

// "8080/http /site/" or "3000/http": how a route row is named in one cell.
QString routeLabel(const QJsonObject &route);
// A listen entry {port, protocol, proxy_protocol?} as "5000/tcp (PROXY v1)".
QString listenLabel(const QJsonObject &listen);
// A project's last_exit as "code 3" or "SIGKILL"; "-" when there is none.
QString exitText(const QJsonValue &lastExit);

QString routesTable(const QJsonArray &routes, const Style &style);
QString projectsTable(const QJsonArray &projects, const Style &style);
QString auditTable(const QJsonArray &entries, const Style &style);
// One project (projects.get), everything a person asks about it: state and reason in full,
// process, env names (never values), routes, the manifest without env.
QString projectText(const QJsonObject &project, const Style &style);
// daemon.info as aligned "key  value" lines, the socket first.
QString infoText(const QJsonObject &info, const QString &socketPath);
// Aligned "key  value" lines; a value's further lines are indented under the first.
QString keyValues(const QList<QPair<QString, QString>> &rows);
// Indents every non-empty line of text by `spaces`.
QString indent(const QString &text, int spaces);

} // namespace portico::ctl

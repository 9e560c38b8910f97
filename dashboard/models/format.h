#pragma once

#include <QColor>
#include <QDateTime>
#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcDashboard)

class QPalette;

// Small presentation helpers shared by the dashboard's models and widgets.
namespace portico::dash {

QString humanBytes(double bytes);      // "1.5 KiB"
QString humanRate(double bytesPerSec); // "1.5 KiB/s", "0 B/s"
QString humanPerSec(double perSec);    // "0.5/s", "12/s", "1.2k/s"
QString humanDuration(qint64 ms);      // "3d 4h", "2h 5m", "4m 10s", "12s"
// A time of the daemon's (UTC on the wire) as the operator reads it: local, "12:03:04"
// today, "2024-05-01 12:03:04" on another day.
QString localTime(const QDateTime &time);

// Whether the application's palette has a dark background (a dark theme): the state
// colours then take their lighter variants so that they stay readable. False without a
// GUI application.
bool isDarkPalette();
bool isDark(const QPalette &palette);
// The colour a route or project state is shown in (invalid for unknown states), for the
// current palette.
QColor stateColor(const QString &state);
// How bad a state is: 0 fine (active), 1 on its way (starting, draining, stopped),
// 2 degraded (backoff, unhealthy), 3 failing (crashed, failed, conflict).
int stateSeverity(const QString &state);

} // namespace portico::dash

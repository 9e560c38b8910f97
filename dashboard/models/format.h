#pragma once

#include <QColor>
#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcDashboard)

// Small presentation helpers shared by the dashboard's models.
namespace portico::dash {

QString humanBytes(double bytes);      // "1.5 KiB"
QString humanRate(double bytesPerSec); // "1.5 KiB/s", "0 B/s"
QString humanDuration(qint64 ms);      // "3d 4h", "2h 5m", "4m 10s", "12s"
// The colour a route or project state is shown in (invalid for unknown states).
QColor stateColor(const QString &state);

} // namespace portico::dash

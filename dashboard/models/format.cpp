#include "format.h"

Q_LOGGING_CATEGORY(lcDashboard, "portico.dashboard", QtInfoMsg)

namespace portico::dash {

QString humanBytes(double bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(qint64(bytes));
    return QStringLiteral("%1 %2").arg(bytes, 0, 'f', bytes < 10 ? 1 : 0).arg(QLatin1String(units[u]));
}

QString humanRate(double bytesPerSec) {
    return humanBytes(bytesPerSec) + QStringLiteral("/s");
}

QString humanDuration(qint64 ms) {
    const qint64 s = qMax<qint64>(0, ms / 1000);
    const qint64 d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;
    if (d > 0)
        return QStringLiteral("%1d %2h").arg(d).arg(h);
    if (h > 0)
        return QStringLiteral("%1h %2m").arg(h).arg(m);
    if (m > 0)
        return QStringLiteral("%1m %2s").arg(m).arg(sec);
    return QStringLiteral("%1s").arg(sec);
}

QColor stateColor(const QString &state) {
    if (state == QLatin1String("active"))
        return QColor(0x1e, 0x8e, 0x3e);
    if (state == QLatin1String("starting") || state == QLatin1String("draining"))
        return QColor(0xb0, 0x7d, 0x00);
    if (state == QLatin1String("backoff") || state == QLatin1String("unhealthy"))
        return QColor(0xd3, 0x5f, 0x00);
    if (state == QLatin1String("conflict") || state == QLatin1String("crashed") ||
        state == QLatin1String("failed"))
        return QColor(0xc6, 0x28, 0x28);
    if (state == QLatin1String("stopped"))
        return QColor(0x75, 0x75, 0x75);
    return {};
}

} // namespace portico::dash

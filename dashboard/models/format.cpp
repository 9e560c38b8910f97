#include "format.h"

#include <QGuiApplication>
#include <QPalette>

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

QString humanPerSec(double perSec) {
    if (perSec >= 10'000)
        return QStringLiteral("%1k/s").arg(perSec / 1000, 0, 'f', 0);
    if (perSec >= 1000)
        return QStringLiteral("%1k/s").arg(perSec / 1000, 0, 'f', 1);
    if (perSec > 0 && perSec < 10)
        return QStringLiteral("%1/s").arg(perSec, 0, 'f', 1);
    return QStringLiteral("%1/s").arg(qint64(perSec + 0.5));
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

QString localTime(const QDateTime &time) {
    if (!time.isValid())
        return {};
    const QDateTime local = time.toLocalTime();
    if (local.date() == QDate::currentDate())
        return local.toString(QStringLiteral("HH:mm:ss"));
    return local.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

bool isDark(const QPalette &palette) {
    return palette.color(QPalette::Window).lightness() < 128;
}

bool isDarkPalette() {
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        return false;
    return isDark(QGuiApplication::palette());
}

QColor stateColor(const QString &state) {
    // Light variants for dark backgrounds: the saturated dark ones are hard to read there.
    const bool dark = isDarkPalette();
    const auto pick = [dark](QRgb onLight, QRgb onDark) { return QColor::fromRgb(dark ? onDark : onLight); };
    if (state == QLatin1String("active"))
        return pick(0x1e8e3e, 0x6fd08c);
    if (state == QLatin1String("starting") || state == QLatin1String("draining"))
        return pick(0xb07d00, 0xf2c14e);
    if (state == QLatin1String("backoff") || state == QLatin1String("unhealthy"))
        return pick(0xd35f00, 0xff9d4d);
    if (state == QLatin1String("conflict") || state == QLatin1String("crashed") ||
        state == QLatin1String("failed"))
        return pick(0xc62828, 0xff6b6b);
    if (state == QLatin1String("stopped"))
        return pick(0x757575, 0xa8a8a8);
    return {};
}

int stateSeverity(const QString &state) {
    if (state == QLatin1String("active"))
        return 0;
    if (state == QLatin1String("backoff") || state == QLatin1String("unhealthy"))
        return 2;
    if (state == QLatin1String("conflict") || state == QLatin1String("crashed") ||
        state == QLatin1String("failed"))
        return 3;
    return 1;
}

} // namespace portico::dash

#include "lowports.h"

#include <QFile>

Q_LOGGING_CATEGORY(lcLowPorts, "portico.lowports", QtInfoMsg)

namespace portico {

namespace {
constexpr int kCapNetBindService = 10; // linux/capability.h
} // namespace

quint16 lowestConfiguredPort(const Config &config) {
    quint16 lowest = config.allowedPortMin;
    if (config.ingressPort != 0) // 0: the kernel picks a free (high) port
        lowest = qMin(lowest, config.ingressPort);
    return lowest;
}

bool hasNetBindService() {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    for (const QByteArray &line : f.read(64 * 1024).split('\n')) {
        if (!line.startsWith("CapEff:"))
            continue;
        bool ok = false;
        const qulonglong caps = line.mid(7).trimmed().toULongLong(&ok, 16);
        return ok && (caps & (1ULL << kCapNetBindService));
    }
    return false;
}

int unprivilegedPortStart() {
    QFile f(QStringLiteral("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
    bool ok = false;
    const int start = f.open(QIODevice::ReadOnly) ? f.readAll().trimmed().toInt(&ok) : 0;
    return ok ? start : 1024;
}

QString lowPortAdvice(const Config &config) {
    const quint16 lowest = lowestConfiguredPort(config);
    const int start = unprivilegedPortStart();
    if (lowest >= start || hasNetBindService())
        return {};
    return QStringLiteral(
               "the config allows ports from %1, but this process may not bind ports below %2 (it lacks "
               "CAP_NET_BIND_SERVICE). For the packaged service: sudo install -D -m 644 %3 "
               "/etc/systemd/system/porticod.service.d/low-ports.conf && sudo systemctl daemon-reload && "
               "sudo systemctl restart porticod (see porticod(8), PORTS BELOW 1024)")
        .arg(lowest)
        .arg(start)
        .arg(QLatin1String(kLowPortsDropIn));
}

} // namespace portico

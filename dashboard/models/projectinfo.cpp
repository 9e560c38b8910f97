#include "projectinfo.h"

#include "format.h"

#include <QCoreApplication>

namespace portico {

namespace {

QString tr(const char *text) {
    return QCoreApplication::translate("ProjectInfo", text);
}

} // namespace

QString ProjectInfo::routeLabel(const QJsonObject &r) {
    const QString path = r.value(QStringLiteral("path")).toString();
    const int port = r.value(QStringLiteral("host_port")).toInt();
    if (!path.isEmpty())
        return QStringLiteral("%1 on :%2").arg(path).arg(port);
    return QStringLiteral("%1/%2").arg(port).arg(r.value(QStringLiteral("protocol")).toString());
}

ProjectInfo ProjectInfo::fromJson(const QJsonObject &o) {
    ProjectInfo p;
    p.name = o.value(QStringLiteral("name")).toString();
    p.runtime = o.value(QStringLiteral("runtime")).toString();
    p.state = o.value(QStringLiteral("state")).toString();
    p.reason = o.value(QStringLiteral("reason")).toString();
    p.backend = o.value(QStringLiteral("backend")).toString();
    p.sourceDir = o.value(QStringLiteral("source_dir")).toString();
    p.manifest = o.value(QStringLiteral("manifest")).toObject();
    p.pid = qint64(o.value(QStringLiteral("pid")).toDouble());
    for (const QJsonValue &r : o.value(QStringLiteral("routes")).toArray())
        p.routes << routeLabel(r.toObject());
    p.startedAt = QDateTime::fromString(o.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs);
    if (o.value(QStringLiteral("uptime_ms")).isDouble()) {
        p.uptimeMs = qint64(o.value(QStringLiteral("uptime_ms")).toDouble());
        p.receivedAtMs = QDateTime::currentMSecsSinceEpoch();
    }
    if (o.value(QStringLiteral("restarts")).isDouble())
        p.restarts = o.value(QStringLiteral("restarts")).toInt();
    p.reportsLastExit = o.contains(QStringLiteral("last_exit"));
    p.lastExit = o.value(QStringLiteral("last_exit")).toObject();
    p.reportsEnvNames = o.value(QStringLiteral("env_names")).isArray();
    for (const QJsonValue &v : o.value(QStringLiteral("env_names")).toArray())
        p.envNames << v.toString();
    if (!p.reportsEnvNames) // an older daemon: the manifest's own env keys
        p.envNames = p.manifest.value(QStringLiteral("env")).toObject().keys();
    return p;
}

qint64 ProjectInfo::uptimeNowMs() const {
    if (pid <= 0 && !startedAt.isValid() && uptimeMs < 0)
        return -1;
    if (startedAt.isValid())
        return qMax<qint64>(0, startedAt.msecsTo(QDateTime::currentDateTimeUtc()));
    if (uptimeMs >= 0)
        return uptimeMs + qMax<qint64>(0, QDateTime::currentMSecsSinceEpoch() - receivedAtMs);
    return -1;
}

QString ProjectInfo::lastExitText() const {
    if (!reportsLastExit)
        return {};
    if (lastExit.isEmpty())
        return tr("none yet");
    QString what;
    if (lastExit.contains(QStringLiteral("signal"))) {
        const QString name = lastExit.value(QStringLiteral("signal_name")).toString();
        const int number = lastExit.value(QStringLiteral("signal")).toInt();
        what = name.isEmpty() ? tr("killed by signal %1").arg(number)
                              : tr("killed by %1 (%2)").arg(name).arg(number);
    } else {
        what = tr("exit code %1").arg(lastExit.value(QStringLiteral("code")).toInt());
    }
    const QDateTime at =
        QDateTime::fromString(lastExit.value(QStringLiteral("at")).toString(), Qt::ISODateWithMs);
    return at.isValid() ? tr("%1 at %2").arg(what, dash::localTime(at)) : what;
}

QJsonObject ProjectInfo::redactedManifest() const {
    QJsonObject m = manifest;
    if (m.value(QStringLiteral("env")).isObject()) {
        QJsonObject env = m.value(QStringLiteral("env")).toObject();
        for (auto it = env.begin(); it != env.end(); ++it)
            it.value() = QStringLiteral("(hidden)");
        m.insert(QStringLiteral("env"), env);
    }
    return m;
}

} // namespace portico

#include "config.h"

#include "jsonkeys.h"
#include "paths.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>

#include <cmath>
#include <functional>
#include <variant>

Q_LOGGING_CATEGORY(lcConfig, "portico.config", QtInfoMsg)

namespace portico {

namespace {

// One row per config key: its JSON name and the member it sets, with bounds for numbers.
struct IntKey {
    const char *name;
    int Config::*member;
    qint64 min;
    qint64 max;
};
struct Int64Key {
    const char *name;
    qint64 Config::*member;
    qint64 min;
    qint64 max;
};
struct PortKey {
    const char *name;
    quint16 Config::*member;
    int min;
};
struct StringKey {
    const char *name;
    QString Config::*member;
};
struct BoolKey {
    const char *name;
    bool Config::*member;
};

constexpr qint64 kDay = 86'400'000;
const IntKey kIntKeys[] = {
    {"workers", &Config::workers, 0, 64},
    {"max_header_bytes", &Config::maxHeaderBytes, 1024, 1024 * 1024},
    {"max_header_count", &Config::maxHeaderCount, 8, 1000},
    {"header_timeout_ms", &Config::headerTimeoutMs, 100, kDay},
    {"keepalive_idle_ms", &Config::keepAliveIdleMs, 100, kDay},
    {"backend_connect_timeout_ms", &Config::backendConnectTimeoutMs, 100, kDay},
    {"backend_response_timeout_ms", &Config::backendResponseTimeoutMs, 100, kDay},
    {"backend_pool_size", &Config::backendPoolSize, 0, 4096},
    {"tunnel_idle_timeout_ms", &Config::tunnelIdleTimeoutMs, 100, kDay},
    {"tcp_connect_timeout_ms", &Config::tcpConnectTimeoutMs, 100, kDay},
    {"tcp_idle_timeout_ms", &Config::tcpIdleTimeoutMs, 100, kDay},
    {"udp_idle_timeout_ms", &Config::udpIdleTimeoutMs, 100, kDay},
    {"udp_max_sessions", &Config::udpMaxSessions, 1, 1'000'000},
    {"max_connections_per_listener", &Config::maxConnectionsPerListener, 1, 1'000'000},
    {"max_connections_per_source", &Config::maxConnectionsPerSource, 0, 1'000'000},
    {"drain_timeout_ms", &Config::drainTimeoutMs, 0, kDay},
    {"ready_timeout_ms", &Config::readyTimeoutMs, 100, kDay},
    {"stop_grace_ms", &Config::stopGraceMs, 0, kDay},
    {"conflict_retry_ms", &Config::conflictRetryMs, 100, kDay},
    {"health_check_interval_ms", &Config::healthCheckIntervalMs, 100, kDay},
    {"admin_max_line_bytes", &Config::adminMaxLineBytes, 1024, 256 * 1024 * 1024},
    {"admin_max_clients", &Config::adminMaxClients, 1, 100'000},
    {"admin_idle_timeout_ms", &Config::adminIdleTimeoutMs, 100, kDay},
    {"admin_max_queue_bytes", &Config::adminMaxQueueBytes, 1024, 1024 * 1024 * 1024},
    {"log_ring_lines", &Config::logRingLines, 10, 1'000'000},
};
const Int64Key kInt64Keys[] = {
    {"max_body_bytes", &Config::maxBodyBytes, 0, std::numeric_limits<qint64>::max() / 2},
    {"relay_buffer_bytes", &Config::relayBufferBytes, 4096, 1024LL * 1024 * 1024},
};
const PortKey kPortKeys[] = {
    {"ingress_port", &Config::ingressPort, 0},        {"allowed_port_min", &Config::allowedPortMin, 1},
    {"allowed_port_max", &Config::allowedPortMax, 1}, {"backend_port_min", &Config::backendPortMin, 1},
    {"backend_port_max", &Config::backendPortMax, 1},
};
const StringKey kStringKeys[] = {
    {"admin_socket", &Config::adminSocket},     {"admin_group", &Config::adminGroup},
    {"state_dir", &Config::stateDir},           {"deno_path", &Config::denoPath},
    {"docker_path", &Config::dockerPath},       {"ingress_api", &Config::ingressApi},
    {"metrics_listen", &Config::metricsListen}, {"backend_user", &Config::backendUser},
    {"backend_dir", &Config::backendDir},       {"backend_cgroup", &Config::backendCgroup},
};
const BoolKey kBoolKeys[] = {{"access_log", &Config::accessLog}};

bool wholeNumber(const QJsonValue &v, qint64 *out) {
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (std::floor(d) != d || std::fabs(d) > 9e15)
        return false;
    *out = qint64(d);
    return true;
}

} // namespace

bool Config::apply(const QJsonObject &o, QStringList *errors) {
    const int before = errors->size();
    QSet<QString> known{QStringLiteral("bind"), QStringLiteral("reserved_ports")};
    // int and qint64 settings: whole numbers within their bounds.
    const auto applyNumbers = [&](const auto &keys) {
        for (const auto &k : keys) {
            known.insert(QLatin1String(k.name));
            const QJsonValue v = o.value(QLatin1String(k.name));
            if (v.isUndefined())
                continue;
            qint64 n = 0;
            if (!wholeNumber(v, &n) || n < k.min || n > k.max)
                errors->append(QStringLiteral("%1: must be a whole number from %2 to %3")
                                   .arg(QLatin1String(k.name))
                                   .arg(k.min)
                                   .arg(k.max));
            else
                this->*k.member = n;
        }
    };
    applyNumbers(kIntKeys);
    applyNumbers(kInt64Keys);
    for (const auto &k : kPortKeys) {
        known.insert(QLatin1String(k.name));
        const QJsonValue v = o.value(QLatin1String(k.name));
        if (v.isUndefined())
            continue;
        qint64 n = 0;
        if (!wholeNumber(v, &n) || n < k.min || n > 65535)
            errors->append(QStringLiteral("%1: %2 is not a port (%3-65535)")
                               .arg(QLatin1String(k.name),
                                    v.isDouble() ? QString::number(v.toDouble()) : QStringLiteral("value"))
                               .arg(k.min));
        else
            this->*k.member = quint16(n);
    }
    for (const auto &k : kStringKeys) {
        known.insert(QLatin1String(k.name));
        const QJsonValue v = o.value(QLatin1String(k.name));
        if (v.isUndefined())
            continue;
        if (!v.isString())
            errors->append(QStringLiteral("%1: must be a string").arg(QLatin1String(k.name)));
        else
            this->*k.member = v.toString();
    }
    for (const auto &k : kBoolKeys) {
        known.insert(QLatin1String(k.name));
        const QJsonValue v = o.value(QLatin1String(k.name));
        if (v.isUndefined())
            continue;
        if (!v.isBool())
            errors->append(QStringLiteral("%1: must be true or false").arg(QLatin1String(k.name)));
        else
            this->*k.member = v.toBool();
    }
    if (o.contains(QStringLiteral("bind"))) {
        QHostAddress a;
        const QJsonValue v = o.value(QStringLiteral("bind"));
        if (!v.isString() || !a.setAddress(v.toString()))
            errors->append(QStringLiteral("bind: must be an IP address such as \"127.0.0.1\" or \"::\""));
        else
            bind = a;
    }
    if (o.contains(QStringLiteral("reserved_ports"))) {
        const QJsonValue v = o.value(QStringLiteral("reserved_ports"));
        if (!v.isArray()) {
            errors->append(QStringLiteral("reserved_ports: must be an array of ports"));
        } else {
            QList<quint16> ports;
            const QJsonArray a = v.toArray();
            for (int i = 0; i < a.size(); ++i) {
                qint64 n = 0;
                if (!wholeNumber(a.at(i), &n) || n < 1 || n > 65535)
                    errors->append(QStringLiteral("reserved_ports[%1]: not a port (1-65535)").arg(i));
                else
                    ports.append(quint16(n));
            }
            reservedPorts = ports;
        }
    }
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!known.contains(it.key()))
            errors->append(QStringLiteral("%1: unknown setting").arg(it.key()));
    }
    if (ingressApi != QLatin1String("loopback") && ingressApi != QLatin1String("all") &&
        ingressApi != QLatin1String("off"))
        errors->append(QStringLiteral("ingress_api: must be \"loopback\", \"all\" or \"off\" (not \"%1\")")
                           .arg(ingressApi));
    if (QHostAddress a; !metricsListen.isEmpty()) {
        quint16 port = 0;
        QString why;
        if (!parseListenAddress(metricsListen, &a, &port, &why))
            errors->append(QStringLiteral("metrics_listen: ") + why);
    }
    if (allowedPortMin > allowedPortMax)
        errors->append(QStringLiteral("allowed_port_min: %1 is above allowed_port_max %2")
                           .arg(allowedPortMin)
                           .arg(allowedPortMax));
    if (backendPortMin > backendPortMax)
        errors->append(QStringLiteral("backend_port_min: %1 is above backend_port_max %2")
                           .arg(backendPortMin)
                           .arg(backendPortMax));
    if (backendCgroup != QLatin1String("auto") && backendCgroup != QLatin1String("on") &&
        backendCgroup != QLatin1String("off"))
        errors->append(
            QStringLiteral("backend_cgroup: \"%1\" is not auto, on or off").arg(backendCgroup.left(40)));
    if (backendUser.isEmpty())
        errors->append(QStringLiteral("backend_user: must name a user"));
    return errors->size() == before;
}

QJsonObject Config::toJson() const {
    QJsonObject o;
    for (const auto &k : kIntKeys)
        o.insert(QLatin1String(k.name), this->*k.member);
    for (const auto &k : kInt64Keys)
        o.insert(QLatin1String(k.name), double(this->*k.member));
    for (const auto &k : kPortKeys)
        o.insert(QLatin1String(k.name), int(this->*k.member));
    for (const auto &k : kStringKeys)
        o.insert(QLatin1String(k.name), this->*k.member);
    for (const auto &k : kBoolKeys)
        o.insert(QLatin1String(k.name), this->*k.member);
    o.insert(QStringLiteral("bind"), bind.toString());
    QJsonArray reserved;
    for (quint16 p : reservedPorts)
        reserved.append(int(p));
    o.insert(QStringLiteral("reserved_ports"), reserved);
    return o;
}

bool Config::load(const QString &path, Config *out, QStringList *errors) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        errors->append(QStringLiteral("%1: cannot read: %2").arg(path, f.errorString()));
        return false;
    }
    return parse(f.read(16 * 1024 * 1024), path, out, errors);
}

bool Config::parse(const QByteArray &data, const QString &origin, Config *out, QStringList *errors) {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        errors->append(QStringLiteral("%1: not a JSON object (%2 at byte %3)")
                           .arg(origin, pe.error != QJsonParseError::NoError ? pe.errorString()
                                                                             : QStringLiteral("wrong type"))
                           .arg(pe.offset));
        return false;
    }
    if (json::hasDuplicateKeys(data, doc.object())) {
        // QJsonDocument kept the last one: which the operator meant is unknowable.
        errors->append(QStringLiteral("%1: %2: appears twice; a setting may appear only once")
                           .arg(origin, json::firstDuplicateKey(data)));
        return false;
    }
    QStringList local;
    const bool ok = out->apply(doc.object(), &local);
    for (const auto &e : local)
        errors->append(origin + QStringLiteral(": ") + e);
    return ok;
}

QString Config::defaultAdminSocket() {
    return paths::defaultAdminSocket();
}

QString Config::defaultStateDir() {
    return paths::defaultStateDir();
}

QString Config::defaultBackendDir(const QString &stateDir) {
    // Beside the state tree, not in it: the state tree is the daemon's alone (0700), while
    // the backend user must reach its own folders here.
    const QString state = QDir::cleanPath(stateDir);
    return QFileInfo(state).absolutePath() + QStringLiteral("/portico-backends");
}

void Config::fillDefaults() {
    if (adminSocket.isEmpty())
        adminSocket = defaultAdminSocket();
    if (stateDir.isEmpty())
        stateDir = defaultStateDir();
    if (backendDir.isEmpty())
        backendDir = defaultBackendDir(stateDir);
    if (denoPath.isEmpty())
        denoPath = QStringLiteral("deno");
    if (dockerPath.isEmpty())
        dockerPath = QStringLiteral("docker");
}

bool parseListenAddress(const QString &text, QHostAddress *address, quint16 *port, QString *error) {
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) {
        *error = QStringLiteral("'%1' is not HOST:PORT (such as 127.0.0.1:9464 or [::1]:9464)").arg(text);
        return false;
    }
    QString host = text.left(colon);
    const QString portText = text.mid(colon + 1);
    const bool bracketed = host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']'));
    if (bracketed)
        host = host.mid(1, host.size() - 2);
    else if (host.contains(QLatin1Char(':'))) {
        *error = QStringLiteral("'%1': an IPv6 address goes in brackets, such as [::1]:9464").arg(text);
        return false;
    }
    QHostAddress a;
    if (!a.setAddress(host) || (bracketed && a.protocol() != QAbstractSocket::IPv6Protocol)) {
        *error = QStringLiteral("'%1': '%2' is not an IP address (names are not resolved)").arg(text, host);
        return false;
    }
    bool ok = false;
    const uint p = portText.toUInt(&ok);
    if (!ok || p > 65535 || portText.startsWith(QLatin1Char('+'))) {
        *error = QStringLiteral("'%1': '%2' is not a port (0-65535)").arg(text, portText);
        return false;
    }
    *address = a;
    *port = quint16(p);
    return true;
}

} // namespace portico

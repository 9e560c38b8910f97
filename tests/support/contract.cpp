#include "contract.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace portico::test::contract {

namespace {

// Types: number, string, bool, null, object, array, any; @name is a named shape below;
// array@name / array:type is an array of those; a|b is either. "open": true lets other keys
// through. Protocol version 2 (docs/admin-protocol.md's changelog).
constexpr const char *kShapes = R"json({
  "counters": {"open": true, "keys": {
    "connections_open": "number", "connections_total": "number", "bytes_in": "number",
    "bytes_out": "number", "requests": "number", "errors": "number"}},
  "rates": {"open": true, "keys": {
    "bytes_in_per_s": "number", "bytes_out_per_s": "number", "requests_per_s": "number",
    "errors_per_s": "number"}},
  "route": {"open": true, "keys": {
    "host_port": "number", "protocol": "string", "project": "string|null", "backend": "string",
    "path?": "string", "state": "string", "reason?": "string", "runtime?": "string",
    "counters": "@counters"}},
  "statsRoute": {"open": true, "keys": {
    "host_port": "number", "protocol": "string", "project": "string|null", "backend": "string",
    "path?": "string", "state": "string", "reason?": "string", "runtime?": "string",
    "counters": "@counters", "rates": "@rates"}},
  "project": {"open": true, "keys": {
    "name": "string", "runtime": "string", "state": "string", "reason?": "string",
    "manifest": "object", "source_dir": "string", "routes": "array@route", "backend?": "string",
    "pid": "number|null", "started_at": "string|null", "uptime_ms": "number|null",
    "restarts": "number", "last_exit": "@lastExit|null", "env_names": "array:string",
    "diff?": "@diff", "unchanged?": "bool"}},
  "deployedProject": {"open": true, "keys": {
    "name": "string", "runtime": "string", "state": "string", "reason?": "string",
    "manifest": "object", "source_dir": "string", "routes": "array@route", "backend?": "string",
    "pid": "number|null", "started_at": "string|null", "uptime_ms": "number|null",
    "restarts": "number", "last_exit": "@lastExit|null", "env_names": "array:string",
    "diff": "@diff", "unchanged?": "bool"}},
  "lastExit": {"keys": {
    "code?": "number", "signal?": "number", "signal_name?": "string", "at": "string"}},
  "diff": {"open": true, "keys": {
    "added": "array", "removed": "array", "kept": "array", "new_project": "bool"}},
  "logLine": {"keys": {"time": "string", "stream": "string", "text": "string"}},
  "auditEntry": {"keys": {
    "time": "string", "uid": "number", "pid": "number", "method": "string",
    "project": "string|null", "outcome": "string", "code?": "number", "error?": "string"}},

  "daemon.info": {"open": true, "keys": {
    "version": "string", "protocol_version": "number", "pid": "number", "uptime_ms": "number",
    "bind": "string", "ingress_port": "number", "admin_socket": "string", "state_dir": "string",
    "workers": "number", "projects": "number", "listeners": "array@route"}},
  "routes.list": {"keys": {"routes": "array@route"}},
  "projects.list": {"keys": {"projects": "array@project"}},
  "projects.get": "@project",
  "projects.validate": {"keys": {"ok": "bool", "project": "string", "unchanged": "bool", "diff": "@diff"}},
  "projects.deploy": "@deployedProject",
  "projects.undeploy": {"keys": {"project": "string", "undeployed": "bool"}},
  "projects.restart": {"keys": {"project": "string", "restarting": "bool"}},
  "projects.logs": {"keys": {"project": "string", "deployed": "bool", "lines": "array@logLine"}},
  "stats.get": {"keys": {"time": "string", "uptime_ms": "number", "routes": "array@statsRoute",
    "data_plane": "object"}},
  "events.subscribe": {"keys": {"subscribed": "bool", "kinds": "array:string"}},
  "daemon.reload": {"keys": {"changed": "number", "problems": "array:string"}},
  "audit.list": {"keys": {"entries": "array@auditEntry"}},

  "event routes.changed": {"keys": {"routes": "array@route"}},
  "event project.state": {"keys": {"project": "string", "state": "string", "reason": "string"}},
  "event project.deployed": {"open": true, "keys": {"project": "string"}},
  "event project.undeployed": {"keys": {"project": "string"}},
  "event deploy.refused": {"open": true, "keys": {
    "project": "string", "message": "string", "errors?": "array", "conflicts?": "array"}},
  "event route.conflict": {"keys": {
    "project": "string", "port": "number", "transport": "string", "reason": "string"}},
  "event stats.tick": {"keys": {"time": "string", "uptime_ms": "number", "routes": "array@statsRoute",
    "data_plane": "object"}},
  "event project.log": {"keys": {
    "project": "string", "time": "string", "stream": "string", "text": "string"}}
})json";

const QJsonObject &shapes() {
    static const QJsonObject s = QJsonDocument::fromJson(kShapes).object();
    Q_ASSERT(!s.isEmpty());
    return s;
}

QString typeName(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    default:
        return QStringLiteral("absent");
    }
}

QStringList checkShape(const QJsonValue &shape, const QJsonValue &v, const QString &where);

// One alternative of a type: "number", "@route", "array@route", "array:string".
QStringList checkOne(const QString &type, const QJsonValue &v, const QString &where) {
    if (type == QLatin1String("any"))
        return {};
    if (type.startsWith(QLatin1Char('@')))
        return checkShape(shapes().value(type.mid(1)), v, where);
    if (type.startsWith(QLatin1String("array@")) || type.startsWith(QLatin1String("array:"))) {
        if (!v.isArray())
            return {QStringLiteral("%1: is %2, not an array").arg(where, typeName(v))};
        const QString element = type.mid(5).startsWith(QLatin1Char(':')) ? type.mid(6) : type.mid(5);
        QStringList problems;
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            QStringList alternatives;
            bool matched = false;
            for (const QString &alt : element.split(QLatin1Char('|'))) {
                const QStringList p = checkOne(alt, a.at(i), QStringLiteral("%1[%2]").arg(where).arg(i));
                if (p.isEmpty()) {
                    matched = true;
                    break;
                }
                alternatives += p;
            }
            if (!matched)
                problems += alternatives;
        }
        return problems;
    }
    if (typeName(v) != type)
        return {QStringLiteral("%1: is %2, not %3").arg(where, typeName(v), type)};
    return {};
}

QStringList checkType(const QString &type, const QJsonValue &v, const QString &where) {
    // "array:string|@logLine" is an array whose elements are either (the union is inside).
    if (type.startsWith(QLatin1String("array@")) || type.startsWith(QLatin1String("array:")))
        return checkOne(type, v, where);
    QStringList problems;
    for (const QString &alt : type.split(QLatin1Char('|'))) {
        const QStringList p = checkOne(alt, v, where);
        if (p.isEmpty())
            return {};
        problems += p;
    }
    return problems;
}

QStringList checkShape(const QJsonValue &shape, const QJsonValue &v, const QString &where) {
    if (shape.isString())
        return checkType(shape.toString(), v, where);
    if (!v.isObject())
        return {QStringLiteral("%1: is %2, not an object").arg(where, typeName(v))};
    const QJsonObject spec = shape.toObject();
    const QJsonObject keys = spec.value(QStringLiteral("keys")).toObject();
    const QJsonObject o = v.toObject();
    QStringList problems;
    QStringList known;
    for (auto it = keys.begin(); it != keys.end(); ++it) {
        QString key = it.key();
        const bool optional = key.endsWith(QLatin1Char('?'));
        if (optional)
            key.chop(1);
        known.append(key);
        if (!o.contains(key)) {
            if (!optional)
                problems.append(QStringLiteral("%1: no key '%2'").arg(where, key));
            continue;
        }
        problems += checkType(it.value().toString(), o.value(key), where + QLatin1Char('.') + key);
    }
    if (!spec.value(QStringLiteral("open")).toBool()) {
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!known.contains(it.key()))
                problems.append(QStringLiteral("%1: key '%2' is not in the protocol").arg(where, it.key()));
        }
    }
    return problems;
}

} // namespace

QStringList checkResult(const QString &method, const QJsonValue &result) {
    if (!shapes().contains(method))
        return {QStringLiteral("%1: not a method of the protocol").arg(method)};
    return checkShape(shapes().value(method), result, method);
}

QStringList checkEvent(const QString &kind, const QJsonValue &data) {
    const QString key = QStringLiteral("event ") + kind;
    if (!shapes().contains(key))
        return {QStringLiteral("%1: not an event kind of the protocol").arg(kind)};
    return checkShape(shapes().value(key), data, kind);
}

QStringList methods() {
    QStringList out;
    for (const QString &k : shapes().keys()) {
        if (k.contains(QLatin1Char('.')) && !k.startsWith(QLatin1String("event ")))
            out.append(k);
    }
    return out;
}

QStringList eventKinds() {
    QStringList out;
    for (const QString &k : shapes().keys()) {
        if (k.startsWith(QLatin1String("event ")))
            out.append(k.mid(6));
    }
    return out;
}

} // namespace portico::test::contract

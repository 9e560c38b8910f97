#include "manifest.h"

#include "jsonkeys.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QSet>

#include <cmath>

namespace portico {

QString protocolName(Protocol p) {
    switch (p) {
    case Protocol::Http:
        return QStringLiteral("http");
    case Protocol::Tcp:
        return QStringLiteral("tcp");
    case Protocol::Udp:
        return QStringLiteral("udp");
    }
    return {};
}

std::optional<Protocol> protocolFromName(const QString &name) {
    if (name == QLatin1String("http"))
        return Protocol::Http;
    if (name == QLatin1String("tcp"))
        return Protocol::Tcp;
    if (name == QLatin1String("udp"))
        return Protocol::Udp;
    return std::nullopt;
}

Transport transportOf(Protocol p) {
    return p == Protocol::Udp ? Transport::Udp : Transport::Tcp;
}

QString transportName(Transport t) {
    return t == Transport::Udp ? QStringLiteral("udp") : QStringLiteral("tcp");
}

QString runtimeName(RuntimeKind r) {
    switch (r) {
    case RuntimeKind::Upstream:
        return QStringLiteral("upstream");
    case RuntimeKind::Process:
        return QStringLiteral("process");
    case RuntimeKind::Deno:
        return QStringLiteral("deno");
    case RuntimeKind::Static:
        return QStringLiteral("static");
    case RuntimeKind::Dockerfile:
        return QStringLiteral("dockerfile");
    }
    return {};
}

std::optional<RuntimeKind> runtimeFromName(const QString &name) {
    for (auto r : {RuntimeKind::Upstream, RuntimeKind::Process, RuntimeKind::Deno, RuntimeKind::Static,
                   RuntimeKind::Dockerfile}) {
        if (runtimeName(r) == name)
            return r;
    }
    return std::nullopt;
}

QString proxyProtocolName(ProxyProtocol p) {
    switch (p) {
    case ProxyProtocol::None:
        return {};
    case ProxyProtocol::V1:
        return QStringLiteral("v1");
    case ProxyProtocol::V2:
        return QStringLiteral("v2");
    }
    return {};
}

QString dotfilesName(Dotfiles d) {
    switch (d) {
    case Dotfiles::Deny:
        return QStringLiteral("deny");
    case Dotfiles::Ignore:
        return QStringLiteral("ignore");
    case Dotfiles::Allow:
        return QStringLiteral("allow");
    }
    return {};
}

std::optional<Dotfiles> dotfilesFromName(const QString &name) {
    for (auto d : {Dotfiles::Deny, Dotfiles::Ignore, Dotfiles::Allow}) {
        if (dotfilesName(d) == name)
            return d;
    }
    return std::nullopt;
}

QString ListenSpec::portLabel() const {
    return QStringLiteral("%1/%2").arg(port).arg(transportName(transport()));
}

QJsonObject ListenSpec::toJson() const {
    QJsonObject o{{QStringLiteral("port"), int(port)}, {QStringLiteral("protocol"), protocolName(protocol)}};
    if (proxyProtocol != ProxyProtocol::None)
        o.insert(QStringLiteral("proxy_protocol"), proxyProtocolName(proxyProtocol));
    return o;
}

QJsonObject ValidationError::toJson() const {
    return {{QStringLiteral("path"), path}, {QStringLiteral("message"), message}};
}

QString ManifestParseResult::errorText() const {
    QStringList lines;
    for (const auto &e : errors)
        lines << e.toString();
    return lines.join(QLatin1Char('\n'));
}

QJsonArray ManifestParseResult::errorsJson() const {
    QJsonArray a;
    for (const auto &e : errors)
        a.append(e.toJson());
    return a;
}

bool isReservedProjectName(const QString &name) {
    static const QSet<QString> reserved{QStringLiteral("_api"), QStringLiteral("_portico"),
                                        QStringLiteral("api"), QStringLiteral("favicon.ico"),
                                        QStringLiteral("robots.txt")};
    return reserved.contains(name);
}

bool isValidProjectName(const QString &name) {
    static const QRegularExpression re(QStringLiteral("^[a-z0-9][a-z0-9-]{0,62}$"));
    return re.match(name).hasMatch() && !isReservedProjectName(name);
}

QString Manifest::effectiveEntry() const {
    if (!entry.isEmpty())
        return entry;
    switch (runtime) {
    case RuntimeKind::Deno:
        return QStringLiteral("server.ts");
    case RuntimeKind::Dockerfile:
        return QStringLiteral("Dockerfile");
    default:
        return {};
    }
}

QJsonObject Manifest::toJson() const {
    QJsonObject o;
    o.insert(QStringLiteral("name"), name);
    o.insert(QStringLiteral("runtime"), runtimeName(runtime));
    if (!entry.isEmpty())
        o.insert(QStringLiteral("entry"), entry);
    if (!command.isEmpty())
        o.insert(QStringLiteral("command"), QJsonArray::fromStringList(command));
    if (!upstream.isEmpty())
        o.insert(QStringLiteral("upstream"), upstream);
    if (!env.isEmpty()) {
        QJsonObject e;
        for (auto it = env.cbegin(); it != env.cend(); ++it)
            e.insert(it.key(), it.value());
        o.insert(QStringLiteral("env"), e);
    }
    if (!workdir.isEmpty())
        o.insert(QStringLiteral("workdir"), workdir);
    if (dotfiles != Dotfiles::Deny)
        o.insert(QStringLiteral("dotfiles"), dotfilesName(dotfiles));
    switch (listenShape) {
    case ListenShape::Absent:
        break;
    case ListenShape::Null:
        o.insert(QStringLiteral("listen"), QJsonValue::Null);
        break;
    case ListenShape::Object:
        if (!listen.isEmpty())
            o.insert(QStringLiteral("listen"), listen.first().toJson());
        break;
    case ListenShape::Array: {
        QJsonArray a;
        for (const auto &l : listen)
            a.append(l.toJson());
        o.insert(QStringLiteral("listen"), a);
        break;
    }
    }
    return o;
}

namespace {

QString typeName(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("a boolean");
    case QJsonValue::Double:
        return QStringLiteral("a number");
    case QJsonValue::String:
        return QStringLiteral("a string");
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        return QStringLiteral("missing");
    }
    return {};
}

QString shown(const QJsonValue &v) {
    if (v.isString())
        return QLatin1Char('"') + v.toString().left(80) + QLatin1Char('"');
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 17);
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return typeName(v);
}

class Parser {
public:
    QList<ValidationError> errors;

    void error(const QString &path, const QString &message) { errors.append({path, message}); }

    // A string field: absent gives nullopt silently, a wrong type is an error.
    std::optional<QString> string(const QJsonObject &o, const QString &key, const QString &path) {
        const QJsonValue v = o.value(key);
        if (v.isUndefined())
            return std::nullopt;
        if (!v.isString()) {
            error(path, QStringLiteral("must be a string, not %1").arg(typeName(v)));
            return std::nullopt;
        }
        const QString s = v.toString();
        if (s.size() > Manifest::kMaxStringLength) {
            error(path, QStringLiteral("is longer than %1 characters").arg(Manifest::kMaxStringLength));
            return std::nullopt;
        }
        return s;
    }

    void listenEntry(const QJsonValue &v, const QString &path, Manifest &m) {
        if (!v.isObject()) {
            error(path,
                  QStringLiteral("must be an object like {\"port\": 3000, \"protocol\": \"http\"}, not %1")
                      .arg(typeName(v)));
            return;
        }
        const QJsonObject o = v.toObject();
        ListenSpec spec;
        bool ok = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            static const QSet<QString> known{QStringLiteral("port"), QStringLiteral("protocol"),
                                             QStringLiteral("proxy_protocol")};
            if (!known.contains(it.key())) {
                error(path + QLatin1Char('.') + it.key(),
                      QStringLiteral("unknown field (expected port, protocol or proxy_protocol)"));
                ok = false;
            }
        }
        const QJsonValue port = o.value(QStringLiteral("port"));
        const QString portPath = path + QStringLiteral(".port");
        if (port.isUndefined()) {
            error(portPath, QStringLiteral("is required"));
            ok = false;
        } else if (!port.isDouble()) {
            error(portPath, QStringLiteral("must be a number, not %1").arg(typeName(port)));
            ok = false;
        } else {
            const double d = port.toDouble();
            if (std::floor(d) != d || d < 1 || d > 65535) {
                error(portPath, QStringLiteral("%1 is not a port (1-65535)").arg(shown(port)));
                ok = false;
            } else {
                spec.port = quint16(d);
            }
        }
        const QJsonValue proto = o.value(QStringLiteral("protocol"));
        if (!proto.isUndefined() && !proto.isNull()) {
            const auto p = proto.isString() ? protocolFromName(proto.toString()) : std::nullopt;
            if (!p) {
                error(path + QStringLiteral(".protocol"),
                      QStringLiteral("%1 is not a protocol (http, tcp or udp)").arg(shown(proto)));
                ok = false;
            } else {
                spec.protocol = *p;
            }
        }
        const QJsonValue pp = o.value(QStringLiteral("proxy_protocol"));
        if (!pp.isUndefined() && !pp.isNull()) {
            const QString ppPath = path + QStringLiteral(".proxy_protocol");
            if (pp == QJsonValue(QStringLiteral("v1")))
                spec.proxyProtocol = ProxyProtocol::V1;
            else if (pp == QJsonValue(QStringLiteral("v2")))
                spec.proxyProtocol = ProxyProtocol::V2;
            else {
                error(ppPath, QStringLiteral("%1 is not a PROXY protocol version (v1 or v2)").arg(shown(pp)));
                ok = false;
            }
            if (spec.proxyProtocol != ProxyProtocol::None && spec.protocol != Protocol::Tcp) {
                error(ppPath, QStringLiteral("is only for protocol \"tcp\""));
                ok = false;
            }
        }
        if (ok)
            m.listen.append(spec);
    }

    void listen(const QJsonValue &v, Manifest &m) {
        const QString path = QStringLiteral("listen");
        if (v.isUndefined()) {
            m.listenShape = Manifest::ListenShape::Absent;
        } else if (v.isNull()) {
            m.listenShape = Manifest::ListenShape::Null;
        } else if (v.isObject()) {
            m.listenShape = Manifest::ListenShape::Object;
            listenEntry(v, path, m);
        } else if (v.isArray()) {
            m.listenShape = Manifest::ListenShape::Array;
            const QJsonArray a = v.toArray();
            if (a.isEmpty())
                error(path,
                      QStringLiteral("is an empty array; use null (or leave it out) for path routing only"));
            if (a.size() > Manifest::kMaxListen) {
                error(path, QStringLiteral("has %1 entries, at most %2 are allowed")
                                .arg(a.size())
                                .arg(Manifest::kMaxListen));
                return;
            }
            for (int i = 0; i < a.size(); ++i)
                listenEntry(a.at(i), QStringLiteral("listen[%1]").arg(i), m);
            // The same port twice in one transport can never be bound.
            QSet<QString> seen;
            for (int i = 0; i < m.listen.size(); ++i) {
                const QString label = m.listen.at(i).portLabel();
                if (seen.contains(label))
                    error(QStringLiteral("listen[%1].port").arg(i),
                          QStringLiteral("port %1 is listed twice in this manifest").arg(label));
                seen.insert(label);
            }
        } else {
            error(path,
                  QStringLiteral("must be null, an object or an array of objects, not %1").arg(typeName(v)));
        }
    }
};

bool isValidUpstream(const QString &s, QString *why) {
    if (s.startsWith(QLatin1String("unix:"))) {
        const QString p = s.mid(5);
        if (p.isEmpty() || !p.startsWith(QLatin1Char('/'))) {
            *why = QStringLiteral("a unix socket needs an absolute path (unix:/run/app.sock)");
            return false;
        }
        return true;
    }
    QString host;
    QString port;
    if (s.startsWith(QLatin1Char('['))) {
        const int close = s.indexOf(QLatin1Char(']'));
        if (close < 0 || close + 1 >= s.size() || s.at(close + 1) != QLatin1Char(':')) {
            *why = QStringLiteral("expected [address]:port");
            return false;
        }
        host = s.mid(1, close - 1);
        port = s.mid(close + 2);
    } else {
        const int colon = s.lastIndexOf(QLatin1Char(':'));
        if (colon <= 0) {
            *why = QStringLiteral("expected host:port, [address]:port or unix:/path");
            return false;
        }
        host = s.left(colon);
        port = s.mid(colon + 1);
        if (host.contains(QLatin1Char(':'))) {
            *why = QStringLiteral("an IPv6 address must be in brackets ([::1]:9000)");
            return false;
        }
    }
    static const QRegularExpression hostRe(QStringLiteral("^[A-Za-z0-9.:-]+$"));
    if (host.isEmpty() || !hostRe.match(host).hasMatch()) {
        *why = QStringLiteral("the host part is empty or has characters a host name cannot have");
        return false;
    }
    bool ok = false;
    const int p = port.toInt(&ok);
    if (!ok || p < 1 || p > 65535) {
        *why = QStringLiteral("the port part must be a number from 1 to 65535");
        return false;
    }
    return true;
}

} // namespace

ManifestParseResult Manifest::parse(const QByteArray &json) {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        ManifestParseResult r;
        r.errors.append(
            {QString(),
             QStringLiteral("not valid JSON at byte %1: %2").arg(pe.offset).arg(pe.errorString())});
        return r;
    }
    const QJsonValue value = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
    if (json::hasDuplicateKeys(json, value)) {
        // QJsonDocument kept the last one: which the author meant is unknowable.
        ManifestParseResult r;
        r.errors.append(
            {json::firstDuplicateKey(json), QStringLiteral("appears twice; a key may appear only once")});
        return r;
    }
    return parse(value);
}

ManifestParseResult Manifest::parse(const QJsonValue &json) {
    ManifestParseResult result;
    Parser p;
    if (!json.isObject()) {
        p.error(QString(), QStringLiteral("a manifest must be a JSON object, not %1").arg(typeName(json)));
        result.errors = p.errors;
        return result;
    }
    const QJsonObject o = json.toObject();
    Manifest m;

    // "$schema" points editors at resources/schema/portico.schema.json; it means nothing here.
    static const QSet<QString> known{QStringLiteral("name"),     QStringLiteral("runtime"),
                                     QStringLiteral("entry"),    QStringLiteral("command"),
                                     QStringLiteral("upstream"), QStringLiteral("env"),
                                     QStringLiteral("workdir"),  QStringLiteral("listen"),
                                     QStringLiteral("dotfiles"), QStringLiteral("$schema")};
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!known.contains(it.key()))
            p.error(it.key(),
                    QStringLiteral("unknown field (expected one of name, runtime, entry, command, upstream, "
                                   "env, workdir, listen, dotfiles)"));
    }

    p.string(o, QStringLiteral("$schema"), QStringLiteral("$schema"));

    // name
    if (!o.contains(QStringLiteral("name"))) {
        p.error(QStringLiteral("name"), QStringLiteral("is required"));
    } else if (auto name = p.string(o, QStringLiteral("name"), QStringLiteral("name"))) {
        if (isReservedProjectName(*name))
            p.error(QStringLiteral("name"), QStringLiteral("\"%1\" is reserved by the daemon").arg(*name));
        else if (!isValidProjectName(*name))
            p.error(
                QStringLiteral("name"),
                QStringLiteral("\"%1\" is not a project name (1-63 of a-z, 0-9 and -, starting with a letter "
                               "or digit)")
                    .arg(name->left(80)));
        else
            m.name = *name;
    }

    // runtime
    bool runtimeOk = false;
    if (!o.contains(QStringLiteral("runtime"))) {
        p.error(QStringLiteral("runtime"),
                QStringLiteral("is required (upstream, process, deno, static or dockerfile)"));
    } else if (auto rt = p.string(o, QStringLiteral("runtime"), QStringLiteral("runtime"))) {
        if (auto r = runtimeFromName(*rt)) {
            m.runtime = *r;
            runtimeOk = true;
        } else {
            p.error(QStringLiteral("runtime"),
                    QStringLiteral("\"%1\" is not a runtime (upstream, process, deno, static or dockerfile)")
                        .arg(rt->left(80)));
        }
    }

    if (auto entry = p.string(o, QStringLiteral("entry"), QStringLiteral("entry"))) {
        if (entry->isEmpty())
            p.error(QStringLiteral("entry"), QStringLiteral("must not be empty"));
        m.entry = *entry;
    }
    if (auto up = p.string(o, QStringLiteral("upstream"), QStringLiteral("upstream"))) {
        QString why;
        if (!isValidUpstream(*up, &why))
            p.error(QStringLiteral("upstream"),
                    QStringLiteral("\"%1\" is not an address: %2").arg(up->left(80), why));
        m.upstream = *up;
    }
    if (auto wd = p.string(o, QStringLiteral("workdir"), QStringLiteral("workdir")))
        m.workdir = *wd;
    if (auto df = p.string(o, QStringLiteral("dotfiles"), QStringLiteral("dotfiles"))) {
        if (auto d = dotfilesFromName(*df))
            m.dotfiles = *d;
        else
            p.error(
                QStringLiteral("dotfiles"),
                QStringLiteral("\"%1\" is not a dotfiles setting (deny, ignore or allow)").arg(df->left(80)));
    }

    // command
    const QJsonValue cmd = o.value(QStringLiteral("command"));
    if (!cmd.isUndefined()) {
        if (!cmd.isArray()) {
            p.error(QStringLiteral("command"),
                    QStringLiteral("must be an array of strings (argv), not %1").arg(typeName(cmd)));
        } else {
            const QJsonArray a = cmd.toArray();
            if (a.isEmpty())
                p.error(QStringLiteral("command"), QStringLiteral("must name a program to run"));
            if (a.size() > kMaxCommandArgs)
                p.error(QStringLiteral("command"),
                        QStringLiteral("has more than %1 arguments").arg(kMaxCommandArgs));
            for (int i = 0; i < a.size() && i < kMaxCommandArgs; ++i) {
                const QString path = QStringLiteral("command[%1]").arg(i);
                if (!a.at(i).isString())
                    p.error(path, QStringLiteral("must be a string, not %1").arg(typeName(a.at(i))));
                else if (i == 0 && a.at(i).toString().isEmpty())
                    p.error(path, QStringLiteral("the program name must not be empty"));
                else
                    m.command.append(a.at(i).toString());
            }
        }
    }

    // env
    const QJsonValue env = o.value(QStringLiteral("env"));
    if (!env.isUndefined()) {
        if (!env.isObject()) {
            p.error(QStringLiteral("env"),
                    QStringLiteral("must be an object of strings, not %1").arg(typeName(env)));
        } else {
            const QJsonObject e = env.toObject();
            if (e.size() > kMaxEnv)
                p.error(QStringLiteral("env"), QStringLiteral("has more than %1 variables").arg(kMaxEnv));
            static const QRegularExpression keyRe(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
            for (auto it = e.begin(); it != e.end(); ++it) {
                const QString path = QStringLiteral("env.") + it.key();
                if (!keyRe.match(it.key()).hasMatch())
                    p.error(path, QStringLiteral("is not a variable name (letters, digits and _)"));
                else if (it.key() == QLatin1String("PORT") || it.key() == QLatin1String("HOST"))
                    p.error(path, QStringLiteral("is set by the daemon for every backend"));
                else if (!it.value().isString())
                    p.error(path, QStringLiteral("must be a string, not %1").arg(typeName(it.value())));
                else if (it.value().toString().size() > kMaxStringLength)
                    p.error(path, QStringLiteral("is longer than %1 characters").arg(kMaxStringLength));
                else
                    m.env.insert(it.key(), it.value().toString());
            }
        }
    }

    p.listen(o.value(QStringLiteral("listen")), m);

    // What each runtime needs, and what it cannot use.
    if (runtimeOk) {
        const auto notFor = [&](const char *field) {
            if (o.contains(QLatin1String(field)))
                p.error(QLatin1String(field),
                        QStringLiteral("is not used by the %1 runtime").arg(runtimeName(m.runtime)));
        };
        switch (m.runtime) {
        case RuntimeKind::Upstream:
            if (!o.contains(QStringLiteral("upstream")))
                p.error(QStringLiteral("upstream"),
                        QStringLiteral("is required for the upstream runtime (e.g. \"127.0.0.1:9000\")"));
            notFor("command");
            notFor("entry");
            notFor("env");
            notFor("workdir");
            notFor("dotfiles");
            if (m.upstream.startsWith(QLatin1String("unix:"))) {
                for (int i = 0; i < m.listen.size(); ++i) {
                    if (m.listen.at(i).protocol == Protocol::Udp)
                        p.error(QStringLiteral("listen"),
                                QStringLiteral("a udp port cannot be relayed to a unix stream socket"));
                }
            }
            break;
        case RuntimeKind::Process:
            if (!o.contains(QStringLiteral("command")))
                p.error(
                    QStringLiteral("command"),
                    QStringLiteral("is required for the process runtime (e.g. [\"python3\", \"app.py\"])"));
            notFor("upstream");
            notFor("entry");
            notFor("dotfiles");
            break;
        case RuntimeKind::Deno:
            notFor("upstream");
            notFor("command");
            notFor("dotfiles");
            break;
        case RuntimeKind::Static:
            if (!o.contains(QStringLiteral("entry")))
                p.error(QStringLiteral("entry"),
                        QStringLiteral("is required for the static runtime (the directory to serve)"));
            notFor("upstream");
            notFor("command");
            notFor("env");
            for (int i = 0; i < m.listen.size(); ++i) {
                if (m.listen.at(i).protocol != Protocol::Http)
                    p.error(QStringLiteral("listen"),
                            QStringLiteral("the static runtime serves http only, not %1")
                                .arg(protocolName(m.listen.at(i).protocol)));
            }
            break;
        case RuntimeKind::Dockerfile:
            notFor("upstream");
            notFor("command");
            notFor("dotfiles");
            break;
        }
    }

    result.errors = p.errors;
    if (result.errors.isEmpty())
        result.manifest = m;
    return result;
}

} // namespace portico

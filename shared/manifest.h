#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace portico {

// What a visitor speaks on a listen port.
enum class Protocol { Http, Tcp, Udp };
// The kernel namespace a port lives in: HTTP and TCP share one, UDP has its own.
enum class Transport { Tcp, Udp };
enum class ProxyProtocol { None, V1, V2 };
enum class RuntimeKind { Upstream, Process, Deno, Static, Dockerfile };
// What the static runtime does with a path that has a segment starting with "." (.git,
// .env, ...): refuse it with 403 (the default), answer 404 as if it did not exist, or
// serve it. /.well-known/ (RFC 8615) is served under every setting.
enum class Dotfiles { Deny, Ignore, Allow };

QString protocolName(Protocol p);
std::optional<Protocol> protocolFromName(const QString &name);
Transport transportOf(Protocol p);
QString transportName(Transport t);
QString runtimeName(RuntimeKind r);
std::optional<RuntimeKind> runtimeFromName(const QString &name);
QString proxyProtocolName(ProxyProtocol p);
QString dotfilesName(Dotfiles d);
std::optional<Dotfiles> dotfilesFromName(const QString &name);

struct ListenSpec {
    quint16 port = 0;
    Protocol protocol = Protocol::Http;
    ProxyProtocol proxyProtocol = ProxyProtocol::None; // tcp only
    Transport transport() const { return transportOf(protocol); }
    // "3000/tcp": how conflicts name a port.
    QString portLabel() const;
    QJsonObject toJson() const;
    friend bool operator==(const ListenSpec &, const ListenSpec &) = default;
};

// One validation problem: a JSON path ("listen[1].port") and a plain sentence.
struct ValidationError {
    QString path;
    QString message;
    QString toString() const { return path.isEmpty() ? message : path + QStringLiteral(": ") + message; }
    QJsonObject toJson() const;
    friend bool operator==(const ValidationError &, const ValidationError &) = default;
};

struct ManifestParseResult;

// A project's manifest: the value the daemon deploys. Parsed from JSON with every
// error reported at once; unknown fields are errors so that typos never pass silently.
struct Manifest {
    // How "listen" was written, kept so that toJson() gives back the same JSON.
    enum class ListenShape { Absent, Null, Object, Array };

    QString name;
    RuntimeKind runtime = RuntimeKind::Process;
    QString entry;       // deno: script (default server.ts); static: directory; dockerfile: Dockerfile
    QStringList command; // process: argv
    QString upstream;    // upstream: "host:port", "[v6]:port" or "unix:/path"
    QMap<QString, QString> env;
    QString workdir;
    Dotfiles dotfiles = Dotfiles::Deny; // static only
    QList<ListenSpec> listen;           // empty: path-routed on the ingress
    ListenShape listenShape = ListenShape::Absent;

    bool isPathRouted() const { return listen.isEmpty(); }
    // entry with the runtime's default applied.
    QString effectiveEntry() const;

    QJsonObject toJson() const;
    static ManifestParseResult parse(const QJsonValue &json);
    // Parses bytes (a file or a request); JSON syntax errors are reported like any other.
    static ManifestParseResult parse(const QByteArray &json);

    friend bool operator==(const Manifest &, const Manifest &) = default;

    static constexpr int kMaxListen = 16;
    static constexpr int kMaxCommandArgs = 256;
    static constexpr int kMaxEnv = 256;
    static constexpr int kMaxStringLength = 4096;
};

struct ManifestParseResult {
    std::optional<Manifest> manifest; // set only when errors is empty
    QList<ValidationError> errors;
    bool ok() const { return errors.isEmpty() && manifest.has_value(); }
    QString errorText() const; // one error per line
    QJsonArray errorsJson() const;
};

bool isValidProjectName(const QString &name);
bool isReservedProjectName(const QString &name);

} // namespace portico

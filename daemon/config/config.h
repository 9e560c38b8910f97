#pragma once

#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcConfig)

namespace portico {

// Every setting of the daemon. Every key of the JSON config file has a default here;
// unknown keys are errors.
struct Config {
    // Listeners
    QHostAddress bind = QHostAddress(QHostAddress::LocalHost); // ingress and project ports
    quint16 ingressPort = 8080;
    QList<quint16> reservedPorts;  // never given to a project
    quint16 allowedPortMin = 1024; // project ports must lie in [min, max]
    quint16 allowedPortMax = 65535;
    quint16 backendPortMin = 20000; // ports picked for process/deno backends on 127.0.0.1
    quint16 backendPortMax = 29999;
    int workers = 0; // data-plane threads; 0 = one per core

    // Files
    QString adminSocket; // default: /run/portico/admin.sock as root, else $XDG_RUNTIME_DIR/portico/admin.sock
    QString adminGroup;  // if set: socket mode 0660 and this group may connect
    QString stateDir;    // default: /var/lib/portico as root, else $XDG_STATE_HOME/portico
    QString denoPath;    // default: "deno" on PATH
    QString dockerPath;  // default: "docker" on PATH

    // Backends (process, deno). When porticod runs as root they run as backendUser, with a
    // clean environment and a folder of their own per project under backendDir (HOME,
    // DENO_DIR); as any other user they run as that user (see docs/security.md).
    QString backendUser = QStringLiteral("portico-backend");
    QString backendDir; // default: portico-backends next to stateDir
    // auto: a cgroup per backend where delegated (docs/security.md); on: wherever writable; off
    QString backendCgroup = QStringLiteral("auto");

    // HTTP limits and timeouts (milliseconds)
    int maxHeaderBytes = 64 * 1024;
    int maxHeaderCount = 100;
    qint64 maxBodyBytes = 0;      // 0 = no limit
    int headerTimeoutMs = 10'000; // whole request head must arrive within this (slowloris)
    int keepAliveIdleMs = 60'000;
    int backendConnectTimeoutMs = 5'000;
    int backendResponseTimeoutMs = 60'000;
    int backendPoolSize = 32;             // idle keep-alive connections kept per backend per worker
    int tunnelIdleTimeoutMs = 3'600'000;  // upgraded (WebSocket) connections
    qint64 relayBufferBytes = 256 * 1024; // backpressure bound per direction
    bool accessLog = true;

    // TCP / UDP relays
    int tcpConnectTimeoutMs = 5'000;
    int tcpIdleTimeoutMs = 3'600'000;
    int udpIdleTimeoutMs = 30'000;
    int udpMaxSessions = 1024;
    int maxConnectionsPerListener = 10'000;
    // One client address may hold at most this many connections on one port (0: no limit),
    // so that a single client cannot fill a port and lock everyone else out. Browsers open
    // about six per host; this leaves room for a large NAT.
    int maxConnectionsPerSource = 1000;
    // Who may read the ingress's `GET /` and `GET /_api/routes` (backend addresses, static
    // paths): "loopback" (clients on 127.0.0.0/8 and ::1), "all", or "off".
    QString ingressApi = QStringLiteral("loopback");

    // Control plane
    int drainTimeoutMs = 10'000;
    int readyTimeoutMs = 30'000; // backend must accept connections within this
    int stopGraceMs = 5'000;     // SIGTERM -> SIGKILL
    int conflictRetryMs = 5'000; // persisted project whose port is busy: retry bind
    int healthCheckIntervalMs = 5'000;
    int adminMaxLineBytes = 4 * 1024 * 1024;
    int adminMaxClients = 256;
    int adminIdleTimeoutMs = 60'000;          // a connection with nothing in progress and no subscription
    int adminMaxQueueBytes = 8 * 1024 * 1024; // a subscriber that stops reading is cut past this
    int logRingLines = 1000;

    // Monitoring: "HOST:PORT" where GET /metrics (Prometheus) and /healthz are served;
    // empty: no such listener. Plain HTTP and readable by whoever reaches it: keep it on
    // loopback or a monitoring network.
    QString metricsListen;

    // Loads a JSON config file over the defaults. Returns false with every problem in *errors.
    static bool load(const QString &path, Config *out, QStringList *errors);
    // The same from the file's bytes; errors start with `origin` (the file's path).
    static bool parse(const QByteArray &data, const QString &origin, Config *out, QStringList *errors);
    bool apply(const QJsonObject &o, QStringList *errors);
    QJsonObject toJson() const;

    // Defaults derived from the environment, applied after load and command-line overrides.
    void fillDefaults();
    static QString defaultAdminSocket();
    static QString defaultStateDir();
    static QString defaultBackendDir(const QString &stateDir);
};

// Parses "HOST:PORT": an IP address (IPv6 in brackets, "[::1]:9464"; names are not
// resolved) and a port (0 picks a free one). False with a sentence naming what is wrong.
bool parseListenAddress(const QString &text, QHostAddress *address, quint16 *port, QString *error);

} // namespace portico

#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QMap>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace portico::test {

// A real porticod in a temporary state directory, on a free ingress port, with its
// own admin socket. Tests drive it over the admin socket like any client would.
class DaemonFixture {
public:
    DaemonFixture();
    ~DaemonFixture(); // stops the daemon (SIGTERM, then SIGKILL)

    // Extra config keys (written to a config file) and arguments; call before start().
    QJsonObject config;
    QStringList extraArgs;
    // Extra environment variables for porticod itself (what backends must not see).
    QMap<QString, QString> environment;
    // Leave the daemon's output in a pipe nobody reads (a stalled log reader), instead of
    // a file.
    bool logToUnreadPipe = false;

    // Starts and waits until the admin socket answers daemon.info. False with the
    // daemon's output in *why.
    bool start(QString *why = nullptr);
    void stop();
    void kill(); // SIGKILL, for crash tests
    bool isRunning() const;

    quint16 ingressPort() const { return m_ingressPort; }
    QString stateDir() const { return m_dir.path() + QStringLiteral("/state"); }
    QString socketPath() const { return m_dir.path() + QStringLiteral("/admin.sock"); }
    // 0755, unlike a usual temporary folder: a root porticod runs backends as its backend
    // user, who must reach the sources and workdirs tests put here (the state tree and the
    // admin socket inside stay private: the daemon makes them so).
    QString dir() const { return m_dir.path(); }
    qint64 pid() const { return m_process ? m_process->processId() : 0; }
    QByteArray output() const; // everything the daemon printed so far

    // One JSON-RPC call over a fresh connection (blocking, bounded by timeoutMs).
    // Returns the whole response object ({"result":...} or {"error":...}).
    QJsonObject call(const QString &method, const QJsonObject &params = {}, int timeoutMs = 30000) const;
    // projects.deploy with a manifest written as JSON; sourceDir defaults to dir().
    QJsonObject deploy(const QByteArray &manifestJson, const QString &sourceDir = {}) const;

    // HTTP/1.1 GET through the ingress (or any port) with a blocking QTcpSocket; returns
    // status and body (Connection: close).
    struct HttpReply {
        int status = 0;
        QByteArray headers;
        QByteArray body;
    };
    static HttpReply httpGet(quint16 port, const QByteArray &path, int timeoutMs = 10000);
    // Sends a whole raw request (it should ask for Connection: close) and reads the answer.
    static HttpReply httpRequest(quint16 port, const QByteArray &request, int timeoutMs = 10000);

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_ingressPort = 0;
    int m_fifoReader = -1;
};

} // namespace portico::test

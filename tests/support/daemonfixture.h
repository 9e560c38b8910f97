#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QMap>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <functional>
#include <memory>

namespace portico::test {

// A real porticod in a temporary state directory, with its own admin socket and an
// ingress on port 0: the daemon binds a port the kernel picks and reports it
// (daemon.info's ingress_port), so there is no window in which another program could take
// a port probed free. Tests drive it over the admin socket like any client would.
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

    quint16 ingressPort() const { return m_ingressPort; } // the port the daemon bound
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
    // projects.deploy of a manifest with host ports of its own. A manifest cannot ask for
    // "any port", so this picks `count` free ones (free for UDP too when udp is set), hands
    // them to manifestFor and deploys; should another program take one before the daemon
    // binds it (a 1002 refusal naming the host as holder), it picks again. The ports of the
    // last attempt are in *ports.
    QJsonObject deployOnFreePorts(const std::function<QJsonObject(const QList<quint16> &)> &manifestFor,
                                  QList<quint16> *ports, int count = 1, bool udp = false,
                                  const QString &sourceDir = {}) const;
    // The same with the manifest as JSON text, %1 (%2, ...) where the ports go.
    QJsonObject deployOnFreePorts(const QString &manifestTemplate, QList<quint16> *ports, int count = 1,
                                  bool udp = false, const QString &sourceDir = {}) const;

    // The text of a project's last log lines (projects.logs), whether the daemon sends
    // them as strings or as {time, stream, text} objects.
    QStringList logLines(const QString &project, int lines = 1000) const;

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

#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QString>

namespace portico {

class AdminClient;

// What the status bar shows: the state of the connection (the client reconnects with
// backoff by itself) and daemon.info (version, uptime, ingress port), refreshed on every
// connect and when projects come and go; stats.tick keeps the uptime exact.
class DaemonStatus final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DaemonStatus)
public:
    enum class Connection { Connecting, Connected, Retrying };
    explicit DaemonStatus(AdminClient *client, QObject *parent = nullptr);

    Connection connection() const { return m_connection; }
    QString lastError() const { return m_lastError; }
    QString socketPath() const;
    bool hasInfo() const { return !m_version.isEmpty(); }
    QString version() const { return m_version; }
    int protocolVersion() const { return m_protocolVersion; }
    int ingressPort() const { return m_ingressPort; }
    int projectCount() const { return m_projects; }
    qint64 daemonPid() const { return m_pid; }
    // The daemon's uptime now (while connected; frozen at the last known value otherwise).
    qint64 uptimeMs() const;
    // One line for the status bar.
    QString summary() const;

    void applyInfo(const QJsonObject &info);
    void refresh(); // daemon.info again

Q_SIGNALS:
    void changed();

private:
    void setConnection(Connection c, const QString &error = {});

    AdminClient *m_client;
    Connection m_connection = Connection::Connecting;
    QString m_lastError;
    QString m_version;
    int m_protocolVersion = 0;
    int m_ingressPort = 0;
    int m_projects = 0;
    qint64 m_pid = 0;
    qint64 m_uptimeAtSample = 0;
    QElapsedTimer m_sinceSample;
};

} // namespace portico

#include "daemonstatus.h"

#include "adminclient.h"
#include "format.h"
#include "protocol.h"

#include <QPointer>

namespace portico {

DaemonStatus::DaemonStatus(AdminClient *client, QObject *parent) : QObject(parent), m_client(client) {
    connect(m_client, &AdminClient::connected, this, [this] {
        setConnection(Connection::Connected);
        refresh();
    });
    connect(m_client, &AdminClient::disconnected, this,
            [this] { setConnection(Connection::Retrying, tr("the connection was lost")); });
    connect(m_client, &AdminClient::connectError, this,
            [this](const QString &reason) { setConnection(Connection::Retrying, reason); });
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) {
                if (kind == QLatin1String(protocol::event::StatsTick) &&
                    data.contains(QStringLiteral("uptime_ms"))) {
                    m_uptimeAtSample = qint64(data.value(QStringLiteral("uptime_ms")).toDouble());
                    m_sinceSample.start();
                } else if (kind == QLatin1String(protocol::event::ProjectDeployed) ||
                           kind == QLatin1String(protocol::event::ProjectUndeployed)) {
                    refresh();
                }
            });
    if (m_client->isConnected()) {
        m_connection = Connection::Connected;
        refresh();
    }
}

QString DaemonStatus::socketPath() const {
    return m_client->socketPath();
}

void DaemonStatus::refresh() {
    QPointer<DaemonStatus> self(this);
    m_client->call(QLatin1String(protocol::method::DaemonInfo), {}, [self](const jsonrpc::Message &reply) {
        if (self && reply.isResponse())
            self->applyInfo(reply.result().toObject());
    });
}

void DaemonStatus::applyInfo(const QJsonObject &info) {
    m_version = info.value(QStringLiteral("version")).toString();
    m_protocolVersion = info.value(QStringLiteral("protocol_version")).toInt();
    m_ingressPort = info.value(QStringLiteral("ingress_port")).toInt();
    m_projects = info.value(QStringLiteral("projects")).toInt();
    m_pid = qint64(info.value(QStringLiteral("pid")).toDouble());
    m_uptimeAtSample = qint64(info.value(QStringLiteral("uptime_ms")).toDouble());
    m_sinceSample.start();
    Q_EMIT changed();
}

void DaemonStatus::setConnection(Connection c, const QString &error) {
    if (c != Connection::Connected && m_sinceSample.isValid()) {
        // Freeze the uptime while nobody can tell it.
        m_uptimeAtSample = uptimeMs();
        m_sinceSample.invalidate();
    }
    if (c == m_connection && error == m_lastError)
        return;
    m_connection = c;
    m_lastError = error;
    Q_EMIT changed();
}

qint64 DaemonStatus::uptimeMs() const {
    return m_uptimeAtSample + (m_sinceSample.isValid() ? m_sinceSample.elapsed() : 0);
}

QString DaemonStatus::summary() const {
    if (!hasInfo())
        return {};
    return tr("porticod %1 · up %2 · ingress :%3 · %n project(s)", nullptr, m_projects)
        .arg(m_version, dash::humanDuration(uptimeMs()))
        .arg(m_ingressPort);
}

} // namespace portico

#include "connectionstatus.h"

#include "models/daemonstatus.h"
#include "models/format.h"

#include <QHBoxLayout>
#include <QLabel>

namespace portico {

ConnectionStatus::ConnectionStatus(DaemonStatus *status, QWidget *parent)
    : QWidget(parent), m_status(status), m_connection(new QLabel(this)), m_info(new QLabel(this)) {
    m_connection->setObjectName(QStringLiteral("connectionLabel"));
    m_info->setObjectName(QStringLiteral("infoLabel"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(16);
    layout->addWidget(m_info);
    layout->addWidget(m_connection);
    connect(m_status, &DaemonStatus::changed, this, &ConnectionStatus::update);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &ConnectionStatus::update);
    m_tick.start();
    update();
}

QString ConnectionStatus::connectionText() const {
    return m_connection->text();
}

QString ConnectionStatus::infoText() const {
    return m_info->text();
}

void ConnectionStatus::update() {
    QString text;
    QColor colour;
    switch (m_status->connection()) {
    case DaemonStatus::Connection::Connecting:
        text = tr("● connecting to %1…").arg(m_status->socketPath());
        colour = dash::stateColor(QStringLiteral("starting"));
        break;
    case DaemonStatus::Connection::Connected:
        text = tr("● connected");
        colour = dash::stateColor(QStringLiteral("active"));
        break;
    case DaemonStatus::Connection::Retrying:
        text = tr("● disconnected — retrying");
        colour = dash::stateColor(QStringLiteral("conflict"));
        break;
    }
    m_connection->setText(text);
    m_connection->setStyleSheet(QStringLiteral("color: %1; font-weight: bold;").arg(colour.name()));
    m_connection->setToolTip(m_status->lastError().isEmpty()
                                 ? m_status->socketPath()
                                 : m_status->socketPath() + QStringLiteral("\n") + m_status->lastError());
    QString info = m_status->summary();
    if (m_status->connection() != DaemonStatus::Connection::Connected)
        info = info.isEmpty() ? m_status->lastError() : tr("last seen: %1").arg(info);
    m_info->setText(info);
}

} // namespace portico

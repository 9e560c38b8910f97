#pragma once

#include "metricscollector.h"

#include <QHostAddress>
#include <QLoggingCategory>
#include <QObject>
#include <QTcpServer>

Q_DECLARE_LOGGING_CATEGORY(lcMetrics)

namespace portico {

class AdminApi;

// The Prometheus endpoint: a small HTTP/1.1 responder on the control thread that answers
// GET/HEAD /metrics (text exposition format 0.0.4) and /healthz, one request per
// connection, and nothing else. Nothing it serves changes anything. Its limits keep a
// client from holding the control thread or its memory: a request head of at most
// kMaxHeadBytes, each connection done within kDeadlineMs, at most kMaxConnections at once
// (more wait in the kernel's backlog).
class MetricsServer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsServer)
public:
    static constexpr int kMaxHeadBytes = 8 * 1024;
    static constexpr int kDeadlineMs = 10'000;
    static constexpr int kMaxConnections = 16;

    // Counts the daemon's deploys from api's events from now on.
    explicit MetricsServer(AdminApi *api, QObject *parent = nullptr);
    ~MetricsServer() override;

    bool listen(const QHostAddress &address, quint16 port, QString *error);
    void close();
    // "127.0.0.1:9464" or "[::1]:9464" once listening, else empty.
    QString address() const;

    // What GET /metrics answers now.
    QByteArray page() const;

private:
    void accept();
    void connectionDone();

    AdminApi *m_api;
    QTcpServer m_server;
    DeployCounts m_counts;
    double m_startTime = 0;
    int m_connections = 0;
};

} // namespace portico

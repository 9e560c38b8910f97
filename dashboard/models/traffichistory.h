#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPointF>

namespace portico {

class AdminClient;

// Bytes per second (in + out) of every route, one sample per `stats.tick`, the last
// maxSamples() of each kept. What the traffic chart draws.
class TrafficHistory final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficHistory)
public:
    struct Sample {
        qint64 timeMs; // since the epoch
        double bytesPerSec;
    };
    explicit TrafficHistory(AdminClient *client, int maxSamples = 120, QObject *parent = nullptr);

    int maxSamples() const { return m_max; }
    static constexpr int kMaxSeries = 32;
    // Route label ("site /site/", "echo 5000/tcp", "ingress :8080") -> samples, oldest first.
    const QMap<QString, QList<Sample>> &series() const { return m_series; }
    double peak() const; // the highest sample kept, for the axis

    void addTick(const QJsonObject &stats);

Q_SIGNALS:
    void updated();

private:
    QMap<QString, QList<Sample>> m_series;
    int m_max;
};

} // namespace portico

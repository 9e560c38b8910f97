#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointF>
#include <QStringList>

namespace portico {

class AdminClient;

// Traffic of every route, one sample per `stats.tick` (once a second): bytes/s (in +
// out), requests/s and errors/s, the last maxSamples() of each (20 minutes by default)
// for as long as the window is open. Errors/s are the daemon's errors_per_s (protocol 2)
// or, from an older daemon, the error counter's growth between two ticks.
//
// The ingress counts every request it receives, including those it hands to a
// path-routed project, which counts them again on its own row. So the ingress line is
// what the ingress carried for nobody (unknown prefixes, /_api), and a total adds the
// projects and that remainder: nothing is counted twice.
class TrafficHistory final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficHistory)
public:
    enum class Metric { Bytes, Requests, Errors };
    struct Line {
        QString label;
        QList<QPointF> points; // x: ms since the epoch, y: per second
        bool isTotal = false;
    };
    static constexpr int kDefaultSamples = 1200;
    static constexpr int kMaxRoutes = 64;

    explicit TrafficHistory(AdminClient *client, int maxSamples = kDefaultSamples, QObject *parent = nullptr);

    int maxSamples() const { return m_max; }
    void addTick(const QJsonObject &stats);
    void clear();

    // Projects that have routes in the history, sorted.
    QStringList projects() const;
    // For every project (empty): one line per project, one for the ingress's own share
    // and the total. For one project: one line per route of it.
    QList<Line> lines(Metric metric, const QString &project = {}) const;
    // The label of the ingress's own share and of the total, as lines() names them.
    static QString ingressLabel(int port);
    static QString totalLabel();
    qint64 firstTimeMs() const; // 0 when empty
    qint64 lastTimeMs() const;

Q_SIGNALS:
    void updated();

private:
    struct Sample {
        qint64 timeMs;
        double bytes;
        double requests;
        double errors;
    };
    struct Route {
        QString project; // empty: the ingress
        QString label;
        QString path;
        int port = 0;
        QList<Sample> samples;
        quint64 lastErrors = 0;
        qint64 lastTimeMs = 0;
    };
    static double value(const Sample &s, Metric metric);

    QHash<QString, Route> m_routes;
    int m_max;
};

} // namespace portico

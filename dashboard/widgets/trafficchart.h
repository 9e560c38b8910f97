#pragma once

#include <QChartView>
#include <QHash>

class QDateTimeAxis;
class QLineSeries;
class QValueAxis;

namespace portico {

class TrafficHistory;

// Bytes per second (in + out) of each route over the last minutes, one line per route.
class TrafficChart final : public QChartView {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficChart)
public:
    explicit TrafficChart(TrafficHistory *history, QWidget *parent = nullptr);
    int seriesCount() const { return int(m_lines.size()); }

private:
    void redraw();

    TrafficHistory *m_history;
    QDateTimeAxis *m_x;
    QValueAxis *m_y;
    QHash<QString, QLineSeries *> m_lines;
};

} // namespace portico

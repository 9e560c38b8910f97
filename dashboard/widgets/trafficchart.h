#pragma once

#include "models/traffichistory.h"

#include <QHash>
#include <QWidget>

class QChartView;
class QComboBox;
class QDateTimeAxis;
class QLineSeries;
class QValueAxis;

namespace portico {

// The traffic of the last minutes as lines: bytes/s, requests/s or errors/s, for every
// project (one line each, the ingress's own share and the total) or for one project
// (one line per route). Pointing at the chart shows the values at that moment.
class TrafficChart final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrafficChart)
public:
    explicit TrafficChart(TrafficHistory *history, QWidget *parent = nullptr);

    void setMetric(TrafficHistory::Metric metric);
    TrafficHistory::Metric metric() const;
    void setScope(const QString &project); // empty: every project
    QString scope() const;
    void setSpanMinutes(int minutes); // 1, 5 or 15
    int spanMinutes() const;

    int seriesCount() const { return int(m_lines.size()); }
    QStringList seriesNames() const;
    QChartView *view() const { return m_view; }
    // The values of every line at that time (the nearest sample), as the hover shows them.
    QString valuesAt(qint64 timeMs) const;
    QString hoverText() const { return m_hoverText; }
    QString title() const;

Q_SIGNALS:
    void settingsChanged(); // metric, scope or span picked by the user

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void redraw();
    void updateScopes();
    void applyTheme();
    QString formatValue(double v) const;

    TrafficHistory *m_history;
    QComboBox *m_metric;
    QComboBox *m_scope;
    QComboBox *m_span;
    QChartView *m_view;
    QDateTimeAxis *m_x;
    QValueAxis *m_y;
    QHash<QString, QLineSeries *> m_lines;
    QList<TrafficHistory::Line> m_shown; // what is drawn, in real units
    double m_divisor = 1;
    QString m_hoverText;
};

} // namespace portico

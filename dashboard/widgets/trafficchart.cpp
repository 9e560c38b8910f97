#include "trafficchart.h"

#include "models/traffichistory.h"

#include <QChart>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLegend>
#include <QLineSeries>
#include <QSet>
#include <QValueAxis>

namespace portico {

namespace {

// An axis maximum in B/s, KiB/s or MiB/s that is a round number above peak.
std::pair<double, QString> scaleFor(double peak) {
    if (peak < 1024.0 * 10)
        return {1.0, QStringLiteral("B/s")};
    if (peak < 1024.0 * 1024 * 10)
        return {1024.0, QStringLiteral("KiB/s")};
    return {1024.0 * 1024, QStringLiteral("MiB/s")};
}

} // namespace

TrafficChart::TrafficChart(TrafficHistory *history, QWidget *parent)
    : QChartView(parent), m_history(history), m_x(new QDateTimeAxis), m_y(new QValueAxis) {
    auto *chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundRoundness(0);
    m_x->setFormat(QStringLiteral("HH:mm:ss"));
    m_x->setTickCount(5);
    m_y->setLabelFormat(QStringLiteral("%.0f"));
    m_y->setTitleText(QStringLiteral("B/s"));
    m_y->setRange(0, 10);
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_x->setRange(QDateTime::fromMSecsSinceEpoch(now - 60'000), QDateTime::fromMSecsSinceEpoch(now));
    setChart(chart); // the view owns the chart, the chart its axes and series
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
    connect(m_history, &TrafficHistory::updated, this, &TrafficChart::redraw);
    redraw();
}

void TrafficChart::redraw() {
    // Only the routes that carried something in the window: flat lines at zero would
    // crowd the legend of a host with many quiet routes.
    const auto &series = m_history->series();
    QSet<QString> busy;
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        if (std::any_of(it.value().cbegin(), it.value().cend(),
                        [](const TrafficHistory::Sample &s) { return s.bytesPerSec > 0; }))
            busy.insert(it.key());
    }
    for (auto it = m_lines.begin(); it != m_lines.end();) {
        if (!busy.contains(it.key())) {
            chart()->removeSeries(it.value());
            delete it.value();
            it = m_lines.erase(it);
        } else {
            ++it;
        }
    }
    const auto [divisor, unit] = scaleFor(m_history->peak());
    qint64 first = 0, last = 0;
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        if (!it.value().isEmpty()) {
            first = first == 0 ? it.value().first().timeMs : qMin(first, it.value().first().timeMs);
            last = qMax(last, it.value().last().timeMs);
        }
        if (!busy.contains(it.key()))
            continue;
        QLineSeries *line = m_lines.value(it.key());
        if (!line) {
            line = new QLineSeries(chart());
            line->setName(it.key());
            chart()->addSeries(line);
            line->attachAxis(m_x);
            line->attachAxis(m_y);
            m_lines.insert(it.key(), line);
        }
        QList<QPointF> points;
        points.reserve(it.value().size());
        for (const auto &s : it.value())
            points.append(QPointF(double(s.timeMs), s.bytesPerSec / divisor));
        line->replace(points);
    }
    if (last == 0)
        last = QDateTime::currentMSecsSinceEpoch();
    // At least 20 s wide; it grows with the history up to maxSamples seconds.
    first = qMin(first == 0 ? last : first, last - 20'000);
    m_x->setRange(QDateTime::fromMSecsSinceEpoch(first), QDateTime::fromMSecsSinceEpoch(last));
    const double peak = m_history->peak() / divisor;
    m_y->setRange(0, qMax(10.0, peak * 1.1));
    m_y->applyNiceNumbers();
    m_y->setTitleText(unit);
    chart()->setTitle(busy.isEmpty() ? tr("No traffic in the last %1 s").arg((last - first) / 1000)
                                     : QString());
}

} // namespace portico

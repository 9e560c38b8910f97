#include "trafficchart.h"

#include "models/format.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QMouseEvent>
#include <QSet>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

namespace portico {

namespace {

using Metric = TrafficHistory::Metric;

// An axis unit for bytes: B/s, KiB/s or MiB/s, by the peak.
std::pair<double, QString> byteScale(double peak) {
    if (peak < 1024.0 * 10)
        return {1.0, QStringLiteral("B/s")};
    if (peak < 1024.0 * 1024 * 10)
        return {1024.0, QStringLiteral("KiB/s")};
    return {1024.0 * 1024, QStringLiteral("MiB/s")};
}

// The value of a line at the sample nearest to t (points are sorted by time).
std::optional<double> valueNear(const QList<QPointF> &points, double t) {
    if (points.isEmpty())
        return std::nullopt;
    const auto it = std::lower_bound(points.cbegin(), points.cend(), t,
                                     [](const QPointF &p, double x) { return p.x() < x; });
    if (it == points.cend())
        return points.last().y();
    if (it == points.cbegin())
        return it->y();
    const auto before = std::prev(it);
    return (t - before->x() < it->x() - t) ? before->y() : it->y();
}

// The total stands apart from the lines it adds up: dashed, in the text colour.
void styleTotal(QLineSeries *series, const QPalette &palette) {
    QPen pen = series->pen();
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(2.5);
    pen.setColor(palette.color(QPalette::WindowText));
    series->setPen(pen);
}

} // namespace

TrafficChart::TrafficChart(TrafficHistory *history, QWidget *parent)
    : QWidget(parent), m_history(history), m_metric(new QComboBox(this)), m_scope(new QComboBox(this)),
      m_span(new QComboBox(this)), m_view(new QChartView(this)), m_x(new QDateTimeAxis), m_y(new QValueAxis) {
    m_metric->setObjectName(QStringLiteral("trafficMetric"));
    m_metric->addItem(tr("Bytes/s"), int(Metric::Bytes));
    m_metric->addItem(tr("Requests/s"), int(Metric::Requests));
    m_metric->addItem(tr("Errors/s"), int(Metric::Errors));
    m_scope->setObjectName(QStringLiteral("trafficScope"));
    m_scope->addItem(tr("All projects"), QString());
    m_scope->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_span->setObjectName(QStringLiteral("trafficSpan"));
    for (int minutes : {1, 5, 15})
        m_span->addItem(tr("last %n min", nullptr, minutes), minutes);
    m_span->setCurrentIndex(1);
    for (QComboBox *box : {m_metric, m_scope, m_span}) {
        connect(box, &QComboBox::activated, this, [this] {
            redraw();
            Q_EMIT settingsChanged();
        });
    }

    auto *chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setBackgroundRoundness(0);
    m_x->setFormat(QStringLiteral("HH:mm"));
    m_x->setTickCount(6);
    m_y->setLabelFormat(QStringLiteral("%.0f"));
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    m_view->setChart(chart); // the view owns the chart, the chart its axes and series
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(160);
    m_view->viewport()->setMouseTracking(true);
    // A graphics view takes drops by default: a manifest dropped here is for the window.
    m_view->setAcceptDrops(false);
    m_view->viewport()->setAcceptDrops(false);
    m_view->viewport()->installEventFilter(this);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_metric);
    controls->addWidget(m_scope);
    controls->addWidget(m_span);
    controls->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(m_view, 1);

    applyTheme();
    connect(m_history, &TrafficHistory::updated, this, &TrafficChart::redraw);
    redraw();
}

void TrafficChart::setMetric(Metric metric) {
    m_metric->setCurrentIndex(m_metric->findData(int(metric)));
    redraw();
}

Metric TrafficChart::metric() const {
    return Metric(m_metric->currentData().toInt());
}

void TrafficChart::setScope(const QString &project) {
    updateScopes();
    int i = m_scope->findData(project);
    if (i < 0 && !project.isEmpty()) {
        // Not seen in the traffic yet: offered anyway, the lines come with its first tick.
        m_scope->addItem(project, project);
        i = m_scope->count() - 1;
    }
    m_scope->setCurrentIndex(qMax(0, i));
    redraw();
}

QString TrafficChart::scope() const {
    return m_scope->currentData().toString();
}

void TrafficChart::setSpanMinutes(int minutes) {
    const int i = m_span->findData(minutes);
    if (i >= 0)
        m_span->setCurrentIndex(i);
    redraw();
}

int TrafficChart::spanMinutes() const {
    return m_span->currentData().toInt();
}

QStringList TrafficChart::seriesNames() const {
    QStringList names = m_lines.keys();
    names.sort();
    return names;
}

QString TrafficChart::title() const {
    return m_view->chart()->title();
}

void TrafficChart::updateScopes() {
    const QString current = scope();
    QStringList wanted = m_history->projects();
    if (!current.isEmpty() && !wanted.contains(current))
        wanted.append(current);
    QStringList have;
    for (int i = 1; i < m_scope->count(); ++i)
        have << m_scope->itemData(i).toString();
    if (have == wanted)
        return;
    m_scope->clear();
    m_scope->addItem(tr("All projects"), QString());
    for (const QString &p : std::as_const(wanted))
        m_scope->addItem(p, p);
    m_scope->setCurrentIndex(qMax(0, m_scope->findData(current)));
}

QString TrafficChart::formatValue(double v) const {
    return metric() == Metric::Bytes ? dash::humanRate(v) : dash::humanPerSec(v);
}

void TrafficChart::redraw() {
    updateScopes();
    QChart *chart = m_view->chart();
    const qint64 last =
        m_history->lastTimeMs() > 0 ? m_history->lastTimeMs() : QDateTime::currentMSecsSinceEpoch();
    // The span is the most shown; while the history is shorter the chart shows what there
    // is (at least a minute) rather than an empty stretch.
    const qint64 oldest = m_history->firstTimeMs() > 0 ? m_history->firstTimeMs() : last;
    const qint64 first = qMin(last - 60'000, qMax(oldest, last - qint64(spanMinutes()) * 60'000));
    const QList<TrafficHistory::Line> all = m_history->lines(metric(), scope());

    // Lines that carried something in the span (and the total): flat lines at zero would
    // crowd the legend of a host with many quiet projects.
    m_shown.clear();
    double peak = 0;
    for (const auto &line : all) {
        bool busy = false;
        for (const QPointF &p : line.points) {
            if (p.x() >= double(first) && p.y() > 0) {
                busy = true;
                peak = qMax(peak, p.y());
            }
        }
        if (busy || line.isTotal || !scope().isEmpty())
            m_shown.append(line);
    }
    const bool quiet = peak <= 0;
    QSet<QString> wanted;
    for (const auto &line : std::as_const(m_shown))
        wanted.insert(line.label);
    for (auto it = m_lines.begin(); it != m_lines.end();) {
        if (!wanted.contains(it.key())) {
            chart->removeSeries(it.value());
            delete it.value();
            it = m_lines.erase(it);
        } else {
            ++it;
        }
    }

    QString unit;
    if (metric() == Metric::Bytes) {
        std::tie(m_divisor, unit) = byteScale(peak);
    } else {
        m_divisor = 1;
        unit = metric() == Metric::Requests ? tr("requests/s") : tr("errors/s");
    }
    for (const auto &line : std::as_const(m_shown)) {
        QLineSeries *series = m_lines.value(line.label);
        if (!series) {
            series = new QLineSeries(chart);
            series->setName(line.label);
            chart->addSeries(series);
            series->attachAxis(m_x);
            series->attachAxis(m_y);
            if (line.isTotal)
                styleTotal(series, palette());
            m_lines.insert(line.label, series);
        }
        QList<QPointF> points;
        points.reserve(line.points.size());
        for (const QPointF &p : line.points)
            points.append(QPointF(p.x(), p.y() / m_divisor));
        series->replace(points);
    }
    m_x->setRange(QDateTime::fromMSecsSinceEpoch(first), QDateTime::fromMSecsSinceEpoch(last));
    m_x->setFormat(last - first <= 3 * 60'000 ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
    m_y->setRange(0, qMax(metric() == Metric::Bytes ? 10.0 : 1.0, peak / m_divisor * 1.1));
    m_y->applyNiceNumbers();
    m_y->setLabelFormat(metric() != Metric::Bytes && peak < 10 ? QStringLiteral("%.1f")
                                                               : QStringLiteral("%.0f"));
    m_y->setTitleText(unit);
    // Without a daemon nothing is measured: "no traffic" would be a claim about the host.
    chart->setTitle(quiet && isEnabled() ? tr("No traffic in the last %n min", nullptr, spanMinutes())
                                         : QString());
}

QString TrafficChart::valuesAt(qint64 timeMs) const {
    QStringList rows{QDateTime::fromMSecsSinceEpoch(timeMs).toString(QStringLiteral("HH:mm:ss"))};
    for (const auto &line : m_shown) {
        const auto v = valueNear(line.points, double(timeMs));
        if (v)
            rows << QStringLiteral("%1: %2").arg(line.label, formatValue(*v));
    }
    return rows.join(QLatin1Char('\n'));
}

bool TrafficChart::eventFilter(QObject *watched, QEvent *event) {
    if (watched == m_view->viewport() && event->type() == QEvent::MouseMove) {
        const auto *move = static_cast<QMouseEvent *>(event);
        const QRectF plot = m_view->chart()->plotArea();
        const QPointF at = m_view->mapToScene(move->position().toPoint());
        if (plot.contains(at) && !m_shown.isEmpty()) {
            const double from = double(m_x->min().toMSecsSinceEpoch());
            const double to = double(m_x->max().toMSecsSinceEpoch());
            const qint64 t = qint64(from + (at.x() - plot.left()) / plot.width() * (to - from));
            m_hoverText = valuesAt(t);
            QToolTip::showText(move->globalPosition().toPoint(), m_hoverText, m_view->viewport());
        } else {
            m_hoverText.clear();
            QToolTip::hideText();
        }
    }
    return QWidget::eventFilter(watched, event);
}

void TrafficChart::changeEvent(QEvent *event) {
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
    else if (event->type() == QEvent::EnabledChange)
        redraw();
    QWidget::changeEvent(event);
}

void TrafficChart::applyTheme() {
    // The chart follows the window's palette, dark or light: Qt Charts has its own themes
    // and would otherwise draw a white chart in a dark window.
    QChart *chart = m_view->chart();
    const QPalette pal = palette();
    chart->setTheme(dash::isDark(pal) ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(pal.color(QPalette::Base));
    chart->setTitleBrush(pal.color(QPalette::Text));
    chart->legend()->setLabelColor(pal.color(QPalette::Text));
    for (QAbstractAxis *axis : {static_cast<QAbstractAxis *>(m_x), static_cast<QAbstractAxis *>(m_y)}) {
        axis->setLabelsColor(pal.color(QPalette::Text));
        axis->setTitleBrush(pal.color(QPalette::Text));
        QColor grid = pal.color(QPalette::Text);
        grid.setAlpha(40);
        axis->setGridLineColor(grid);
    }
    if (QLineSeries *total = m_lines.value(TrafficHistory::totalLabel()))
        styleTotal(total, pal); // the theme reset its pen
}

} // namespace portico

#pragma once

#include <QWidget>

class QGroupBox;
class QSplitter;
class QTableView;

namespace portico {

class ProjectsView;
class RoutesView;
class TrafficChart;

// The host at a glance: projects, the routing table and the traffic chart, one above
// the other. Each table gets the height its rows need (up to a share of the page) and
// the chart the rest, again whenever rows come or go, until the person drags a handle:
// from then on their sizes hold (fitToContent() goes back).
class OverviewPage final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OverviewPage)
public:
    static constexpr int kChartMinHeight = 220;
    OverviewPage(ProjectsView *projects, RoutesView *routes, TrafficChart *chart, QWidget *parent = nullptr);

    QSplitter *splitter() const { return m_splitter; }
    bool isFittedToContent() const { return !m_userSized; }
    void fitToContent();
    // The sizes a person chose, or empty while the page fits its content.
    QByteArray savedSizes() const;
    void restoreSizes(const QByteArray &state);
    // The height a table's rows, header and frame take.
    static int contentHeight(const QTableView *table);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebalance();
    int need(const QGroupBox *box, const QTableView *table) const;

    QSplitter *m_splitter;
    QGroupBox *m_projectsBox;
    QGroupBox *m_routesBox;
    QTableView *m_projectsTable;
    QTableView *m_routesTable;
    bool m_userSized = false;
    bool m_applying = false;
};

} // namespace portico

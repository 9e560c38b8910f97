#include "overviewpage.h"

#include "projectsview.h"
#include "routesview.h"
#include "trafficchart.h"

#include <QGroupBox>
#include <QHeaderView>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace portico {

namespace {

QGroupBox *framed(const QString &title, QWidget *content, QWidget *parent) {
    auto *box = new QGroupBox(title, parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 6, 6, 6);
    content->setParent(box);
    layout->addWidget(content);
    return box;
}

} // namespace

OverviewPage::OverviewPage(ProjectsView *projects, RoutesView *routes, TrafficChart *chart, QWidget *parent)
    : QWidget(parent), m_splitter(new QSplitter(Qt::Vertical, this)), m_projectsTable(projects->table()),
      m_routesTable(routes->table()) {
    m_splitter->setObjectName(QStringLiteral("overviewSplitter"));
    m_projectsBox = framed(tr("Projects"), projects, m_splitter);
    m_routesBox = framed(tr("Routing table"), routes, m_splitter);
    m_splitter->addWidget(m_projectsBox);
    m_splitter->addWidget(m_routesBox);
    m_splitter->addWidget(framed(tr("Traffic"), chart, m_splitter));
    m_splitter->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    connect(m_splitter, &QSplitter::splitterMoved, this, [this] {
        if (!m_applying)
            m_userSized = true;
    });
    for (QTableView *t : {m_projectsTable, m_routesTable}) {
        for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
            connect(t->model(), signal, this,
                    [this] { QTimer::singleShot(0, this, &OverviewPage::rebalance); });
        connect(t->model(), &QAbstractItemModel::modelReset, this,
                [this] { QTimer::singleShot(0, this, &OverviewPage::rebalance); });
    }
}

int OverviewPage::contentHeight(const QTableView *table) {
    const int rows = qMax(1, table->model()->rowCount());
    int h = table->verticalHeader()->defaultSectionSize() * rows + 2 * table->frameWidth();
    if (!table->horizontalHeader()->isHidden())
        h += table->horizontalHeader()->sizeHint().height();
    if (table->horizontalScrollBar()->isVisible())
        h += table->horizontalScrollBar()->sizeHint().height();
    return h;
}

int OverviewPage::need(const QGroupBox *box, const QTableView *table) const {
    // What the box needs around its table (title, margins, buttons) plus the rows.
    const int around = qMax(0, box->height() - table->height());
    return around + contentHeight(table);
}

void OverviewPage::rebalance() {
    if (m_userSized || !isVisible())
        return;
    const int handles = m_splitter->handleWidth() * (m_splitter->count() - 1);
    const int total = m_splitter->height() - handles;
    if (total <= 0)
        return;
    int projects = need(m_projectsBox, m_projectsTable);
    int routes = need(m_routesBox, m_routesTable);
    int chart = total - projects - routes;
    if (chart < kChartMinHeight) {
        // Not everything fits: the chart keeps its minimum (or a third), the tables share
        // the rest by what they need, neither below a quarter of it.
        chart = qMax(kChartMinHeight, total / 3);
        const int rest = qMax(0, total - chart);
        const int wanted = qMax(1, projects + routes);
        projects = qBound(rest / 4, rest * projects / wanted, rest - rest / 4);
        projects = qMin(projects, need(m_projectsBox, m_projectsTable));
        routes = rest - projects;
    }
    m_applying = true;
    m_splitter->setSizes({projects, routes, chart});
    m_applying = false;
}

void OverviewPage::fitToContent() {
    m_userSized = false;
    rebalance();
}

QByteArray OverviewPage::savedSizes() const {
    return m_userSized ? m_splitter->saveState() : QByteArray();
}

void OverviewPage::restoreSizes(const QByteArray &state) {
    if (state.isEmpty() || !m_splitter->restoreState(state))
        return;
    m_userSized = true;
}

void OverviewPage::resizeEvent(QResizeEvent *event) {
    QWidget::resizeEvent(event);
    QTimer::singleShot(0, this, &OverviewPage::rebalance);
}

} // namespace portico

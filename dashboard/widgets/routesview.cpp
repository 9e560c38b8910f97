#include "routesview.h"

#include "elidedelegate.h"
#include "models/routesmodel.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

RoutesView::RoutesView(RoutesModel *model, QWidget *parent)
    : QWidget(parent), m_table(new QTableView(this)), m_proxy(new QSortFilterProxyModel(this)) {
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(RoutesModel::SortRole);
    m_proxy->setDynamicSortFilter(true);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RoutesModel::Port, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setItemDelegate(new ElideDelegate(
        {{RoutesModel::Backend, Qt::ElideMiddle}, {RoutesModel::Path, Qt::ElideMiddle}}, m_table));
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    QHeaderView *h = m_table->horizontalHeader();
    h->setStretchLastSection(true);
    h->setHighlightSections(false);
    // Widths for what the columns usually hold; the user can drag them.
    const QFontMetrics fm = m_table->fontMetrics();
    const auto width = [&](const char *sample) { return fm.horizontalAdvance(QLatin1String(sample)) + 24; };
    h->resizeSection(RoutesModel::Port, width("655350"));
    h->resizeSection(RoutesModel::Protocol, width("Proto"));
    h->resizeSection(RoutesModel::Project, width("(ingress)xxxx"));
    h->resizeSection(RoutesModel::Path, width("/hello-deno/"));
    h->resizeSection(RoutesModel::Backend, width("127.0.0.1:20001xxxxx"));
    h->resizeSection(RoutesModel::State, width("conflict"));
    h->resizeSection(RoutesModel::Connections, width("100 / 1000"));
    h->resizeSection(RoutesModel::Requests, width("Requests"));
    h->resizeSection(RoutesModel::Errors, width("Errors"));
    for (int c : {RoutesModel::BytesIn, RoutesModel::BytesOut, RoutesModel::RateIn, RoutesModel::RateOut})
        h->resizeSection(c, width("1023 MiB/s"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table);
}

} // namespace portico

#include "routesview.h"

#include "models/routesmodel.h"
#include "tablestyle.h"

#include <QHeaderView>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

RoutesView::RoutesView(RoutesModel *model, QWidget *parent)
    : QWidget(parent), m_table(new QTableView(this)), m_proxy(new QSortFilterProxyModel(this)) {
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(RoutesModel::SortRole);
    m_proxy->setDynamicSortFilter(true);
    m_proxy->setFilterRole(RoutesModel::ProjectRole);
    m_table->setModel(m_proxy);
    m_table->setObjectName(QStringLiteral("routesTable"));
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RoutesModel::Port, Qt::AscendingOrder);
    styleTable(m_table, {{RoutesModel::Backend, Qt::ElideMiddle}, {RoutesModel::Path, Qt::ElideMiddle}});
    QHeaderView *h = m_table->horizontalHeader();
    // Widths for what the columns usually hold; the user can drag them.
    const auto width = [this](const char *sample) { return columnWidthFor(m_table, sample); };
    h->resizeSection(RoutesModel::Port, width("65535"));
    h->resizeSection(RoutesModel::Protocol, width("Proto"));
    h->resizeSection(RoutesModel::Project, width("(ingress)x"));
    h->resizeSection(RoutesModel::Path, width("/hello-deno/"));
    h->resizeSection(RoutesModel::Backend, width("127.0.0.1:20001"));
    h->resizeSection(RoutesModel::State, width("conflict"));
    h->resizeSection(RoutesModel::Connections, width("100 / 1000"));
    h->resizeSection(RoutesModel::Requests, width("Requests"));
    h->resizeSection(RoutesModel::Errors, width("Errors"));
    // Sized for the usual values (the model switches units at 1024), so that the rates at
    // the right end fit beside the sidebar at the default window width.
    for (int c : {RoutesModel::BytesIn, RoutesModel::BytesOut})
        h->resizeSection(c, width("999 MiB"));
    for (int c : {RoutesModel::RateIn, RoutesModel::RateOut})
        h->resizeSection(c, width("999 KiB/s"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table);
}

} // namespace portico

namespace portico {

void RoutesView::setProject(const QString &name) {
    m_proxy->setFilterRegularExpression(
        name.isEmpty() ? QRegularExpression()
                       : QRegularExpression(QStringLiteral("^%1$").arg(QRegularExpression::escape(name))));
    m_table->setColumnHidden(RoutesModel::Project, !name.isEmpty());
}

int RoutesView::visibleRows() const {
    return m_proxy->rowCount();
}

} // namespace portico

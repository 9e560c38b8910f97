#include "tablestyle.h"

#include "elidedelegate.h"

#include <QHeaderView>
#include <QTableView>

namespace portico {

void styleTable(QTableView *table, QHash<int, Qt::TextElideMode> elide) {
    table->setItemDelegate(new ElideDelegate(std::move(elide), table));
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->verticalHeader()->hide();
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
    table->horizontalHeader()->setStretchLastSection(true);
    table->horizontalHeader()->setHighlightSections(false);
}

int columnWidthFor(const QTableView *table, const char *sample) {
    return table->fontMetrics().horizontalAdvance(QLatin1String(sample)) + 24;
}

} // namespace portico

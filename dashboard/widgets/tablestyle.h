#pragma once

#include <QHash>

class QTableView;

namespace portico {

// The look every table of the dashboard shares: whole rows selected, one at a time,
// alternating colours, one line per row of the font's height, no row numbers, the last
// column taking the rest of the width; text elided at the right, or as `elide` says for
// its columns; grey throughout while the table is disabled (see ElideDelegate).
void styleTable(QTableView *table, QHash<int, Qt::TextElideMode> elide = {});
// A column width that fits that sample text in the table's font.
int columnWidthFor(const QTableView *table, const char *sample);

} // namespace portico

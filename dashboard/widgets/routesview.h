#pragma once

#include <QWidget>

class QSortFilterProxyModel;
class QTableView;

namespace portico {

class RoutesModel;

// The routing table: sortable (numbers sort as numbers), states in colour, the reason
// in the last column and as a tooltip.
class RoutesView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RoutesView)
public:
    explicit RoutesView(RoutesModel *model, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }
    // Only that project's routes (and no project column); empty: every route.
    void setProject(const QString &name);
    int visibleRows() const;

private:
    QTableView *m_table;
    QSortFilterProxyModel *m_proxy;
};

} // namespace portico

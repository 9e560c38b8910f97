#pragma once

#include <QHash>
#include <QStyledItemDelegate>

namespace portico {

// The delegate of the dashboard's tables (styleTable installs it). It elides text at the
// right, except in the columns given: a backend address or a path keeps both ends
// ("static /srv/…/public"). And a disabled view (no daemon: nothing shown is current)
// draws every cell in the palette's disabled text colour: a model's state colours would
// otherwise override it and keep a green "active" on a window that knows nothing.
class ElideDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ElideDelegate)
public:
    explicit ElideDelegate(QHash<int, Qt::TextElideMode> columns, QObject *parent = nullptr)
        : QStyledItemDelegate(parent), m_columns(std::move(columns)) {}

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;

private:
    QHash<int, Qt::TextElideMode> m_columns;
};

} // namespace portico

#pragma once

#include <QHash>
#include <QStyledItemDelegate>

namespace portico {

// Elides text at the right, except in the columns given: a backend address or a path
// keeps both ends ("static /srv/…/public"), a reason keeps its start.
class ElideDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ElideDelegate)
public:
    explicit ElideDelegate(QHash<int, Qt::TextElideMode> columns, QObject *parent = nullptr)
        : QStyledItemDelegate(parent), m_columns(std::move(columns)) {}

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = m_columns.value(index.column(), Qt::ElideRight);
    }

private:
    QHash<int, Qt::TextElideMode> m_columns;
};

} // namespace portico

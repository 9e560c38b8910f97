#include "elidedelegate.h"

#include <QWidget>

namespace portico {

void ElideDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const {
    QStyledItemDelegate::initStyleOption(option, index);
    option->textElideMode = m_columns.value(index.column(), Qt::ElideRight);
    const QWidget *view = option->widget;
    if (view && !view->isEnabled()) {
        // initStyleOption put the model's foreground into every colour group.
        const QBrush grey = view->palette().brush(QPalette::Disabled, QPalette::Text);
        option->palette.setBrush(QPalette::Text, grey);
        option->palette.setBrush(QPalette::HighlightedText, grey);
    }
}

} // namespace portico

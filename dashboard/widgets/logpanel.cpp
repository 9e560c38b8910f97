#include "logpanel.h"

#include "elidedelegate.h"
#include "models/logmodel.h"

#include <QCheckBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace portico {

LogPanel::LogPanel(LogModel *model, QWidget *parent)
    : QWidget(parent), m_model(model), m_filter(new QSortFilterProxyModel(this)),
      m_table(new QTableView(this)), m_search(new QLineEdit(this)),
      m_follow(new QCheckBox(tr("Follow"), this)), m_status(new QLabel(this)) {
    m_filter->setSourceModel(m_model);
    m_filter->setFilterKeyColumn(LogModel::Text);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table->setModel(m_filter);
    m_table->setObjectName(QStringLiteral("logTable"));
    m_table->setItemDelegate(new ElideDelegate({}, m_table)); // grey with the window when offline
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->verticalHeader()->hide();
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_table->setFont(mono);
    const QFontMetrics fm(mono);
    m_table->verticalHeader()->setDefaultSectionSize(fm.height() + 2);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    QHeaderView *h = m_table->horizontalHeader();
    h->resizeSection(LogModel::Time, fm.horizontalAdvance(QStringLiteral("00:00:00.000")) + 16);
    h->resizeSection(LogModel::Stream, fm.horizontalAdvance(QStringLiteral("portico")) + 16);
    h->setStretchLastSection(true);
    h->setHighlightSections(false);

    m_search->setObjectName(QStringLiteral("logSearch"));
    m_search->setPlaceholderText(tr("Search the output (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_search->setAcceptDrops(false); // a dropped manifest is for the window: it deploys
    m_follow->setObjectName(QStringLiteral("logFollow"));
    m_follow->setChecked(m_model->isFollowing());
    m_follow->setToolTip(tr("Add new lines as the project prints them and keep the newest in view"));
    auto *reload = new QPushButton(tr("Reload"), this);
    reload->setToolTip(tr("Fetch the last %1 lines again").arg(LogModel::kTailLines));
    connect(reload, &QPushButton::clicked, m_model, &LogModel::reload);
    connect(m_search, &QLineEdit::textChanged, this, &LogPanel::setSearch);
    connect(m_follow, &QCheckBox::toggled, this, [this](bool on) {
        m_model->setFollowing(on);
        if (on)
            m_table->scrollToBottom();
    });
    connect(m_model, &LogModel::statusChanged, this, [this](const QString &s) {
        m_modelStatus = s;
        updateStatus();
    });
    connect(m_model, &LogModel::reloaded, m_table, &QTableView::scrollToBottom);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &LogPanel::onRowsInserted);
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, &LogPanel::updateStatus);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &LogPanel::updateStatus);
    connect(m_model, &LogModel::reloaded, this, &LogPanel::updateColumns);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex &, int first) {
        const LogModel::Line line = m_model->line(first);
        if ((line.time.isValid() && m_table->isColumnHidden(LogModel::Time)) ||
            (!line.stream.isEmpty() && m_table->isColumnHidden(LogModel::Stream)))
            updateColumns();
    });
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, &LogPanel::updateStatus);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &LogPanel::updateStatus);

    auto *top = new QHBoxLayout;
    top->addWidget(m_search, 1);
    top->addWidget(m_follow);
    top->addWidget(reload);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);
    updateColumns();
}

void LogPanel::setSearch(const QString &text) {
    if (m_search->text() != text)
        m_search->setText(text); // comes back here through textChanged
    m_filter->setFilterFixedString(text);
    updateStatus();
}

bool LogPanel::isFollowing() const {
    return m_follow->isChecked();
}

void LogPanel::setFollowing(bool on) {
    m_follow->setChecked(on);
}

int LogPanel::visibleLines() const {
    return m_filter->rowCount();
}

QString LogPanel::statusText() const {
    return m_status->text();
}

void LogPanel::focusSearch() {
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

void LogPanel::onRowsInserted() {
    // Following keeps the newest line in view, unless the reader scrolled up to read.
    QScrollBar *bar = m_table->verticalScrollBar();
    if (m_follow->isChecked() &&
        bar->value() >= bar->maximum() - 2 * m_table->verticalHeader()->defaultSectionSize())
        QTimer::singleShot(0, m_table, &QTableView::scrollToBottom);
}

void LogPanel::updateColumns() {
    // A daemon before protocol 2 sends bare lines: no empty columns for what it never says.
    bool times = false, streams = false;
    for (int i = 0; i < m_model->rowCount() && !(times && streams); ++i) {
        const LogModel::Line line = m_model->line(i);
        times = times || line.time.isValid();
        streams = streams || !line.stream.isEmpty();
    }
    m_table->setColumnHidden(LogModel::Time, !times);
    m_table->setColumnHidden(LogModel::Stream, !streams);
}

void LogPanel::updateStatus() {
    QString s = m_modelStatus;
    if (s.isEmpty())
        s = tr("%n line(s)", nullptr, m_model->rowCount());
    if (m_modelStatus.isEmpty() && !m_search->text().isEmpty())
        s = tr("%1 of %n line(s) contain “%2”", nullptr, m_model->rowCount())
                .arg(m_filter->rowCount())
                .arg(m_search->text());
    m_status->setText(s);
}

} // namespace portico

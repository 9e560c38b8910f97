#include "sidebar.h"

#include "models/projectsmodel.h"

#include <QLabel>
#include <QListView>
#include <QListWidget>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace portico {

namespace {

constexpr Sidebar::Page kViews[] = {Sidebar::Page::Overview, Sidebar::Page::Ports, Sidebar::Page::Audit,
                                    Sidebar::Page::Events};

QString title(Sidebar::Page page) {
    switch (page) {
    case Sidebar::Page::Overview:
        return Sidebar::tr("Overview");
    case Sidebar::Page::Ports:
        return Sidebar::tr("Ports");
    case Sidebar::Page::Audit:
        return Sidebar::tr("Audit trail");
    case Sidebar::Page::Events:
        return Sidebar::tr("Events");
    case Sidebar::Page::Project:
        break;
    }
    return {};
}

// A small dot in the colour of the project's state before its name.
class StateDotDelegate final : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override {
        QStyledItemDelegate::initStyleOption(option, index);
        const QColor color = index.data(ProjectsModel::StateColorRole).value<QColor>();
        if (!color.isValid())
            return;
        const int size = option->fontMetrics.height() / 2 + 2;
        QPixmap dot(size * 2, size * 2);
        dot.setDevicePixelRatio(2);
        dot.fill(Qt::transparent);
        QPainter p(&dot);
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(Qt::NoPen);
        p.setBrush(color);
        p.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1));
        option->features |= QStyleOptionViewItem::HasDecoration;
        option->icon = QIcon(dot);
        option->decorationSize = QSize(size, size);
    }
};

} // namespace

Sidebar::Sidebar(ProjectsModel *projects, QWidget *parent)
    : QWidget(parent), m_views(new QListWidget(this)), m_projects(new QListView(this)),
      m_sorted(new QSortFilterProxyModel(this)) {
    m_views->setObjectName(QStringLiteral("sidebarViews"));
    m_projects->setObjectName(QStringLiteral("sidebarProjects"));
    for (Page p : kViews)
        m_views->addItem(title(p));
    // As tall as its entries: the projects below get the rest.
    m_views->setFixedHeight(m_views->sizeHintForRow(0) * m_views->count() + 2 * m_views->frameWidth() + 4);
    m_views->setCurrentRow(0);
    m_sorted->setSourceModel(projects);
    m_sorted->sort(ProjectsModel::Name);
    m_sorted->setDynamicSortFilter(true);
    m_projects->setModel(m_sorted);
    m_projects->setModelColumn(ProjectsModel::Name);
    m_projects->setUniformItemSizes(true);
    m_projects->setItemDelegate(new StateDotDelegate(m_projects));
    m_projects->setToolTip(tr("A project's page: its state, process, routes, manifest and logs"));

    auto *heading = new QLabel(tr("Projects"), this);
    QFont bold = heading->font();
    bold.setBold(true);
    heading->setFont(bold);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_views);
    layout->addSpacing(6);
    layout->addWidget(heading);
    layout->addWidget(m_projects, 1);

    // Selections, not current items: a list that gets the focus makes its first entry
    // current by itself, and that is nobody's choice.
    connect(m_views, &QListWidget::itemSelectionChanged, this, [this] {
        const auto selected = m_views->selectedItems();
        if (!selected.isEmpty())
            choose(kViews[m_views->row(selected.first())], {});
    });
    connect(m_projects->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const auto rows = m_projects->selectionModel()->selectedRows(ProjectsModel::Name);
        if (!rows.isEmpty())
            choose(Page::Project, rows.first().data(ProjectsModel::NameRole).toString());
    });
    // Rows come and go (a project deployed, undeployed): the entry of the page shown stays
    // selected, or none is.
    connect(m_sorted, &QAbstractItemModel::rowsAboutToBeRemoved, this, [this] { m_quiet = true; });
    for (auto signal : {&QAbstractItemModel::rowsRemoved, &QAbstractItemModel::rowsInserted})
        connect(m_sorted, signal, this, [this] {
            m_quiet = false;
            showPage(m_page, m_project);
        });
    setMinimumWidth(150);
}

void Sidebar::choose(Page page, const QString &project) {
    if (m_quiet || (page == m_page && project == m_project))
        return;
    showPage(page, project); // one selection in the two lists
    Q_EMIT pageChosen(page, project);
}

void Sidebar::showPage(Page page, const QString &project) {
    m_quiet = true;
    m_page = page;
    m_project = page == Page::Project ? project : QString();
    if (page == Page::Project) {
        m_views->setCurrentRow(-1);
        const auto rows = m_sorted->match(m_sorted->index(0, ProjectsModel::Name), ProjectsModel::NameRole,
                                          project, 1, Qt::MatchExactly);
        if (rows.isEmpty())
            m_projects->clearSelection();
        else
            m_projects->setCurrentIndex(rows.first()); // selects it
    } else {
        m_projects->clearSelection();
        const auto *it = std::find(std::begin(kViews), std::end(kViews), page);
        m_views->setCurrentRow(int(it - std::begin(kViews)));
    }
    m_quiet = false;
}

QString Sidebar::pageKey(Page page) {
    switch (page) {
    case Page::Overview:
        return QStringLiteral("overview");
    case Page::Ports:
        return QStringLiteral("ports");
    case Page::Audit:
        return QStringLiteral("audit");
    case Page::Events:
        return QStringLiteral("events");
    case Page::Project:
        return QStringLiteral("project");
    }
    return {};
}

std::optional<Sidebar::Page> Sidebar::pageFromKey(const QString &key) {
    for (Page p : {Page::Overview, Page::Ports, Page::Audit, Page::Events, Page::Project})
        if (pageKey(p) == key)
            return p;
    return std::nullopt;
}

} // namespace portico

#include "projectsview.h"

#include "models/projectsmodel.h"
#include "projectactions.h"
#include "tablestyle.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

ProjectsView::ProjectsView(ProjectsModel *model, ProjectActions *actions, QWidget *parent)
    : QWidget(parent), m_model(model), m_actions(actions), m_table(new QTableView(this)),
      m_restart(new QPushButton(tr("Restart"), this)), m_undeploy(new QPushButton(tr("Undeploy…"), this)),
      m_logs(new QPushButton(tr("Logs"), this)) {
    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(model);
    proxy->setDynamicSortFilter(true);
    m_table->setModel(proxy);
    m_table->setObjectName(QStringLiteral("projectsTable"));
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ProjectsModel::Name, Qt::AscendingOrder);
    styleTable(m_table, {{ProjectsModel::Backend, Qt::ElideMiddle}});
    const auto width = [this](const char *sample) { return columnWidthFor(m_table, sample); };
    QHeaderView *h = m_table->horizontalHeader();
    h->resizeSection(ProjectsModel::Name, width("hello-deno"));
    h->resizeSection(ProjectsModel::Runtime, width("upstream"));
    h->resizeSection(ProjectsModel::State, width("starting"));
    h->resizeSection(ProjectsModel::Uptime, width("10h 59m"));
    h->resizeSection(ProjectsModel::Restarts, width("Restarts"));
    h->resizeSection(ProjectsModel::Routes, width("/hello-api/ on :8080"));
    h->resizeSection(ProjectsModel::Backend, width("127.0.0.1:20001"));

    m_restart->setObjectName(QStringLiteral("restartButton"));
    m_undeploy->setObjectName(QStringLiteral("undeployButton"));
    m_logs->setObjectName(QStringLiteral("logsButton"));
    m_logs->setToolTip(tr("The project's page with its output (Ctrl+L)"));
    connect(m_restart, &QPushButton::clicked, this, &ProjectsView::restartSelected);
    connect(m_undeploy, &QPushButton::clicked, this, &ProjectsView::undeploySelected);
    connect(m_logs, &QPushButton::clicked, this, [this] {
        if (!selectedProject().isEmpty())
            Q_EMIT openProject(selectedProject(), true);
    });
    connect(m_table, &QTableView::activated, this, [this] {
        if (!selectedProject().isEmpty())
            Q_EMIT openProject(selectedProject(), false);
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ProjectsView::updateButtons);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &ProjectsView::updateButtons);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_restart);
    buttons->addWidget(m_undeploy);
    buttons->addWidget(m_logs);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table);
    layout->addLayout(buttons);
    updateButtons();
}

QString ProjectsView::selectedProject() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(ProjectsModel::NameRole).toString();
}

void ProjectsView::selectProject(const QString &name) {
    const QAbstractItemModel *m = m_table->model();
    for (int r = 0; r < m->rowCount(); ++r) {
        if (m->index(r, 0).data(ProjectsModel::NameRole).toString() == name) {
            m_table->selectRow(r);
            return;
        }
    }
}

void ProjectsView::updateButtons() {
    const bool any = !selectedProject().isEmpty();
    m_restart->setEnabled(any);
    m_undeploy->setEnabled(any);
    m_logs->setEnabled(any);
}

void ProjectsView::restartSelected() {
    m_actions->restart(selectedProject());
}

void ProjectsView::undeploySelected() {
    m_actions->confirmUndeploy(selectedProject(), this);
}

} // namespace portico

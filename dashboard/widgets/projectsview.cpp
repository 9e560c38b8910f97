#include "projectsview.h"

#include "adminclient.h"
#include "elidedelegate.h"
#include "logviewer.h"
#include "models/projectsmodel.h"
#include "protocol.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

ProjectsView::ProjectsView(ProjectsModel *model, AdminClient *client, QWidget *parent)
    : QWidget(parent), m_model(model), m_client(client), m_table(new QTableView(this)),
      m_restart(new QPushButton(tr("Restart"), this)), m_undeploy(new QPushButton(tr("Undeploy…"), this)),
      m_logs(new QPushButton(tr("Logs…"), this)) {
    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(model);
    proxy->setDynamicSortFilter(true);
    m_table->setModel(proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ProjectsModel::Name, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setItemDelegate(new ElideDelegate({{ProjectsModel::Backend, Qt::ElideMiddle}}, m_table));
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    const QFontMetrics fm = m_table->fontMetrics();
    const auto width = [&](const char *sample) { return fm.horizontalAdvance(QLatin1String(sample)) + 24; };
    m_table->horizontalHeader()->resizeSection(ProjectsModel::Name, width("hello-deno"));
    m_table->horizontalHeader()->resizeSection(ProjectsModel::Runtime, width("upstream"));
    m_table->horizontalHeader()->resizeSection(ProjectsModel::State, width("starting"));
    m_table->horizontalHeader()->resizeSection(ProjectsModel::Routes, width("/hello/ on :8080"));
    m_table->horizontalHeader()->resizeSection(ProjectsModel::Backend, width("127.0.0.1:20001"));

    m_restart->setObjectName(QStringLiteral("restartButton"));
    m_undeploy->setObjectName(QStringLiteral("undeployButton"));
    m_logs->setObjectName(QStringLiteral("logsButton"));
    connect(m_restart, &QPushButton::clicked, this, &ProjectsView::restartSelected);
    connect(m_undeploy, &QPushButton::clicked, this, &ProjectsView::undeploySelected);
    connect(m_logs, &QPushButton::clicked, this, [this] { showLogs(selectedProject()); });
    connect(m_table, &QTableView::doubleClicked, this, [this] { showLogs(selectedProject()); });
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
    const QString name = selectedProject();
    if (name.isEmpty())
        return;
    QPointer<ProjectsView> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsRestart), {{QStringLiteral("name"), name}},
                   [self, name](const jsonrpc::Message &reply) {
                       if (!self)
                           return;
                       Q_EMIT self->message(
                           reply.isResponse()
                               ? tr("restarting %1").arg(name)
                               : tr("restart of %1 failed: %2").arg(name, reply.errorMessage()));
                   });
}

void ProjectsView::undeploySelected() {
    const QString name = selectedProject();
    if (name.isEmpty())
        return;
    // Asked without a nested event loop: the answer comes back through finished().
    auto *box = new QMessageBox(
        QMessageBox::Warning, tr("Undeploy %1").arg(name),
        tr("Undeploy '%1'? Its routes and ports are released and its backend stops.").arg(name),
        QMessageBox::Cancel, this);
    QPushButton *yes = box->addButton(tr("Undeploy"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, box, yes, name] {
        if (box->clickedButton() == yes)
            undeploy(name);
    });
    box->open();
}

void ProjectsView::undeploy(const QString &name) {
    QPointer<ProjectsView> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsUndeploy), {{QStringLiteral("name"), name}},
                   [self, name](const jsonrpc::Message &reply) {
                       if (!self)
                           return;
                       Q_EMIT self->message(
                           reply.isResponse()
                               ? tr("%1 undeployed").arg(name)
                               : tr("undeploy of %1 failed: %2").arg(name, reply.errorMessage()));
                   });
}

void ProjectsView::showLogs(const QString &name) {
    if (name.isEmpty())
        return;
    auto *viewer = new LogViewer(m_client, name, this);
    viewer->setAttribute(Qt::WA_DeleteOnClose);
    viewer->show();
}

} // namespace portico

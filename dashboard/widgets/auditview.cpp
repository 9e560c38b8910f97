#include "auditview.h"

#include "models/auditmodel.h"
#include "refreshwhileshown.h"
#include "tablestyle.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

AuditView::AuditView(AuditModel *model, int refreshMs, QWidget *parent)
    : QWidget(parent), m_table(new QTableView(this)) {
    new RefreshWhileShown(
        this, [model] { model->refresh(); }, refreshMs);
    m_table->setObjectName(QStringLiteral("auditTable"));
    m_table->setModel(model);
    styleTable(m_table);
    QHeaderView *h = m_table->horizontalHeader();
    const auto width = [this](const char *sample) { return columnWidthFor(m_table, sample); };
    h->resizeSection(AuditModel::Time, width("2024-01-01 00:00:00"));
    h->resizeSection(AuditModel::Who, width("someone (pid 1234567)"));
    h->resizeSection(AuditModel::Method, width("projects.undeploy"));
    h->resizeSection(AuditModel::Project, width("hello-deno-x"));
    h->resizeSection(AuditModel::Outcome, width("refused (1002)"));
    auto *note =
        new QLabel(tr("Every deploy, undeploy, restart and reload, whatever its outcome. The daemon keeps "
                      "the last %1 here and all of them in audit.log in its state directory.")
                       .arg(AuditModel::kLimit),
                   this);
    note->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addWidget(note);
}

} // namespace portico

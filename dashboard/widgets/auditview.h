#pragma once

#include <QWidget>

class QTableView;

namespace portico {

class AuditModel;

// The audit trail: every deploy, undeploy, restart and reload, who asked (user and
// pid), when, and how it went; newest first.
class AuditView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditView)
public:
    // Reloaded every refreshMs while shown.
    explicit AuditView(AuditModel *model, int refreshMs = 5000, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }

private:
    QTableView *m_table;
};

} // namespace portico

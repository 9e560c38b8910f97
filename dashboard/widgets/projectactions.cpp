#include "projectactions.h"

#include "adminclient.h"
#include "protocol.h"

#include <QMessageBox>
#include <QPointer>
#include <QPushButton>

namespace portico {

ProjectActions::ProjectActions(AdminClient *client, QObject *parent) : QObject(parent), m_client(client) {}

void ProjectActions::restart(const QString &name) {
    if (name.isEmpty())
        return;
    QPointer<ProjectActions> self(this);
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

void ProjectActions::confirmUndeploy(const QString &name, QWidget *over) {
    if (name.isEmpty())
        return;
    auto *box = new QMessageBox(
        QMessageBox::Warning, tr("Undeploy %1").arg(name),
        tr("Undeploy '%1'? Its routes and ports are released and its backend stops.").arg(name),
        QMessageBox::Cancel, over);
    QPushButton *yes = box->addButton(tr("Undeploy"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    QPointer<ProjectActions> self(this);
    connect(box, &QMessageBox::finished, box, [self, box, yes, name] {
        if (self && box->clickedButton() == yes)
            self->undeploy(name);
    });
    box->open();
}

void ProjectActions::undeploy(const QString &name) {
    QPointer<ProjectActions> self(this);
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

} // namespace portico

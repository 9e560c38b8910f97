#pragma once

#include "models/dryrun.h"

#include <QDialog>
#include <QJsonObject>

#include <functional>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace portico {

class AdminClient;

// Deploys a manifest file, but only after showing its dry run (projects.validate): the
// route diff, every validation error with its path, every conflict with its port,
// transport and holder. Deploy is enabled only while the last dry run is clean; it
// sends exactly the manifest that was checked. The check runs again when the ports in
// the routing table change hands, since another deploy may have taken one meanwhile.
class DeployDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeployDialog)
public:
    static constexpr qint64 kMaxManifestBytes = 4 * 1024 * 1024;
    explicit DeployDialog(AdminClient *client, QWidget *parent = nullptr);

    // Reads the file and starts its dry run.
    void setManifestPath(const QString &path);
    QString manifestPath() const;
    void checkAgain();
    void deploy();

    const DryRun &dryRun() const { return m_dryRun; }
    bool isDeployEnabled() const;
    bool isBusy() const { return m_busy; }
    QPushButton *deployButton() const { return m_deploy; }
    QStringList shownLines() const; // what the result list shows, for tests

Q_SIGNALS:
    void dryRunFinished(bool clean);
    void deployed(const QString &project);
    void deployFailed(const QString &message);

private:
    void browse();
    // Sends the checked manifest with method; done gets the reply unless the dialog is
    // gone or a later call has superseded this one.
    void sendManifest(QLatin1String method, const QString &busyText,
                      std::function<void(const DryRun &run, const jsonrpc::Message &reply)> done);
    void showResult(const DryRun &run, const QString &headline);
    void showLocalError(const QString &message);
    void updateButtons();

    AdminClient *m_client;
    QLineEdit *m_path;
    QLabel *m_headline;
    QListWidget *m_list;
    QPushButton *m_check;
    QPushButton *m_deploy;
    QJsonObject m_manifest; // what the last dry run checked
    QString m_sourceDir;
    QString m_claims; // the port claims of the last routes.changed
    DryRun m_dryRun;
    bool m_busy = false;
    quint64 m_generation = 0; // replies to an older check are dropped
};

} // namespace portico

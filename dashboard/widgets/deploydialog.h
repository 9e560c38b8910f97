#pragma once

#include "models/dryrun.h"
#include "models/portfinder.h"

#include <QDialog>
#include <QJsonObject>

#include <functional>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QToolButton;

namespace portico {

class AdminClient;

// Deploys a manifest file, but only after showing its dry run (projects.validate): the
// route diff, every validation error with its path, every conflict with its port,
// transport and holder. Deploy is enabled only while the last dry run is clean; it
// sends exactly the manifest that was checked. The check runs again when the ports in
// the routing table change hands, since another deploy may have taken one meanwhile.
//
// Enter in the manifest field runs the check (a folder means its portico.json). A port
// conflict comes with the nearest free port and a button to use it (the manifest is
// changed here, not on disk). An upstream that does not answer is a warning, not a
// refusal. Manifests checked here are remembered (Recent).
class DeployDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeployDialog)
public:
    static constexpr qint64 kMaxManifestBytes = 4 * 1024 * 1024;
    static constexpr int kUpstreamProbeMs = 1500;
    explicit DeployDialog(AdminClient *client, QWidget *parent = nullptr);

    // Reads the file (or the folder's portico.json) and starts its dry run.
    void setManifestPath(const QString &path);
    QString manifestPath() const;
    QLineEdit *pathField() const { return m_path; }
    void checkAgain();
    void deploy();

    const DryRun &dryRun() const { return m_dryRun; }
    QJsonObject manifest() const { return m_manifest; } // what is checked and deployed
    bool isDeployEnabled() const;
    bool isBusy() const { return m_busy; }
    QPushButton *deployButton() const { return m_deploy; }
    QStringList shownLines() const; // what the result list shows, for tests

    // The free ports offered for the last conflicts (empty when there were none).
    QList<PortSuggestion> suggestions() const { return m_suggestions; }
    QPushButton *useSuggestionsButton() const { return m_useSuggestions; }
    void useSuggestions();

Q_SIGNALS:
    void dryRunFinished(bool clean);
    void suggestionsReady(); // after a conflict, once the free ports are found
    void upstreamChecked(bool answered);
    void deployed(const QString &project);
    void deployFailed(const QString &message);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void browse();
    void fillRecentMenu();
    // Sends the checked manifest with method; done gets the reply unless the dialog is
    // gone or a later call has superseded this one.
    void sendManifest(QLatin1String method, const QString &busyText,
                      std::function<void(const DryRun &run, const jsonrpc::Message &reply)> done);
    void onChecked(const DryRun &run);
    void findSuggestions(quint64 generation);
    void probeUpstream(quint64 generation);
    void showResult(const DryRun &run, const QString &headline);
    void showLocalError(const QString &message);
    void updateButtons();
    void updateEditedNote();

    AdminClient *m_client;
    QLineEdit *m_path;
    QToolButton *m_recent;
    QLabel *m_headline;
    QLabel *m_edited;
    QListWidget *m_list;
    QLabel *m_suggestionText;
    QPushButton *m_useSuggestions;
    QPushButton *m_check;
    QPushButton *m_deploy;
    QJsonObject m_manifest; // what the last dry run checked
    QString m_sourceDir;
    QString m_claims; // the port claims of the last routes.changed
    DryRun m_dryRun;
    QList<PortSuggestion> m_suggestions;
    QStringList m_changes; // "port 3000/tcp → 3001" made here, not on disk
    bool m_busy = false;
    quint64 m_generation = 0; // replies to an older check are dropped
};

} // namespace portico

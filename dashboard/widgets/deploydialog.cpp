#include "deploydialog.h"

#include "adminclient.h"
#include "models/format.h"
#include "protocol.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

namespace portico {

namespace {

QString marker(DryRun::Item::Kind kind) {
    using Kind = DryRun::Item::Kind;
    switch (kind) {
    case Kind::Added:
        return QStringLiteral("+ ");
    case Kind::Removed:
        return QStringLiteral("− ");
    case Kind::Kept:
        return QStringLiteral("= ");
    case Kind::Error:
        return DeployDialog::tr("error: ");
    case Kind::Conflict:
        return DeployDialog::tr("conflict: ");
    case Kind::Summary:
        break;
    }
    return {};
}

QColor colour(DryRun::Item::Kind kind) {
    using Kind = DryRun::Item::Kind;
    switch (kind) {
    case Kind::Added:
        return dash::stateColor(QStringLiteral("active"));
    case Kind::Removed:
        return dash::stateColor(QStringLiteral("backoff"));
    case Kind::Kept:
        return dash::stateColor(QStringLiteral("stopped"));
    case Kind::Error:
    case Kind::Conflict:
        return dash::stateColor(QStringLiteral("conflict"));
    case Kind::Summary:
        break;
    }
    return {};
}

// Who holds which port, in a routes.changed event.
QString portClaims(const QJsonArray &routes) {
    QStringList claims;
    for (const QJsonValue &v : routes) {
        const QJsonObject r = v.toObject();
        claims << QStringLiteral("%1/%2/%3/%4")
                      .arg(r.value(QStringLiteral("host_port")).toInt())
                      .arg(r.value(QStringLiteral("protocol")).toString(),
                           r.value(QStringLiteral("project")).toString(),
                           r.value(QStringLiteral("path")).toString());
    }
    claims.sort();
    return claims.join(QLatin1Char(' '));
}

} // namespace

DeployDialog::DeployDialog(AdminClient *client, QWidget *parent)
    : QDialog(parent), m_client(client), m_path(new QLineEdit(this)), m_headline(new QLabel(this)),
      m_list(new QListWidget(this)), m_check(new QPushButton(tr("Check again"), this)),
      m_deploy(new QPushButton(tr("Deploy"), this)) {
    setWindowTitle(tr("Deploy a project"));
    resize(720, 440);
    m_path->setPlaceholderText(tr("portico.json"));
    m_headline->setWordWrap(true);
    m_headline->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_list->setWordWrap(true);
    m_list->setSelectionMode(QAbstractItemView::NoSelection);
    m_deploy->setObjectName(QStringLiteral("deployButton"));
    // Deploying takes a click on Deploy itself, never a stray Enter.
    m_deploy->setAutoDefault(false);
    m_check->setAutoDefault(false);

    auto *browseButton = new QPushButton(tr("Browse…"), this);
    connect(browseButton, &QPushButton::clicked, this, &DeployDialog::browse);
    connect(m_path, &QLineEdit::returnPressed, this, [this] { setManifestPath(m_path->text()); });
    connect(m_check, &QPushButton::clicked, this, &DeployDialog::checkAgain);
    connect(m_deploy, &QPushButton::clicked, this, &DeployDialog::deploy);
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) {
                if (kind != QLatin1String(protocol::event::RoutesChanged))
                    return;
                // Only a change of who holds which port can change the dry run; a backend going
                // through its states (which also republishes the table) cannot.
                const QString claims = portClaims(data.value(QStringLiteral("routes")).toArray());
                if (claims == m_claims)
                    return;
                m_claims = claims;
                if (!m_busy && !m_manifest.isEmpty())
                    checkAgain();
            });
    auto *buttons = new QDialogButtonBox(this);
    buttons->addButton(m_check, QDialogButtonBox::ActionRole);
    buttons->addButton(m_deploy, QDialogButtonBox::ActionRole);
    buttons->addButton(QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(new QLabel(tr("Manifest:"), this));
    fileRow->addWidget(m_path, 1);
    fileRow->addWidget(browseButton);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(fileRow);
    layout->addWidget(m_headline);
    layout->addWidget(m_list, 1);
    layout->addWidget(buttons);
    m_headline->setText(tr("Pick a manifest: its dry run is shown here before anything is deployed."));
    updateButtons();
}

QString DeployDialog::manifestPath() const {
    return m_path->text();
}

void DeployDialog::browse() {
    auto *dialog = new QFileDialog(this, tr("Pick a manifest"), QFileInfo(m_path->text()).path(),
                                   tr("Portico manifests (*.json);;All files (*)"));
    dialog->setFileMode(QFileDialog::ExistingFile);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, &DeployDialog::setManifestPath);
    dialog->open();
}

void DeployDialog::setManifestPath(const QString &path) {
    m_path->setText(path);
    ++m_generation;
    m_manifest = {};
    m_dryRun = {};
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        showLocalError(tr("cannot read %1: %2").arg(path, file.errorString()));
        return;
    }
    if (file.size() > kMaxManifestBytes) {
        showLocalError(tr("%1 is over %2").arg(path, dash::humanBytes(double(kMaxManifestBytes))));
        return;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(kMaxManifestBytes), &error);
    if (error.error != QJsonParseError::NoError) {
        showLocalError(
            tr("%1 is not JSON: %2 at offset %3").arg(path, error.errorString()).arg(error.offset));
        return;
    }
    if (!doc.isObject()) {
        showLocalError(tr("%1: a manifest is a JSON object").arg(path));
        return;
    }
    m_manifest = doc.object();
    m_sourceDir = QFileInfo(path).absolutePath();
    checkAgain();
}

void DeployDialog::checkAgain() {
    if (m_manifest.isEmpty()) {
        if (!m_path->text().isEmpty())
            setManifestPath(m_path->text());
        return;
    }
    sendManifest(QLatin1String(protocol::method::ProjectsValidate), tr("Checking…"),
                 [this](const DryRun &run, const jsonrpc::Message &) {
                     QString headline;
                     switch (run.outcome) {
                     case DryRun::Outcome::Clean:
                         headline = tr("Dry run is clean: deploying '%1' would do this.").arg(run.project);
                         break;
                     case DryRun::Outcome::Invalid:
                         headline = tr("The manifest is invalid (%n error(s)); nothing can be deployed.",
                                       nullptr, run.count(DryRun::Item::Kind::Error));
                         break;
                     case DryRun::Outcome::Conflict:
                         headline = tr("Refused: %n port conflict(s). Nothing was changed.", nullptr,
                                       run.count(DryRun::Item::Kind::Conflict));
                         break;
                     case DryRun::Outcome::Failed:
                         headline = tr("The daemon refused the dry run.");
                         break;
                     }
                     showResult(run, headline);
                     Q_EMIT dryRunFinished(run.isClean());
                 });
}

void DeployDialog::deploy() {
    if (!isDeployEnabled())
        return;
    sendManifest(QLatin1String(protocol::method::ProjectsDeploy),
                 tr("Deploying '%1'… (the backend is started and checked first)").arg(m_dryRun.project),
                 [this](const DryRun &run, const jsonrpc::Message &reply) {
                     if (run.isClean()) {
                         Q_EMIT deployed(run.project);
                         accept();
                         return;
                     }
                     // Shown, and Deploy stays off until a new dry run is clean.
                     DryRun failed = run;
                     failed.outcome = DryRun::Outcome::Failed;
                     showResult(failed, tr("The deploy failed: %1").arg(reply.errorMessage()));
                     Q_EMIT deployFailed(reply.errorMessage());
                 });
}

void DeployDialog::sendManifest(QLatin1String method, const QString &busyText,
                                std::function<void(const DryRun &, const jsonrpc::Message &)> done) {
    const quint64 generation = ++m_generation;
    m_busy = true;
    m_headline->setText(busyText);
    updateButtons();
    QPointer<DeployDialog> self(this);
    m_client->call(method,
                   {{QStringLiteral("manifest"), m_manifest}, {QStringLiteral("source_dir"), m_sourceDir}},
                   [self, generation, done = std::move(done)](const jsonrpc::Message &reply) {
                       if (!self || generation != self->m_generation)
                           return;
                       self->m_busy = false;
                       done(DryRun::fromReply(reply), reply);
                   });
}

void DeployDialog::showLocalError(const QString &message) {
    m_busy = false;
    DryRun run;
    run.outcome = DryRun::Outcome::Failed;
    run.message = message;
    run.items.append({DryRun::Item::Kind::Error, message});
    showResult(run, tr("This file cannot be deployed."));
    Q_EMIT dryRunFinished(false);
}

void DeployDialog::showResult(const DryRun &run, const QString &headline) {
    m_dryRun = run;
    m_headline->setText(headline);
    m_list->clear();
    for (const DryRun::Item &item : run.items) {
        auto *row = new QListWidgetItem(marker(item.kind) + item.text, m_list);
        const QColor c = colour(item.kind);
        if (c.isValid())
            row->setForeground(c);
        if (item.kind == DryRun::Item::Kind::Summary) {
            QFont f = row->font();
            f.setBold(true);
            row->setFont(f);
        }
    }
    updateButtons();
}

bool DeployDialog::isDeployEnabled() const {
    return m_deploy->isEnabled();
}

void DeployDialog::updateButtons() {
    m_deploy->setEnabled(!m_busy && m_dryRun.isClean() && !m_manifest.isEmpty());
    m_check->setEnabled(!m_busy && !m_path->text().isEmpty());
}

QStringList DeployDialog::shownLines() const {
    QStringList lines;
    for (int i = 0; i < m_list->count(); ++i)
        lines << m_list->item(i)->text();
    return lines;
}

} // namespace portico

#include "deploydialog.h"

#include "adminclient.h"
#include "models/format.h"
#include "models/manifestfile.h"
#include "models/upstreamprobe.h"
#include "protocol.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPointer>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace portico {

namespace {

using Kind = DryRun::Item::Kind;

QString marker(Kind kind) {
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
    case Kind::Warning:
        return DeployDialog::tr("warning: ");
    case Kind::Summary:
        break;
    }
    return {};
}

QColor colour(Kind kind) {
    switch (kind) {
    case Kind::Added:
        return dash::stateColor(QStringLiteral("active"));
    case Kind::Removed:
    case Kind::Warning:
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
    : QDialog(parent), m_client(client), m_path(new QLineEdit(this)), m_recent(new QToolButton(this)),
      m_headline(new QLabel(this)), m_edited(new QLabel(this)), m_list(new QListWidget(this)),
      m_suggestionText(new QLabel(this)), m_useSuggestions(new QPushButton(this)),
      m_check(new QPushButton(tr("Check again"), this)), m_deploy(new QPushButton(tr("Deploy"), this)) {
    setWindowTitle(tr("Deploy a project"));
    resize(760, 460);
    m_path->setObjectName(QStringLiteral("manifestPath"));
    m_path->setPlaceholderText(tr("portico.json, or its folder — Enter checks it"));
    m_path->installEventFilter(this);
    m_headline->setWordWrap(true);
    m_headline->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_edited->setWordWrap(true);
    m_edited->setVisible(false);
    m_list->setWordWrap(true);
    m_list->setSelectionMode(QAbstractItemView::NoSelection);
    m_suggestionText->setWordWrap(true);
    m_useSuggestions->setObjectName(QStringLiteral("useSuggestionsButton"));
    m_deploy->setObjectName(QStringLiteral("deployButton"));

    auto *browse = new QPushButton(tr("Browse…"), this);
    browse->setObjectName(QStringLiteral("browseButton"));
    m_recent->setText(tr("Recent"));
    m_recent->setObjectName(QStringLiteral("recentButton"));
    m_recent->setPopupMode(QToolButton::InstantPopup);
    m_recent->setMenu(new QMenu(m_recent));
    connect(m_recent->menu(), &QMenu::aboutToShow, this, &DeployDialog::fillRecentMenu);
    m_recent->setEnabled(!recentManifests::load().isEmpty());
    // Enter belongs to the manifest field (it runs the check, see eventFilter); no button
    // is the default, so Enter never opens the file picker nor deploys by accident.
    for (QPushButton *b : {browse, m_check, m_deploy, m_useSuggestions})
        b->setAutoDefault(false);
    connect(browse, &QPushButton::clicked, this, &DeployDialog::browse);
    connect(m_check, &QPushButton::clicked, this, &DeployDialog::checkAgain);
    connect(m_deploy, &QPushButton::clicked, this, &DeployDialog::deploy);
    connect(m_useSuggestions, &QPushButton::clicked, this, &DeployDialog::useSuggestions);
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
    QPushButton *cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setAutoDefault(false);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(new QLabel(tr("Manifest:"), this));
    fileRow->addWidget(m_path, 1);
    fileRow->addWidget(browse);
    fileRow->addWidget(m_recent);
    auto *suggestionRow = new QHBoxLayout;
    suggestionRow->addWidget(m_suggestionText, 1);
    suggestionRow->addWidget(m_useSuggestions);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(fileRow);
    layout->addWidget(m_headline);
    layout->addWidget(m_edited);
    layout->addWidget(m_list, 1);
    layout->addLayout(suggestionRow);
    layout->addWidget(buttons);
    m_headline->setText(tr("Pick a manifest (or drop one on the main window): its dry run is shown here "
                           "before anything is deployed."));
    m_suggestionText->hide();
    m_useSuggestions->hide();
    updateButtons();
}

bool DeployDialog::eventFilter(QObject *watched, QEvent *event) {
    if (watched == m_path && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Return || key == Qt::Key_Enter) {
            if (!m_path->text().trimmed().isEmpty())
                setManifestPath(m_path->text().trimmed());
            return true; // the dialog never sees it: no default button fires
        }
    }
    return QDialog::eventFilter(watched, event);
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

void DeployDialog::fillRecentMenu() {
    QMenu *menu = m_recent->menu();
    menu->clear();
    for (const QString &path : recentManifests::load())
        menu->addAction(path, this, [this, path] { setManifestPath(path); });
    if (menu->isEmpty())
        menu->addAction(tr("(none yet)"))->setEnabled(false);
}

void DeployDialog::setManifestPath(const QString &given) {
    const QString path = manifestPathFor(given);
    m_path->setText(path);
    ++m_generation;
    m_manifest = {};
    m_dryRun = {};
    m_suggestions.clear();
    m_changes.clear();
    updateEditedNote();
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
    recentManifests::add(path);
    m_recent->setEnabled(true);
    checkAgain();
}

void DeployDialog::checkAgain() {
    if (m_manifest.isEmpty()) {
        if (!m_path->text().isEmpty())
            setManifestPath(m_path->text());
        return;
    }
    sendManifest(QLatin1String(protocol::method::ProjectsValidate), tr("Checking…"),
                 [this](const DryRun &run, const jsonrpc::Message &) { onChecked(run); });
}

void DeployDialog::onChecked(const DryRun &run) {
    QString headline;
    switch (run.outcome) {
    case DryRun::Outcome::Clean:
        headline = run.unchanged
                       ? tr("'%1' runs exactly this manifest already: deploying it changes nothing.")
                             .arg(run.project)
                       : tr("Dry run is clean: deploying '%1' would do this.").arg(run.project);
        break;
    case DryRun::Outcome::Invalid:
        headline = tr("The manifest is invalid (%n error(s)); nothing can be deployed.", nullptr,
                      run.count(Kind::Error));
        break;
    case DryRun::Outcome::Conflict:
        headline =
            tr("Refused: %n port conflict(s). Nothing was changed.", nullptr, run.count(Kind::Conflict));
        break;
    case DryRun::Outcome::Failed:
        headline = tr("The daemon refused the dry run.");
        break;
    }
    m_suggestions.clear();
    showResult(run, headline);
    if (run.outcome == DryRun::Outcome::Conflict && !run.conflicts.isEmpty())
        findSuggestions(m_generation);
    if (run.outcome == DryRun::Outcome::Clean || run.outcome == DryRun::Outcome::Conflict)
        probeUpstream(m_generation);
    Q_EMIT dryRunFinished(run.isClean());
}

void DeployDialog::findSuggestions(quint64 generation) {
    // The claims of the routing table as it is now, and a test bind for the rest of
    // the host: a port some other program holds fails it.
    QPointer<DeployDialog> self(this);
    m_client->call(
        QLatin1String(protocol::method::RoutesList), {}, [self, generation](const jsonrpc::Message &reply) {
            if (!self || generation != self->m_generation || !reply.isResponse())
                return;
            const PortClaims claims =
                PortClaims::fromRoutes(reply.result().toObject().value(QStringLiteral("routes")).toArray());
            QList<std::pair<int, QString>> taken;
            for (const auto &c : self->m_dryRun.conflicts)
                taken.append({c.port, c.transport});
            self->m_suggestions = suggestPorts(taken, self->m_manifest, claims);
            QStringList offers;
            QStringList labels;
            for (const PortSuggestion &s : std::as_const(self->m_suggestions)) {
                if (s.to == 0) {
                    offers << tr("no free port near %1/%2").arg(s.from).arg(s.transport);
                    continue;
                }
                offers << tr("%1/%2 is taken; the nearest free port is %3")
                              .arg(s.from)
                              .arg(s.transport)
                              .arg(s.to);
                labels << (s.transport == QLatin1String("udp") ? QStringLiteral("%1/udp").arg(s.to)
                                                               : QString::number(s.to));
            }
            self->m_suggestionText->setText(offers.join(QLatin1Char('\n')));
            self->m_suggestionText->show();
            self->m_useSuggestions->setText(tr("Use %1").arg(labels.join(QStringLiteral(", "))));
            self->m_useSuggestions->setVisible(!labels.isEmpty());
            Q_EMIT self->suggestionsReady();
        });
}

void DeployDialog::useSuggestions() {
    if (m_suggestions.isEmpty() || m_manifest.isEmpty())
        return;
    m_manifest = applyPortSuggestions(m_manifest, m_suggestions);
    for (const PortSuggestion &s : std::as_const(m_suggestions))
        if (s.to > 0)
            m_changes << tr("port %1/%2 → %3").arg(s.from).arg(s.transport).arg(s.to);
    m_suggestions.clear();
    updateEditedNote();
    checkAgain();
}

void DeployDialog::updateEditedNote() {
    m_edited->setVisible(!m_changes.isEmpty());
    m_edited->setText(tr("Changed here, not in the file: %1. Deploy sends the changed manifest; the file "
                         "on disk still has the old port.")
                          .arg(m_changes.join(QStringLiteral(", "))));
    m_edited->setStyleSheet(
        QStringLiteral("color: %1;").arg(dash::stateColor(QStringLiteral("starting")).name()));
}

void DeployDialog::probeUpstream(quint64 generation) {
    if (m_manifest.value(QStringLiteral("runtime")).toString() != QLatin1String("upstream"))
        return;
    const QString upstream = m_manifest.value(QStringLiteral("upstream")).toString();
    if (upstream.isEmpty())
        return;
    QPointer<DeployDialog> self(this);
    UpstreamProbe::probe(
        upstream, kUpstreamProbeMs, this, [self, generation, upstream](bool answered, const QString &why) {
            if (!self || generation != self->m_generation)
                return;
            if (!answered) {
                DryRun run = self->m_dryRun;
                run.items.append(
                    {Kind::Warning, tr("nothing answers at %1 (%2); it can be deployed, but its requests "
                                       "fail until the upstream is there")
                                        .arg(upstream, why)});
                self->showResult(run, self->m_headline->text());
            }
            Q_EMIT self->upstreamChecked(answered);
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
    m_suggestionText->hide();
    m_useSuggestions->hide();
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
    run.items.append({Kind::Error, message});
    m_suggestionText->hide();
    m_useSuggestions->hide();
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
        if (item.kind == Kind::Summary) {
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

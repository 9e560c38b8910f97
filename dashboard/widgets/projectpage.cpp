#include "projectpage.h"

#include "logpanel.h"
#include "models/format.h"
#include "models/logmodel.h"
#include "models/projectsmodel.h"
#include "projectactions.h"
#include "routesview.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

namespace portico {

namespace {

const char *const kNotReported = QT_TRANSLATE_NOOP("ProjectPage", "not reported by this porticod");

} // namespace

ProjectPage::ProjectPage(AdminClient *client, ProjectsModel *projects, RoutesModel *routes,
                         ProjectActions *actions, QWidget *parent)
    : QWidget(parent), m_projects(projects), m_logModel(new LogModel(client, 5000, this)),
      m_title(new QLabel(this)), m_state(new QLabel(this)), m_reason(new QLabel(this)),
      m_restart(new QPushButton(tr("Restart"), this)), m_undeploy(new QPushButton(tr("Undeploy…"), this)),
      m_routes(new RoutesView(routes, this)), m_tabs(new QTabWidget(this)),
      m_logs(new LogPanel(m_logModel, this)), m_manifest(new QPlainTextEdit(this)) {
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.5);
    big.setBold(true);
    m_title->setFont(big);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_state->setObjectName(QStringLiteral("state"));
    m_reason->setObjectName(QStringLiteral("reason"));
    m_reason->setWordWrap(true);
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_restart->setObjectName(QStringLiteral("pageRestartButton"));
    m_undeploy->setObjectName(QStringLiteral("pageUndeployButton"));
    connect(m_restart, &QPushButton::clicked, this, [this, actions] { actions->restart(m_name); });
    connect(m_undeploy, &QPushButton::clicked, this,
            [this, actions] { actions->confirmUndeploy(m_name, this); });

    auto *titleRow = new QHBoxLayout;
    titleRow->addWidget(m_title);
    titleRow->addSpacing(12);
    titleRow->addWidget(m_state);
    titleRow->addStretch();
    titleRow->addWidget(m_restart);
    titleRow->addWidget(m_undeploy);

    auto *details = new QWidget(this);
    auto *form = new QFormLayout(details);
    form->setContentsMargins(0, 0, 0, 0);
    form->setLabelAlignment(Qt::AlignRight);
    addField(form, tr("Runtime"), QStringLiteral("runtime"));
    addField(form, tr("PID"), QStringLiteral("pid"));
    addField(form, tr("Uptime"), QStringLiteral("uptime"));
    addField(form, tr("Restarts"), QStringLiteral("restarts"));
    addField(form, tr("Last exit"), QStringLiteral("last_exit"));
    addField(form, tr("Backend"), QStringLiteral("backend"));
    addField(form, tr("Source"), QStringLiteral("source"));
    addField(form, tr("Env"), QStringLiteral("env"));

    m_routes->setProject(QStringLiteral("\x01")); // nothing until a project is set
    auto *top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(details);
    top->addWidget(m_routes);
    top->setStretchFactor(0, 2);
    top->setStretchFactor(1, 3);
    top->setChildrenCollapsible(false);

    m_manifest->setObjectName(QStringLiteral("manifestText"));
    m_manifest->setReadOnly(true);
    m_manifest->setAcceptDrops(false); // a drop is for the window: it deploys
    m_manifest->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_tabs->addTab(m_logs, tr("Logs"));
    m_tabs->addTab(m_manifest, tr("Manifest"));

    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("projectSplitter"));
    split->addWidget(top);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(titleRow);
    layout->addWidget(m_reason);
    layout->addWidget(split, 1);

    connect(m_projects, &QAbstractItemModel::dataChanged, this, &ProjectPage::update);
    connect(m_projects, &QAbstractItemModel::rowsInserted, this, &ProjectPage::update);
    connect(m_projects, &QAbstractItemModel::rowsRemoved, this, &ProjectPage::update);
    connect(m_projects, &QAbstractItemModel::modelReset, this, &ProjectPage::update);
    update();
}

QLabel *ProjectPage::addField(QFormLayout *form, const QString &label, const QString &name) {
    auto *value = new QLabel(this);
    value->setObjectName(name);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    form->addRow(label + QLatin1Char(':'), value);
    return value;
}

void ProjectPage::setProject(const QString &name) {
    if (name == m_name)
        return;
    m_name = name;
    m_routes->setProject(name.isEmpty() ? QStringLiteral("\x01") : name);
    m_logModel->setProject(name);
    m_logs->setSearch({});
    update();
}

void ProjectPage::showTab(Tab tab) {
    m_tabs->setCurrentIndex(tab == Tab::Logs ? 0 : 1);
    if (tab == Tab::Logs)
        m_logs->focusSearch();
}

QString ProjectPage::field(const QString &name) const {
    if (name == QLatin1String("state"))
        return m_state->text();
    if (name == QLatin1String("reason"))
        return m_reason->text();
    const auto *label = findChild<QLabel *>(name);
    return label ? label->text() : QString();
}

QString ProjectPage::manifestText() const {
    return m_manifest->toPlainText();
}

void ProjectPage::changeEvent(QEvent *event) {
    if (event->type() == QEvent::EnabledChange)
        update();
    QWidget::changeEvent(event);
}

void ProjectPage::update() {
    const int row = m_projects->findRow(m_name);
    const ProjectInfo p = m_projects->project(row);
    const bool known = row >= 0;
    m_title->setText(m_name);
    m_restart->setEnabled(known);
    m_undeploy->setEnabled(known);
    const QString state = known ? p.state : tr("not deployed");
    m_state->setText(state);
    // Disabled (no daemon), the state is what was last seen: no colour says it is alive.
    const QColor colour =
        isEnabled() ? dash::stateColor(known ? p.state : QStringLiteral("stopped")) : QColor();
    m_state->setStyleSheet(colour.isValid()
                               ? QStringLiteral("color: %1; font-weight: bold;").arg(colour.name())
                               : QStringLiteral("font-weight: bold;"));
    m_reason->setText(p.reason);
    m_reason->setVisible(!p.reason.isEmpty());

    const auto set = [this](const QString &name, const QString &text, const QString &tip = {}) {
        if (auto *label = findChild<QLabel *>(name)) {
            label->setText(text);
            label->setToolTip(tip);
        }
    };
    const QString none = QStringLiteral("—");
    const QString notReported = tr(kNotReported);
    // A daemon before protocol 2 sends none of the process facts but the pid.
    const bool reportsProcess = p.restarts >= 0 || p.startedAt.isValid() || p.uptimeMs >= 0;
    set(QStringLiteral("runtime"), p.runtime);
    set(QStringLiteral("pid"), p.pid > 0 ? QString::number(p.pid) : none,
        p.pid > 0 ? QString() : tr("no process of its own"));
    const qint64 up = p.uptimeNowMs();
    set(QStringLiteral("uptime"), up >= 0 ? dash::humanDuration(up) : none,
        p.startedAt.isValid() ? tr("since %1").arg(dash::localTime(p.startedAt))
                              : (reportsProcess ? QString() : notReported));
    set(QStringLiteral("restarts"), p.restarts >= 0 ? QString::number(p.restarts) : none,
        p.restarts >= 0 ? QString() : notReported);
    set(QStringLiteral("last_exit"), p.reportsLastExit ? p.lastExitText() : none,
        p.reportsLastExit ? QString() : notReported);
    set(QStringLiteral("backend"), p.backend.isEmpty() ? none : p.backend);
    set(QStringLiteral("source"), p.sourceDir.isEmpty() ? none : p.sourceDir);
    set(QStringLiteral("env"), p.envNames.isEmpty() ? tr("none") : p.envNames.join(QStringLiteral(", ")),
        tr("Only the names: values are never shown"));

    const QString manifest =
        known ? QString::fromUtf8(QJsonDocument(p.redactedManifest()).toJson(QJsonDocument::Indented))
              : QString();
    if (m_manifest->toPlainText() != manifest)
        m_manifest->setPlainText(manifest);
}

} // namespace portico

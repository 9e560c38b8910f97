#include "logviewer.h"

#include "adminclient.h"
#include "protocol.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QScrollBar>
#include <QVBoxLayout>

namespace portico {

LogViewer::LogViewer(AdminClient *client, const QString &project, QWidget *parent)
    : QDialog(parent), m_client(client), m_project(project), m_text(new QPlainTextEdit(this)),
      m_follow(new QCheckBox(tr("Follow"), this)), m_status(new QLabel(this)) {
    setWindowTitle(tr("Logs of %1").arg(project));
    resize(900, 520);
    m_text->setReadOnly(true);
    m_text->setMaximumBlockCount(kMaxLines);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_follow->setChecked(true);

    auto *reloadButton = new QPushButton(tr("Reload"), this);
    connect(reloadButton, &QPushButton::clicked, this, &LogViewer::reload);
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_client, &AdminClient::eventReceived, this,
            [this](const QString &kind, const QJsonObject &data) {
                if (kind == QLatin1String(protocol::event::Log) && m_follow->isChecked() &&
                    data.value(QStringLiteral("project")).toString() == m_project)
                    appendLine(data.value(QStringLiteral("text")).toString());
            });

    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_follow);
    bottom->addWidget(reloadButton);
    bottom->addWidget(m_status, 1);
    bottom->addWidget(close);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_text);
    layout->addLayout(bottom);
    reload();
}

QString LogViewer::text() const {
    return m_text->toPlainText();
}

bool LogViewer::isFollowing() const {
    return m_follow->isChecked();
}

void LogViewer::setFollowing(bool on) {
    m_follow->setChecked(on);
}

void LogViewer::reload() {
    m_status->setText(tr("loading…"));
    QPointer<LogViewer> self(this);
    m_client->call(QLatin1String(protocol::method::ProjectsLogs),
                   {{QStringLiteral("name"), m_project}, {QStringLiteral("lines"), kTailLines}},
                   [self](const jsonrpc::Message &reply) {
                       if (!self)
                           return;
                       if (!reply.isResponse()) {
                           self->m_status->setText(reply.errorMessage());
                           return;
                       }
                       self->m_text->clear();
                       const QJsonArray lines =
                           reply.result().toObject().value(QStringLiteral("lines")).toArray();
                       for (const QJsonValue &v : lines)
                           self->appendLine(v.toObject().value(QStringLiteral("text")).toString());
                       self->m_status->setText(tr("%n line(s) of output", nullptr, int(lines.size())));
                   });
}

void LogViewer::appendLine(const QString &line) {
    QScrollBar *bar = m_text->verticalScrollBar();
    const bool atEnd = bar->value() == bar->maximum();
    m_text->appendPlainText(line);
    if (atEnd)
        bar->setValue(bar->maximum());
}

} // namespace portico

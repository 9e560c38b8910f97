#include "disconnectedoverlay.h"

#include "models/daemonstatus.h"

#include <QEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>

namespace portico {

DisconnectedOverlay::DisconnectedOverlay(DaemonStatus *status, QWidget *parent)
    : QWidget(parent), m_status(status), m_card(new QFrame(this)), m_headline(new QLabel(m_card)),
      m_detail(new QLabel(m_card)), m_hint(new QLabel(m_card)) {
    setObjectName(QStringLiteral("disconnectedOverlay"));
    m_headline->setObjectName(QStringLiteral("overlayHeadline"));
    m_detail->setObjectName(QStringLiteral("overlayDetail"));
    QFont big = m_headline->font();
    big.setPointSizeF(big.pointSizeF() * 1.35);
    big.setBold(true);
    m_headline->setFont(big);
    for (QLabel *l : {m_headline, m_detail, m_hint}) {
        l->setAlignment(Qt::AlignCenter);
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_hint->setText(tr("Start it with <code>porticod</code> (or <code>systemctl start porticod</code>); "
                       "this window reconnects by itself and reloads everything."));
    m_hint->setTextFormat(Qt::RichText);
    // The words on a card of their own, readable over whatever lies below.
    m_card->setObjectName(QStringLiteral("overlayCard"));
    auto *card = new QVBoxLayout(m_card);
    card->setContentsMargins(28, 20, 28, 20);
    card->addWidget(m_headline);
    card->addWidget(m_detail);
    card->addSpacing(10);
    card->addWidget(m_hint);
    auto *layout = new QVBoxLayout(this);
    layout->addStretch(2);
    auto *row = new QHBoxLayout;
    row->addStretch();
    row->addWidget(m_card);
    row->addStretch();
    layout->addLayout(row);
    layout->addStretch(3);
    layout->setContentsMargins(24, 24, 24, 24);
    connect(m_status, &DaemonStatus::changed, this, &DisconnectedOverlay::update);
    if (parent) {
        parent->installEventFilter(this);
        setGeometry(parent->rect());
    }
    update();
}

bool DisconnectedOverlay::eventFilter(QObject *watched, QEvent *event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize) {
        setGeometry(parentWidget()->rect());
        // Wrapped labels need a width to be given: as wide as there is room, up to a line's
        // comfortable length.
        m_card->setFixedWidth(qBound(240, width() - 48, 760));
    }
    return QWidget::eventFilter(watched, event);
}

QString DisconnectedOverlay::headline() const {
    return m_headline->text();
}

QString DisconnectedOverlay::detail() const {
    return m_detail->text();
}

void DisconnectedOverlay::update() {
    const QString socket = m_status->socketPath();
    switch (m_status->connection()) {
    case DaemonStatus::Connection::Connected:
        hide();
        return;
    case DaemonStatus::Connection::Connecting:
        m_headline->setText(tr("Connecting to porticod at %1…").arg(socket));
        m_detail->setText({});
        break;
    case DaemonStatus::Connection::Retrying: {
        m_headline->setText(tr("porticod is not running at %1 — retrying").arg(socket));
        // The reason, without the path the headline already names.
        QString reason = m_status->lastError();
        const QString prefix = QStringLiteral("cannot connect to %1: ").arg(socket);
        if (reason.startsWith(prefix))
            reason = reason.mid(prefix.size());
        m_detail->setText(reason);
        break;
    }
    }
    show();
    raise();
}

void DisconnectedOverlay::paintEvent(QPaintEvent *) {
    // A veil in the window colour: what is below stays faintly visible, clearly inactive.
    QPainter p(this);
    QColor veil = palette().color(QPalette::Window);
    veil.setAlpha(215);
    p.fillRect(rect(), veil);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.setBrush(palette().color(QPalette::Base));
    p.drawRoundedRect(QRectF(m_card->geometry()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8);
}

} // namespace portico

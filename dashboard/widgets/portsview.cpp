#include "portsview.h"

#include "models/portfinder.h"
#include "models/portsmodel.h"
#include "refreshwhileshown.h"
#include "tablestyle.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

namespace portico {

PortsView::PortsView(PortsModel *model, QWidget *parent)
    : QWidget(parent), m_model(model), m_proxy(new QSortFilterProxyModel(this)),
      m_table(new QTableView(this)), m_filter(new QLineEdit(this)), m_port(new QSpinBox(this)),
      m_transport(new QComboBox(this)), m_check(new QLabel(this)), m_status(new QLabel(this)) {
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(PortsModel::SortRole);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table->setObjectName(QStringLiteral("portsTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(PortsModel::Port, Qt::AscendingOrder);
    styleTable(m_table);
    QHeaderView *h = m_table->horizontalHeader();
    const auto width = [this](const char *sample) { return columnWidthFor(m_table, sample); };
    h->resizeSection(PortsModel::Port, width("655350"));
    h->resizeSection(PortsModel::Transport, width("Transport"));
    h->resizeSection(PortsModel::Portico, width("ingress (http)xxxxxx"));
    h->resizeSection(PortsModel::State, width("conflict"));
    h->resizeSection(PortsModel::Holder, width("another user's processxx"));

    m_filter->setPlaceholderText(tr("Filter: port, project or process"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAcceptDrops(false); // a dropped manifest is for the window: it deploys
    connect(m_filter, &QLineEdit::textChanged, this, &PortsView::setFilter);
    m_port->setObjectName(QStringLiteral("checkPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(3000);
    m_transport->addItems({QStringLiteral("tcp"), QStringLiteral("udp")});
    m_transport->setToolTip(tr("http and tcp routes share the tcp ports"));
    m_check->setObjectName(QStringLiteral("checkResult"));
    m_check->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_port, &QSpinBox::valueChanged, this, &PortsView::updateCheck);
    connect(m_transport, &QComboBox::currentIndexChanged, this, &PortsView::updateCheck);
    new RefreshWhileShown(
        this, [model] { model->refresh(); }, 5000);
    // The host's scan and the daemon's routes arrive in either order, and routes come and
    // go between scans: the counts and the answer follow the rows, not the scan.
    const auto update = [this] {
        updateCheck();
        updateStatus();
    };
    connect(m_model, &PortsModel::scanned, this, update);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, update);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, update);
    connect(m_model, &QAbstractItemModel::dataChanged, this, update);

    auto *top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    top->addSpacing(16);
    top->addWidget(new QLabel(tr("Is port"), this));
    top->addWidget(m_port);
    top->addWidget(m_transport);
    top->addWidget(new QLabel(tr("free?"), this));
    top->addWidget(m_check, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);
    updateCheck();
}

void PortsView::setFilter(const QString &text) {
    m_proxy->setFilterFixedString(text);
    updateStatus();
}

QString PortsView::checkPort(int port, const QString &transport) const {
    const int row = m_model->findRow(port, transport);
    PortClaims claims;
    for (int i = 0; i < m_model->rowCount(); ++i) {
        const auto r = m_model->row(i);
        if (!r.portico.isEmpty())
            claims.add(r.port, r.transport);
    }
    const bool bindable = canBind(port, transport);
    if (row < 0 && bindable && !claims.isClaimed(port, transport))
        return tr("%1/%2 is free").arg(port).arg(transport);
    QString holder;
    if (row >= 0) {
        const auto r = m_model->row(row);
        holder = !r.portico.isEmpty()  ? tr("Portico: %1").arg(r.portico)
                 : !r.holder.isEmpty() ? r.holder
                                       : tr("another user's process");
    } else {
        holder = tr("someone (it cannot be bound)");
    }
    const int next = nearestFreePort(port, transport, claims);
    return next > 0 ? tr("%1/%2 is held by %3; the nearest free port is %4")
                          .arg(port)
                          .arg(transport, holder)
                          .arg(next)
                    : tr("%1/%2 is held by %3").arg(port).arg(transport, holder);
}

QString PortsView::checkText() const {
    return m_check->text();
}

QString PortsView::statusText() const {
    return m_status->text();
}

void PortsView::updateCheck() {
    m_check->setText(checkPort(m_port->value(), m_transport->currentText()));
}

void PortsView::updateStatus() {
    int portico = 0, unknown = 0;
    for (int i = 0; i < m_model->rowCount(); ++i) {
        const auto r = m_model->row(i);
        portico += r.portico.isEmpty() ? 0 : 1;
        unknown += r.portico.isEmpty() && r.holder.isEmpty() ? 1 : 0;
    }
    QString s = tr("%n port(s) in use, ", nullptr, m_model->rowCount()) +
                tr("%n of them Portico's", nullptr, portico);
    if (unknown > 0)
        s += tr("; %n held by processes /proc does not show (another user's)", nullptr, unknown);
    if (!m_filter->text().isEmpty())
        s += tr(" — %n shown", nullptr, m_proxy->rowCount());
    m_status->setText(s);
}

} // namespace portico

#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QSpinBox;
class QTableView;

namespace portico {

class PortsModel;

// Ports at a glance: every port Portico holds and every other listening port on the
// host, with who holds it; a filter; and "is this port free?" with the nearest free one,
// for picking a port before writing a manifest. Scans the host while it is shown.
class PortsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PortsView)
public:
    explicit PortsView(PortsModel *model, QWidget *parent = nullptr);
    QTableView *table() const { return m_table; }
    void setFilter(const QString &text);
    // "3000/tcp is free" or "3000/tcp is held by …; the nearest free port is 3001".
    QString checkPort(int port, const QString &transport) const;
    QString checkText() const;
    // "12 port(s) in use, 4 of them Portico's; …"
    QString statusText() const;

private:
    void updateCheck();
    void updateStatus();

    PortsModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
    QLineEdit *m_filter;
    QSpinBox *m_port;
    QComboBox *m_transport;
    QLabel *m_check;
    QLabel *m_status;
};

} // namespace portico

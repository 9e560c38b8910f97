#pragma once

#include <QWidget>

class QFrame;
class QLabel;

namespace portico {

class DaemonStatus;

// Lies over the whole window while there is no daemon to talk to: a veil that greys out
// what is below and says where the dashboard looks for porticod and why it does not get
// an answer ("porticod is not running at /run/portico/admin.sock — retrying"). It covers
// its parent whole, following its size; hidden while connected. The window disables its
// views and actions meanwhile; this only says why.
class DisconnectedOverlay final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DisconnectedOverlay)
public:
    explicit DisconnectedOverlay(DaemonStatus *status, QWidget *parent = nullptr);
    QString headline() const;
    QString detail() const;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void update();

    DaemonStatus *m_status;
    QFrame *m_card;
    QLabel *m_headline;
    QLabel *m_detail;
    QLabel *m_hint;
};

} // namespace portico

#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace portico {

class LogModel;

// A project's output, one row per line: its time, its stream (stderr marked and in
// red), its text. A search field narrows the rows to those containing the text; Follow
// takes new lines as they come and keeps the newest in view (off: the view holds still
// and nothing is added; Reload fetches the tail again).
class LogPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogPanel)
public:
    explicit LogPanel(LogModel *model, QWidget *parent = nullptr);

    LogModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QLineEdit *searchField() const { return m_search; }
    void setSearch(const QString &text);
    bool isFollowing() const;
    void setFollowing(bool on);
    int visibleLines() const; // rows that pass the search
    QString statusText() const;
    void focusSearch();

private:
    void onRowsInserted();
    void updateStatus();
    void updateColumns();

    LogModel *m_model;
    QSortFilterProxyModel *m_filter;
    QTableView *m_table;
    QLineEdit *m_search;
    QCheckBox *m_follow;
    QLabel *m_status;
    QString m_modelStatus;
};

} // namespace portico

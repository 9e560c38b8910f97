#pragma once

#include <QWidget>

class QListView;
class QListWidget;
class QSortFilterProxyModel;

namespace portico {

class ProjectsModel;

// The window's navigation: the host's views (overview, ports, audit trail, events) and
// below them every project, with a dot in the colour of its state. Picking one shows
// its page.
class Sidebar final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Sidebar)
public:
    enum class Page { Overview, Ports, Audit, Events, Project };
    explicit Sidebar(ProjectsModel *projects, QWidget *parent = nullptr);

    // Selects that entry (without emitting pageChosen).
    void showPage(Page page, const QString &project = {});
    Page page() const { return m_page; }
    QString project() const { return m_project; }
    QListView *projectList() const { return m_projects; }
    static QString pageKey(Page page); // "overview", … (for settings and --page)
    static std::optional<Page> pageFromKey(const QString &key);

Q_SIGNALS:
    void pageChosen(Page page, const QString &project);

private:
    void choose(Page page, const QString &project);

    QListWidget *m_views;
    QListView *m_projects;
    QSortFilterProxyModel *m_sorted;
    Page m_page = Page::Overview;
    QString m_project;
    bool m_quiet = false;
};

} // namespace portico

#pragma once

#include <QDialog>

class QCheckBox;
class QLabel;
class QPlainTextEdit;

namespace portico {

class AdminClient;

// A project's output: the tail from projects.logs, then, while "Follow" is on, every
// `project.log` line as it comes. Bounded: the oldest lines go past kMaxLines.
class LogViewer final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogViewer)
public:
    static constexpr int kMaxLines = 5000;
    static constexpr int kTailLines = 500;
    LogViewer(AdminClient *client, const QString &project, QWidget *parent = nullptr);

    QString project() const { return m_project; }
    QString text() const;
    bool isFollowing() const;
    void setFollowing(bool on);
    void reload();

private:
    void appendLine(const QString &line);

    AdminClient *m_client;
    QString m_project;
    QPlainTextEdit *m_text;
    QCheckBox *m_follow;
    QLabel *m_status;
};

} // namespace portico

#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QJsonValue>
#include <QList>

namespace portico {

class AdminClient;

// The output of one project: the tail from projects.logs, then, while following, every
// `project.log` line of that project as it comes. Each line has its time and stream
// ({time, stream, text} since protocol 2; a bare string from an older daemon has
// neither). Reloaded on every reconnect, since lines went by meanwhile. Bounded: the
// oldest lines go past maxLines().
class LogModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogModel)
public:
    enum Column { Time, Stream, Text, ColumnCount };
    enum Role { StreamRole = Qt::UserRole + 1 };
    struct Line {
        QDateTime time; // invalid when the daemon does not say
        QString stream; // "stdout", "stderr", "portico", or empty
        QString text;
        friend bool operator==(const Line &, const Line &) = default;
    };
    static constexpr int kTailLines = 1000;

    explicit LogModel(AdminClient *client, int maxLines = 5000, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Shows that project's output (empty: none) and loads its tail.
    void setProject(const QString &name);
    QString project() const { return m_project; }
    void reload();
    bool isFollowing() const { return m_following; }
    void setFollowing(bool on);
    int maxLines() const { return m_max; }
    Line line(int row) const { return m_lines.value(row); }
    QString text() const; // every line's text, one per line

    // One line as projects.logs or project.log carries it (string or object).
    static Line lineFromJson(const QJsonValue &value);
    void append(const Line &line);

Q_SIGNALS:
    // "loading…" or why the output cannot be read ("no project named 'x'"); empty once
    // the tail is in.
    void statusChanged(const QString &status);
    void reloaded();

private:
    void onEvent(const QString &kind, const QJsonObject &data);
    void replaceAll(QList<Line> lines);

    AdminClient *m_client;
    QString m_project;
    QList<Line> m_lines;
    int m_max;
    bool m_following = true;
    quint64 m_generation = 0; // a reply for an older setProject/reload is dropped
};

} // namespace portico

#pragma once

#include "runtime/backend.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <deque>
#include <map>

namespace portico {

// One line of a project's output as the admin protocol shows it.
struct LogLine {
    QDateTime time; // UTC, when the daemon read it
    LogStream stream = LogStream::Stdout;
    QString text;
    QJsonObject toJson() const; // {time, stream, text}
};

// The recent output of every project, by name, kept by the daemon rather than by a backend:
// it outlives the backend that wrote it (a redeploy's new backend continues the same log),
// and the output of a deploy that was refused stays readable until that name is deployed
// again. Bounded: at most `linesPerProject` lines per name, and at most kMaxRefused names
// that are kept only for a refused deploy (the oldest goes first).
class ProjectLogs {
public:
    static constexpr int kMaxRefused = 32;

    explicit ProjectLogs(int linesPerProject) : m_cap(qMax(1, linesPerProject)) {}

    const LogLine &append(const QString &project, LogStream stream, const QString &text);
    // The last `lines` lines, oldest first.
    QJsonArray tail(const QString &project, int lines) const;
    bool contains(const QString &project) const { return m_rings.count(project) > 0; }
    // A deploy of a project that is not deployed was refused: keep its output (if any) for
    // projects.logs until the next deploy of that name.
    void keepRefused(const QString &project);
    bool isRefused(const QString &project) const;
    void drop(const QString &project);

private:
    int m_cap;
    std::map<QString, std::deque<LogLine>> m_rings;
    std::deque<QString> m_refused; // oldest first
};

} // namespace portico

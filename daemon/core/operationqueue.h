#pragma once

#include <QSet>
#include <QString>

#include <deque>
#include <functional>

namespace portico {

// The order of the daemon's changes. Operations on one project (deploy, undeploy,
// restart) run one at a time in the order they were asked for; operations on different
// projects run at once, so that a backend slow to become ready holds only its own
// project. An exclusive operation (a reload, which looks at every project) waits until
// nothing runs, and everything asked for after it waits for it.
class OperationQueue {
    Q_DISABLE_COPY_MOVE(OperationQueue)
public:
    // Called exactly once when the operation is over (at once or later).
    using Done = std::function<void()>;
    using Operation = std::function<void(Done)>;

    OperationQueue() = default;

    void run(const QString &key, Operation op);
    void runExclusive(Operation op);

    int runningCount() const { return int(m_running.size()) + (m_exclusiveRunning ? 1 : 0); }
    int waitingCount() const { return int(m_waiting.size()); }
    bool isRunning(const QString &key) const { return m_running.contains(key); }

private:
    struct Entry {
        QString key;
        bool exclusive = false;
        Operation op;
    };
    void pump();
    void start(Entry entry);

    std::deque<Entry> m_waiting;
    QSet<QString> m_running;
    bool m_exclusiveRunning = false;
    // An operation may finish (or ask for another) inside pump(): scan again then.
    bool m_pumping = false;
    bool m_again = false;
};

} // namespace portico

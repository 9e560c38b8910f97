#include "operationqueue.h"

#include <memory>

namespace portico {

void OperationQueue::run(const QString &key, Operation op) {
    m_waiting.push_back({key, false, std::move(op)});
    pump();
}

void OperationQueue::runExclusive(Operation op) {
    m_waiting.push_back({QString(), true, std::move(op)});
    pump();
}

void OperationQueue::start(Entry entry) {
    auto called = std::make_shared<bool>(false);
    Done done;
    if (entry.exclusive) {
        m_exclusiveRunning = true;
        done = [this, called] {
            if (std::exchange(*called, true))
                return;
            m_exclusiveRunning = false;
            pump();
        };
    } else {
        m_running.insert(entry.key);
        done = [this, called, key = entry.key] {
            if (std::exchange(*called, true))
                return;
            m_running.remove(key);
            pump();
        };
    }
    entry.op(std::move(done));
}

void OperationQueue::pump() {
    if (m_pumping) {
        m_again = true;
        return;
    }
    m_pumping = true;
    do {
        m_again = false;
        // Keys with an operation waiting ahead in the line: later ones of that key wait too.
        QSet<QString> blocked;
        for (auto it = m_waiting.begin(); it != m_waiting.end() && !m_exclusiveRunning;) {
            if (it->exclusive) {
                if (m_running.isEmpty()) {
                    Entry e = std::move(*it);
                    m_waiting.erase(it);
                    start(std::move(e));
                    m_again = true; // the line may have changed under us
                }
                break; // nothing behind an exclusive operation starts before it
            }
            if (m_running.contains(it->key) || blocked.contains(it->key)) {
                blocked.insert(it->key);
                ++it;
                continue;
            }
            Entry e = std::move(*it);
            m_waiting.erase(it);
            start(std::move(e));
            m_again = true;
            break;
        }
    } while (m_again);
    m_pumping = false;
}

} // namespace portico

#include "deadlines.h"

namespace portico {

void Deadline::cancel() {
    List *l = m_list;
    if (!l)
        return;
    (m_prev ? m_prev->m_next : l->head) = m_next;
    (m_next ? m_next->m_prev : l->tail) = m_prev;
    m_prev = m_next = nullptr;
    m_list = nullptr;
    --l->owner->m_count;
}

DeadlineLists::~DeadlineLists() {
    for (auto &l : m_lists) {
        while (l->head)
            l->head->cancel();
    }
}

void DeadlineLists::arm(Deadline &d, qint64 now, int durationMs) {
    if (durationMs < 1)
        durationMs = 1;
    d.cancel();
    Deadline::List *list = nullptr;
    for (auto &l : m_lists) {
        if (l->durationMs == durationMs) {
            list = l.get();
            break;
        }
    }
    if (!list) {
        m_lists.push_back(std::make_unique<Deadline::List>());
        list = m_lists.back().get();
        list->owner = this;
        list->durationMs = durationMs;
    }
    d.m_at = now + durationMs;
    d.m_list = list;
    d.m_prev = list->tail;
    d.m_next = nullptr;
    (list->tail ? list->tail->m_next : list->head) = &d;
    list->tail = &d;
    ++m_count;
}

qint64 DeadlineLists::next() const {
    qint64 best = -1;
    for (const auto &l : m_lists) {
        if (l->head && (best < 0 || l->head->m_at < best))
            best = l->head->m_at;
    }
    return best;
}

int DeadlineLists::expire(qint64 now) {
    int fired = 0;
    // A callback may arm deadlines in any list (always later than now, durations are at
    // least 1 ms) or cancel others: each list's head is read afresh every time.
    for (size_t i = 0; i < m_lists.size(); ++i) {
        Deadline::List *l = m_lists[i].get();
        while (l->head && l->head->m_at <= now) {
            Deadline *d = l->head;
            d->cancel();
            ++fired;
            d->expired();
        }
    }
    return fired;
}

} // namespace portico

#pragma once

#include <QtGlobal>

#include <memory>
#include <vector>

namespace portico {

class DeadlineLists;

// One timeout of a data-plane object (a connection's header, idle, connect, response,
// linger or tunnel deadline). Intrusive: arming and cancelling are a few pointer writes,
// no allocation and no timer object per connection.
class Deadline {
public:
    Deadline() = default;
    Deadline(const Deadline &) = delete;
    Deadline &operator=(const Deadline &) = delete;
    virtual ~Deadline() { cancel(); }

    bool armed() const { return m_list != nullptr; }
    qint64 at() const { return m_at; } // loop time (ms) when it expires, while armed
    void cancel();

protected:
    // Runs in the loop's thread when the deadline passes (it is disarmed first, so the
    // callee may arm it again).
    virtual void expired() = 0;

private:
    friend class DeadlineLists;
    struct List;
    Deadline *m_prev = nullptr;
    Deadline *m_next = nullptr;
    List *m_list = nullptr;
    qint64 m_at = 0;
};

// A Deadline that calls a member function of its owner: `Timeout<Conn, &Conn::onTimeout>`.
template <typename Owner, void (Owner::*Fn)()> class Timeout final : public Deadline {
public:
    explicit Timeout(Owner *owner) : m_owner(owner) {}

protected:
    void expired() override { (m_owner->*Fn)(); }

private:
    Owner *m_owner;
};

// Every deadline of one worker, in one list per duration. Everything in a list has the
// same duration, so appending at arming time keeps each list sorted by expiry: arming,
// re-arming and cancelling are O(1), and finding what expired only looks at list heads.
// A worker uses a handful of durations (the configured timeouts), so a handful of lists.
class DeadlineLists {
public:
    DeadlineLists() = default;
    ~DeadlineLists();
    DeadlineLists(const DeadlineLists &) = delete;
    DeadlineLists &operator=(const DeadlineLists &) = delete;

    // (Re)arms d to expire durationMs (at least 1) after now.
    void arm(Deadline &d, qint64 now, int durationMs);
    // The earliest expiry, or -1 when nothing is armed.
    qint64 next() const;
    // Fires every deadline with at() <= now, in expiry order within each list.
    int expire(qint64 now);
    int armedCount() const { return m_count; }

private:
    friend class Deadline;
    std::vector<std::unique_ptr<Deadline::List>> m_lists;
    int m_count = 0;
};

struct Deadline::List {
    DeadlineLists *owner = nullptr;
    int durationMs = 0;
    Deadline *head = nullptr;
    Deadline *tail = nullptr;
};

} // namespace portico

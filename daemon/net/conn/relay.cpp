#include "relay.h"

#include "net/loop/eventloop.h"
#include "socket.h"

namespace portico {

namespace {
// A read that fills this much marks a bulk transfer: the direction moves to a pipe.
constexpr size_t kBulkRead = 8 * 1024;
// A pipe whose last fill was smaller than this goes back to the pool once empty.
constexpr qint64 kChattySplice = 4 * 1024;
} // namespace

Relay::Relay(EventLoop *loop, Socket &visitor, Socket &backend, qint64 bound, bool splice)
    : m_loop(loop), m_bound(qMax<qint64>(4096, bound)), m_splice(splice) {
    up.from = &visitor;
    up.to = &backend;
    down.from = &backend;
    down.to = &visitor;
    up.queue.setPool(&loop->buffers());
    down.queue.setPool(&loop->buffers());
}

Relay::~Relay() {
    releasePipe(up);
    releasePipe(down);
}

void Relay::releasePipe(Direction &d) {
    if (d.pipe.valid())
        m_loop->pipes().release(&d.pipe, d.inPipe == 0);
    d.inPipe = 0;
}

Relay::Result Relay::pump() {
    m_progressed = false;
    if (!pumpOne(up, true) || !pumpOne(down, false))
        return Result::Failed;
    return up.shut && down.shut ? Result::Done : Result::Running;
}

bool Relay::pumpOne(Direction &d, bool inbound) {
    for (;;) {
        // Write first: what was read goes out before anything more is read.
        if (!d.queue.isEmpty() && d.to->writable()) {
            if (d.queue.writeTo(*d.to) == Socket::kError) {
                m_failure = inbound ? "backend write failed" : "visitor write failed";
                return false;
            }
        }
        if (d.inPipe > 0 && d.queue.isEmpty() && d.to->writable()) {
            const ssize_t n = d.to->spliceOut(d.pipe, size_t(d.inPipe));
            if (n == Socket::kError) {
                m_failure = inbound ? "backend write failed" : "visitor write failed";
                return false;
            }
            d.inPipe -= n;
        }
        if (d.pending() == 0) {
            if (d.pipe.valid() && (d.eof || (d.lastSplice > 0 && d.lastSplice < kChattySplice))) {
                releasePipe(d);
                d.lastSplice = 0;
            }
            if (d.eof) {
                if (!d.shut) {
                    d.shut = true;
                    d.to->shutdownWrite();
                }
                return true;
            }
            if (d.bulk && m_splice && !d.pipe.valid()) {
                d.bulk = false;
                m_loop->pipes().acquire(&d.pipe); // may fail: copying goes on
            }
        }
        if (d.eof || !d.from->readable())
            return true;

        if (d.pipe.valid() && d.queue.isEmpty()) {
            const qint64 room = d.pipe.capacity - d.inPipe;
            if (room <= 0)
                return true;
            const ssize_t n = d.from->spliceIn(d.pipe, size_t(room));
            if (n == Socket::kAgain) {
                // Nothing to read, or the pipe's slots are full: only an empty pipe tells.
                if (d.inPipe == 0)
                    d.from->markDrained();
                return true;
            }
            if (n == Socket::kError) {
                m_failure = inbound ? "visitor read failed" : "backend read failed";
                return false;
            }
            if (n == 0) {
                d.eof = true;
                continue;
            }
            d.inPipe += n;
            d.moved += quint64(n);
            d.lastSplice = n;
            m_progressed = true;
            continue;
        }

        const qint64 room = m_bound - d.queue.size();
        if (room <= 0)
            return true;
        const iovec tail = d.queue.tail();
        if (!tail.iov_base) {
            m_failure = "out of buffer memory";
            return false;
        }
        const size_t want = size_t(qMin<qint64>(room, qint64(tail.iov_len)));
        const ssize_t n = d.from->read(static_cast<char *>(tail.iov_base), want);
        if (n == Socket::kAgain || n == 0) {
            if (d.queue.isEmpty())
                d.queue.clear(); // give back the block tail() took
            if (n == 0) {
                d.eof = true;
                continue;
            }
            return true;
        }
        if (n == Socket::kError) {
            m_failure = inbound ? "visitor read failed" : "backend read failed";
            return false;
        }
        d.queue.commit(size_t(n));
        d.moved += quint64(n);
        m_progressed = true;
        d.bulk = size_t(n) == want && want >= kBulkRead;
    }
}

} // namespace portico

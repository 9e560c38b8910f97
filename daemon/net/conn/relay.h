#pragma once

#include "bytequeue.h"
#include "net/loop/pipepool.h"

#include <QtGlobal>

namespace portico {

class EventLoop;
class Socket;

// Opaque bytes both ways between two sockets: a raw TCP relay, and an HTTP connection
// after its 101. Each direction reads its source only while its buffer has room
// (backpressure), writes at once, and passes the source's FIN on as shutdown(SHUT_WR)
// once everything before it was written (real half-close). Bulk transfers move through a
// splice() pipe taken from the worker's pool (no copy through user space); small ones
// are copied through pool blocks, so an idle relay holds neither.
class Relay {
public:
    enum class Result { Running, Done, Failed };

    struct Direction {
        Socket *from = nullptr;
        Socket *to = nullptr;
        ByteQueue queue;       // copied bytes not yet written
        SplicePipe pipe;       // while splicing
        qint64 inPipe = 0;     // bytes in the pipe
        bool eof = false;      // the source sent FIN
        bool shut = false;     // ... and it was passed on
        quint64 moved = 0;     // bytes read from the source, since the owner last took them
        bool bulk = false;     // the last copy filled its read: worth a pipe
        qint64 lastSplice = 0; // size of the last splice into the pipe
        qint64 pending() const { return queue.size() + inPipe; }
        bool done() const { return shut; }
    };

    // visitor -> backend is `up`, backend -> visitor is `down`. bound: bytes a direction
    // may hold before it stops reading its source.
    Relay(EventLoop *loop, Socket &visitor, Socket &backend, qint64 bound, bool splice = true);
    ~Relay();
    Relay(const Relay &) = delete;
    Relay &operator=(const Relay &) = delete;

    // Moves every byte that can move now, both ways. Done: both directions passed their
    // FIN on and everything was written. Failed: a read or write failed (error() says
    // which side); the owner closes both.
    Result pump();
    bool progressed() const { return m_progressed; } // bytes moved in the last pump()
    const char *failure() const { return m_failure; }

    Direction up;
    Direction down;

private:
    bool pumpOne(Direction &d, bool inbound);
    void releasePipe(Direction &d);
    EventLoop *m_loop;
    qint64 m_bound;
    bool m_splice;
    bool m_progressed = false;
    const char *m_failure = nullptr;
};

} // namespace portico

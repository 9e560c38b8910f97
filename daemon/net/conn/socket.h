#pragma once

#include <QtGlobal>

#include <sys/types.h>
#include <sys/uio.h>

namespace portico {

class EventLoop;
class FdBudget;
class IoHandler;
struct SplicePipe;

// The one connection type of the data plane: a connected, non-blocking stream socket (TCP
// or AF_UNIX) on a raw descriptor, registered once, edge-triggered, with its worker's
// EventLoop. It remembers what epoll said (readable, writable, the peer's FIN) so that its
// owner reads until EAGAIN and writes at once, and never asks the kernel what it already
// knows (no FIONREAD, no poll per read). Reads and writes are plain system calls on the
// owner's buffers; writes are attempted at once and report how much the kernel took.
// Half-close is real: shutdownWrite() sends FIN and the other direction keeps flowing.
//
// A Socket is a plain member of its connection: no QObject, no signal, no timer.
class Socket {
public:
    // Results of read()/write(): a byte count (>= 0), or one of these.
    static constexpr ssize_t kAgain = -1; // nothing now; wait for the next event
    static constexpr ssize_t kError = -2; // the connection failed; error() says why

    Socket() = default;
    ~Socket() { close(); }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    // Takes a connected descriptor (already counted in budget, which may be null).
    void adopt(int fd, FdBudget *budget);
    // Registers with loop for every event, edge-triggered; events go to handler.
    bool watch(EventLoop *loop, IoHandler *handler);
    // Records an epoll event's readiness.
    void note(quint32 events);

    int fd() const { return m_fd; }
    bool isOpen() const { return m_fd >= 0; }
    bool readable() const { return m_readable; }
    bool writable() const { return m_writable; }
    // The peer sent FIN (seen by epoll; read() still returns what came before it).
    bool peerShutdown() const { return m_peerShut; }
    bool writeShut() const { return m_wrShut; }
    int error() const { return m_error; }

    ssize_t read(char *buffer, size_t length);
    ssize_t write(const char *data, size_t length);
    ssize_t writev(const iovec *iov, int count);
    // socket -> pipe / pipe -> socket, without copying through user space.
    ssize_t spliceIn(SplicePipe &pipe, size_t length);
    ssize_t spliceOut(SplicePipe &pipe, size_t length);
    // Sends the file's bytes [*offset, *offset + length) (sendfile), advancing *offset.
    ssize_t sendFile(int fileFd, off_t *offset, size_t length);

    // FIN to the peer once; reading goes on.
    void shutdownWrite();
    // Closes at once (and leaves the loop: the descriptor was never duplicated).
    void close();
    // Closes so that the peer sees a reset (SO_LINGER 0), for connections cut on error.
    void abort();

    // Marks the socket readable again (after its owner stopped reading while a buffer
    // was full, the bytes are still in the kernel: no event will come for them).
    void setReadable() { m_readable = true; }
    // A connect() is in progress: writable again means it is decided (progress()).
    void expectConnect() { m_writable = false; }
    // The owner learnt that nothing is left to read (spliceIn's EAGAIN with an empty pipe).
    void markDrained() { m_readable = false; }

private:
    ssize_t failed(int err);
    // One way of writing, repeated on EINTR: bytes written (0 when the kernel took none);
    // a short write or EAGAIN marks the socket unwritable until EPOLLOUT.
    template <typename Send> ssize_t sent(size_t wanted, Send send);

    int m_fd = -1;
    FdBudget *m_budget = nullptr;
    int m_error = 0;
    bool m_readable = false;
    bool m_writable = false;
    bool m_peerShut = false;
    bool m_wrShut = false;
};

} // namespace portico

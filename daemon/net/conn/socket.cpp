#include "socket.h"

#include "net/loop/eventloop.h"
#include "net/loop/fdbudget.h"
#include "net/loop/pipepool.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace portico {

void Socket::adopt(int fd, FdBudget *budget) {
    close();
    m_fd = fd;
    m_budget = budget;
    m_error = 0;
    m_readable = false;
    m_writable = true; // a connected socket can take bytes until the kernel says otherwise
    m_peerShut = false;
    m_wrShut = false;
}

bool Socket::watch(EventLoop *loop, IoHandler *handler) {
    return loop->add(m_fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, handler);
}

void Socket::note(quint32 events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        m_readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        m_writable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP))
        m_peerShut = true;
}

ssize_t Socket::failed(int err) {
    if (err == EAGAIN || err == EWOULDBLOCK)
        return kAgain;
    m_error = err;
    return kError;
}

template <typename Send> ssize_t Socket::sent(size_t wanted, Send send) {
    for (;;) {
        const ssize_t n = send();
        if (n >= 0) {
            if (size_t(n) < wanted)
                m_writable = false; // the send buffer is full: EPOLLOUT says when it is not
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            m_writable = false;
            return 0;
        }
        return failed(errno);
    }
}

ssize_t Socket::read(char *buffer, size_t length) {
    for (;;) {
        const ssize_t n = ::recv(m_fd, buffer, length, 0);
        if (n > 0) {
            // A short read drained the socket (the kernel copies all it has): the next
            // bytes bring an event. Not so when the peer's FIN is queued behind them: its
            // event came already, so the next read must happen without one.
            if (size_t(n) < length && !m_peerShut)
                m_readable = false;
            return n;
        }
        if (n == 0) {
            m_readable = false;
            m_peerShut = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        m_readable = false;
        return failed(errno);
    }
}

ssize_t Socket::write(const char *data, size_t length) {
    iovec v{const_cast<char *>(data), length};
    return writev(&v, 1);
}

ssize_t Socket::writev(const iovec *iov, int count) {
    size_t total = 0;
    for (int i = 0; i < count; ++i)
        total += iov[i].iov_len;
    if (total == 0)
        return 0;
    msghdr msg{};
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = size_t(count);
    return sent(total, [&] { return ::sendmsg(m_fd, &msg, MSG_NOSIGNAL); });
}

ssize_t Socket::spliceIn(SplicePipe &pipe, size_t length) {
    for (;;) {
        const ssize_t n =
            ::splice(m_fd, nullptr, pipe.wr, nullptr, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0)
            return n;
        if (n == 0) {
            m_readable = false;
            m_peerShut = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        // EAGAIN means the socket has nothing *or* the pipe is full (its slots may fill
        // before its byte capacity does): the caller tells which (markDrained()).
        return failed(errno);
    }
}

ssize_t Socket::spliceOut(SplicePipe &pipe, size_t length) {
    return sent(length, [&] {
        return ::splice(pipe.rd, nullptr, m_fd, nullptr, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    });
}

ssize_t Socket::sendFile(int fileFd, off_t *offset, size_t length) {
    return sent(length, [&] { return ::sendfile(m_fd, fileFd, offset, length); });
}

void Socket::shutdownWrite() {
    if (m_fd < 0 || m_wrShut)
        return;
    m_wrShut = true;
    ::shutdown(m_fd, SHUT_WR);
}

void Socket::close() {
    if (m_fd < 0)
        return;
    ::close(m_fd);
    m_fd = -1;
    if (m_budget)
        m_budget->give(1);
    m_budget = nullptr;
    m_readable = m_writable = false;
}

void Socket::abort() {
    if (m_fd < 0)
        return;
    const linger l{1, 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
}

} // namespace portico

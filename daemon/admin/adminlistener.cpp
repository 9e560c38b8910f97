#include "adminlistener.h"

#include "adminserver.h" // lcAdmin
#include "store/statefile.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace portico {

namespace {

bool outOfDescriptors(int e) {
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

} // namespace

AdminListener::Probe AdminListener::probe(const QString &path, QString *detail) {
    const QByteArray native = QFile::encodeName(path);
    struct stat st {};
    if (::lstat(native.constData(), &st) != 0) {
        if (errno == ENOENT)
            return Probe::Absent;
        *detail = errnoSentence(errno);
        return Probe::Unknown;
    }
    if (!S_ISSOCK(st.st_mode))
        return Probe::NotASocket;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (size_t(native.size()) >= sizeof(addr.sun_path)) {
        *detail = QStringLiteral("path too long for a UNIX socket");
        return Probe::Unknown;
    }
    std::memcpy(addr.sun_path, native.constData(), size_t(native.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *detail = errnoSentence(errno);
        return Probe::Unknown;
    }
    const int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
    const int e = errno;
    ::close(fd);
    if (rc == 0 || e == EINPROGRESS || e == EAGAIN)
        return Probe::Live; // EAGAIN: a full backlog, still somebody's
    if (e == ECONNREFUSED)
        return Probe::Stale;
    if (e == ENOENT)
        return Probe::Absent;
    *detail = errnoSentence(e);
    return Probe::Unknown;
}

DescriptorReserve::DescriptorReserve(int size) : m_size(qMax(0, size)) {
    if (m_size > 0)
        m_source = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    refill();
}

DescriptorReserve::~DescriptorReserve() {
    for (int fd : m_fds)
        ::close(fd);
    if (m_source >= 0)
        ::close(m_source);
}

bool DescriptorReserve::absorb(int fd) {
    if (fd < 0 || m_source < 0 || int(m_fds.size()) >= m_size)
        return false;
    int rc;
    do
        rc = ::dup2(m_source, fd); // closes the socket and reuses its number at once
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return false;
    m_fds.push_back(fd);
    return true;
}

bool DescriptorReserve::release() {
    if (m_fds.empty())
        return false;
    ::close(m_fds.back());
    m_fds.pop_back();
    return true;
}

bool DescriptorReserve::refill() {
    while (int(m_fds.size()) < m_size) {
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        m_fds.push_back(fd);
    }
    return true;
}

AdminListener::AdminListener(const Options &options, Accepted accepted, QObject *parent)
    : QObject(parent), m_options(options), m_accepted(std::move(accepted)), m_reserve(options.reserve) {
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
        onAcceptable();
    });
    m_watchdog.setInterval(options.watchdogMs);
    connect(&m_watchdog, &QTimer::timeout, this, &AdminListener::watchdog);
}

AdminListener::~AdminListener() {
    closeSocket(true);
}

bool AdminListener::listen(QString *error) {
    const QByteArray native = QFile::encodeName(m_options.path);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (size_t(native.size()) >= sizeof(addr.sun_path)) {
        *error =
            QStringLiteral("cannot listen on %1: the path is too long for a UNIX socket").arg(m_options.path);
        return false;
    }
    std::memcpy(addr.sun_path, native.constData(), size_t(native.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(m_options.path, errnoSentence(errno));
        return false;
    }
    const auto fail = [&](const char *step) {
        *error =
            QStringLiteral("cannot %1 %2: %3").arg(QLatin1String(step), m_options.path, errnoSentence(errno));
        ::close(fd);
        return false;
    };
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0)
        return fail("listen on");
    // The mode before listen(): nobody connects before it is right.
    if ((m_options.group != gid_t(-1) && ::chown(native.constData(), uid_t(-1), m_options.group) != 0) ||
        ::chmod(native.constData(), m_options.mode) != 0) {
        const int e = errno;
        ::unlink(native.constData());
        errno = e;
        return fail("set the mode of");
    }
    struct stat st {};
    if (::lstat(native.constData(), &st) != 0 || ::listen(fd, m_options.backlog) != 0) {
        const int e = errno;
        ::unlink(native.constData());
        errno = e;
        return fail("listen on");
    }
    m_fd = fd;
    m_dev = st.st_dev;
    m_ino = st.st_ino;
    m_notifier = new QSocketNotifier(qintptr(fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &AdminListener::onAcceptable);
    m_watchdog.start();
    return true;
}

void AdminListener::closeSocket(bool unlinkFile) {
    m_backoff.stop();
    delete m_notifier;
    m_notifier = nullptr;
    if (m_fd < 0)
        return;
    ::close(m_fd);
    m_fd = -1;
    if (!unlinkFile)
        return;
    // Only our own file: another daemon may have taken the path since.
    const QByteArray native = QFile::encodeName(m_options.path);
    struct stat st {};
    if (::lstat(native.constData(), &st) == 0 && st.st_dev == m_dev && st.st_ino == m_ino)
        ::unlink(native.constData());
}

void AdminListener::onAcceptable() {
    if (m_fd < 0)
        return;
    for (;;) {
        const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (m_starved) {
                m_starved = false;
                qCWarning(lcAdmin).noquote() << QStringLiteral("admin socket: accepting again");
            }
            m_accepted(fd);
            continue;
        }
        const int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return;
        if (e == EINTR || e == ECONNABORTED || e == EPROTO)
            continue;
        if (outOfDescriptors(e)) {
            // The process is at its limit: an operator must still get in.
            if (m_reserve.release()) {
                qCWarning(lcAdmin).noquote()
                    << QStringLiteral(
                           "admin socket: out of descriptors (%1); an admin client gets one of the "
                           "admin plane's reserve (%2 left)")
                           .arg(errnoSentence(e))
                           .arg(m_reserve.held());
                continue;
            }
            pause(QStringLiteral("out of descriptors (%1) and the admin reserve is used up")
                      .arg(errnoSentence(e)));
            return;
        }
        pause(QStringLiteral("accept failed: %1").arg(errnoSentence(e)));
        return;
    }
}

void AdminListener::pause(const QString &why) {
    if (!m_starved)
        qCCritical(lcAdmin).noquote() << QStringLiteral("admin socket %1: %2; retrying every %3 ms")
                                             .arg(m_options.path, why)
                                             .arg(m_options.backoffMs);
    m_starved = true;
    // Level-triggered: without a pause the loop would spin on the pending connection.
    if (m_notifier)
        m_notifier->setEnabled(false);
    m_backoff.start(m_options.backoffMs);
}

void AdminListener::closeConnection(int fd) {
    if (!m_reserve.absorb(fd))
        ::close(fd);
    m_reserve.refill();
}

void AdminListener::connectionClosed() {
    m_reserve.refill();
}

void AdminListener::watchdog() {
    m_reserve.refill();
    const QByteArray native = QFile::encodeName(m_options.path);
    struct stat st {};
    const bool ours =
        m_fd >= 0 && ::lstat(native.constData(), &st) == 0 && st.st_dev == m_dev && st.st_ino == m_ino;
    if (ours)
        return;
    qCCritical(lcAdmin).noquote() << QStringLiteral("admin socket %1 %2; listening again")
                                         .arg(m_options.path,
                                              m_fd < 0 ? QStringLiteral("is not listening")
                                                       : QStringLiteral("was removed or replaced"));
    closeSocket(false);
    // What sits at the path now: a stale socket is replaced; a live one (someone else's)
    // or a file that is not a socket is left alone and reported on every check.
    QString detail;
    switch (probe(m_options.path, &detail)) {
    case Probe::Absent:
        break;
    case Probe::Stale:
        ::unlink(native.constData());
        break;
    case Probe::Live:
        qCCritical(lcAdmin).noquote()
            << QStringLiteral("admin socket: another process now serves %1; not replacing it")
                   .arg(m_options.path);
        return;
    case Probe::NotASocket:
        qCCritical(lcAdmin).noquote()
            << QStringLiteral("admin socket: %1 exists and is not a socket; not replacing it")
                   .arg(m_options.path);
        return;
    case Probe::Unknown:
        qCCritical(lcAdmin).noquote() << QStringLiteral("admin socket: cannot tell whether %1 is in use: %2")
                                             .arg(m_options.path, detail);
        return;
    }
    QString error;
    if (listen(&error)) {
        ++m_relistens;
        qCWarning(lcAdmin).noquote()
            << QStringLiteral("admin socket listening again on %1").arg(m_options.path);
    } else {
        qCCritical(lcAdmin).noquote() << QStringLiteral("admin socket: %1 (trying again)").arg(error);
    }
}

} // namespace portico

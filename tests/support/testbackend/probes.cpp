#include "probes.h"

#include <QByteArrayList>
#include <QFile>
#include <QProcessEnvironment>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace testbackend {

namespace {

QByteArray errorText(int e) {
    return "error " + QByteArray(std::strerror(e));
}

QByteArray whoami() {
    gid_t groups[64];
    const int n = ::getgroups(64, groups);
    QByteArrayList list;
    for (int i = 0; i < n; ++i)
        list << QByteArray::number(groups[i]);
    return "uid " + QByteArray::number(::getuid()) + " gid " + QByteArray::number(::getgid()) + " groups " +
           list.join(',');
}

QByteArray environ() {
    const QStringList all = QProcessEnvironment::systemEnvironment().toStringList();
    return all.join(QLatin1Char('\n')).toUtf8();
}

QByteArray tryRead(const QByteArray &path) {
    QFile f(QString::fromUtf8(path));
    if (!f.open(QIODevice::ReadOnly))
        return errorText(errno);
    return "ok " + QByteArray::number(f.readAll().size()) + " bytes";
}

QByteArray tryWrite(const QByteArray &path) {
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errorText(errno);
    ::close(fd);
    ::unlink(path.constData());
    return "ok";
}

QByteArray tryAdmin(const QByteArray &path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (size_t(path.size()) >= sizeof addr.sun_path)
        return "error path too long";
    std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errorText(errno);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        const int e = errno;
        ::close(fd);
        return errorText(e);
    }
    const QByteArray request = R"({"jsonrpc":"2.0","id":1,"method":"daemon.info"})"
                               "\n";
    if (::send(fd, request.constData(), size_t(request.size()), MSG_NOSIGNAL) < 0) {
        const int e = errno;
        ::close(fd);
        return errorText(e);
    }
    QByteArray got;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) {
            ::close(fd);
            return got.isEmpty() ? "silent" : "answer " + got;
        }
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            ::close(fd);
            return got.isEmpty() ? QByteArray("closed") : "answer " + got;
        }
        got.append(buf, n);
        if (got.contains('\n')) {
            ::close(fd);
            return "answer " + got.left(got.indexOf('\n'));
        }
    }
}

QByteArray tryReuseport(const QByteArray &portText) {
    bool ok = false;
    const int port = portText.toInt(&ok);
    if (!ok || port <= 0 || port > 65535)
        return "error bad port";
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errorText(errno);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(quint16(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QByteArray result = "bound";
    if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
        result = errorText(errno);
    ::close(fd);
    return result;
}

} // namespace

bool answer(const QByteArray &target, int *status, QByteArray *body) {
    const qsizetype q = target.indexOf('?');
    const QByteArray path = q < 0 ? target : target.left(q);
    const QByteArray arg = q < 0 ? QByteArray() : QByteArray::fromPercentEncoding(target.mid(q + 1));
    *status = 200;
    if (path == "/whoami")
        *body = whoami();
    else if (path == "/environ")
        *body = environ();
    else if (path == "/try-read")
        *body = tryRead(arg);
    else if (path == "/try-write")
        *body = tryWrite(arg);
    else if (path == "/try-admin")
        *body = tryAdmin(arg);
    else if (path == "/try-reuseport")
        *body = tryReuseport(arg);
    else
        return false;
    return true;
}

} // namespace testbackend

#include "hostports.h"

#include <QFile>
#include <QHostAddress>

#include <cstdio>
#include <cstdlib>

#include <dirent.h>
#include <unistd.h>

namespace portico {

namespace {

constexpr int kTcpListen = 0x0A;
constexpr int kUdpUnconnected = 0x07; // TCP_CLOSE: bound, no peer
constexpr qint64 kMaxTableBytes = 64 * 1024 * 1024;

// The kernel prints each 32-bit word of the address in host byte order (little-endian
// here): "0100007F" is 127.0.0.1.
QString parseAddress(const QByteArray &hex, bool v6) {
    if (hex.size() != (v6 ? 32 : 8))
        return {};
    quint8 bytes[16] = {};
    for (int word = 0; word < hex.size() / 8; ++word) {
        bool ok = false;
        const quint32 w = hex.mid(word * 8, 8).toUInt(&ok, 16);
        if (!ok)
            return {};
        for (int b = 0; b < 4; ++b)
            bytes[word * 4 + b] = quint8(w >> (8 * b)); // little-endian word back to memory order
    }
    if (!v6)
        return QHostAddress(quint32(bytes[0]) << 24 | quint32(bytes[1]) << 16 | quint32(bytes[2]) << 8 |
                            bytes[3])
            .toString();
    QHostAddress a(bytes);
    return a.toString();
}

QByteArray readAll(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.read(kMaxTableBytes); // /proc files report size 0: read up to a bound
}

} // namespace

QList<HostSocket> parseProcNet(const QByteArray &table, const QString &transport, bool v6) {
    QList<HostSocket> out;
    const QList<QByteArray> lines = table.split('\n');
    for (int i = 1; i < lines.size(); ++i) { // the first line is the header
        const QList<QByteArray> f = lines[i].simplified().split(' ');
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
        if (f.size() < 10)
            continue;
        const int colon = f[1].indexOf(':');
        const int remColon = f[2].indexOf(':');
        if (colon < 0 || remColon < 0)
            continue;
        bool ok = false;
        const int state = f[3].toInt(&ok, 16);
        if (!ok)
            continue;
        const quint16 port = quint16(f[1].mid(colon + 1).toUInt(&ok, 16));
        if (!ok || port == 0)
            continue;
        const quint16 remotePort = quint16(f[2].mid(remColon + 1).toUInt(&ok, 16));
        if (!ok)
            continue;
        const bool listening = transport == QLatin1String("tcp")
                                   ? state == kTcpListen
                                   : state == kUdpUnconnected && remotePort == 0;
        if (!listening)
            continue;
        const quint64 inode = f[9].toULongLong(&ok);
        const QString address = parseAddress(f[1].left(colon), v6);
        if (!ok || address.isEmpty())
            continue;
        out.append({transport, address, port, inode, 0, {}});
    }
    return out;
}

QHash<quint64, SocketOwner> socketOwners(const QString &procRoot) {
    QHash<quint64, SocketOwner> owners;
    DIR *proc = opendir(QFile::encodeName(procRoot).constData());
    if (!proc)
        return owners;
    while (dirent *e = readdir(proc)) {
        char *end = nullptr;
        const long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0')
            continue;
        const QByteArray fdDir = QFile::encodeName(procRoot) + '/' + e->d_name + "/fd";
        DIR *fds = opendir(fdDir.constData());
        if (!fds)
            continue; // another user's process: not ours to read
        QString name;
        while (dirent *fd = readdir(fds)) {
            if (fd->d_name[0] == '.')
                continue;
            char target[64];
            const QByteArray link = fdDir + '/' + fd->d_name;
            const ssize_t n = readlink(link.constData(), target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            quint64 inode = 0;
            if (std::sscanf(target, "socket:[%llu]", reinterpret_cast<unsigned long long *>(&inode)) != 1)
                continue;
            if (name.isNull())
                name = QString::fromLocal8Bit(readAll(procRoot + QLatin1Char('/') + QLatin1String(e->d_name) +
                                                      QStringLiteral("/comm")))
                           .trimmed();
            owners.insert(inode, {pid, name});
        }
        closedir(fds);
    }
    closedir(proc);
    return owners;
}

QList<HostSocket> scanHostSockets(const QString &procRoot) {
    QList<HostSocket> all;
    const struct {
        const char *file;
        const char *transport;
        bool v6;
    } tables[] = {{"tcp", "tcp", false}, {"tcp6", "tcp", true}, {"udp", "udp", false}, {"udp6", "udp", true}};
    for (const auto &t : tables)
        all += parseProcNet(readAll(procRoot + QStringLiteral("/net/") + QLatin1String(t.file)),
                            QLatin1String(t.transport), t.v6);
    const auto owners = socketOwners(procRoot);
    for (HostSocket &s : all) {
        const auto it = owners.constFind(s.inode);
        if (it != owners.cend()) {
            s.pid = it->pid;
            s.process = it->process;
        }
    }
    return all;
}

} // namespace portico

#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

namespace portico {

// The sockets that listen on this host, as the kernel lists them in /proc/net/{tcp,tcp6,
// udp,udp6}: TCP sockets in LISTEN, UDP sockets bound to a port and connected to nobody.
// The holder (pid and process name) comes from the socket inodes in /proc/<pid>/fd,
// readable for one's own processes (all of them as root); otherwise it stays unknown.
struct HostSocket {
    QString transport; // "tcp" or "udp"
    QString address;   // "0.0.0.0", "127.0.0.1", "::", ...
    quint16 port = 0;
    quint64 inode = 0;
    qint64 pid = 0; // 0: not known
    QString process;
    friend bool operator==(const HostSocket &, const HostSocket &) = default;
};

struct SocketOwner {
    qint64 pid = 0;
    QString process;
};

// The listening sockets in one /proc/net table (its whole text); malformed lines are
// skipped. transport is "tcp" or "udp"; v6 for the tcp6/udp6 tables.
QList<HostSocket> parseProcNet(const QByteArray &table, const QString &transport, bool v6);
// Which process holds which socket inode, from procRoot/<pid>/fd (unreadable ones skipped).
QHash<quint64, SocketOwner> socketOwners(const QString &procRoot = QStringLiteral("/proc"));
// All four tables with their holders. Blocking (it reads /proc): run it off the GUI thread.
QList<HostSocket> scanHostSockets(const QString &procRoot = QStringLiteral("/proc"));

} // namespace portico

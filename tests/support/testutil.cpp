#include "testutil.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpServer>
#include <QUdpSocket>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace portico::test {

quint16 freePort(bool alsoUdp) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        QTcpServer s;
        if (!s.listen(QHostAddress::LocalHost, 0))
            continue;
        const quint16 port = s.serverPort();
        if (alsoUdp) {
            QUdpSocket u;
            if (!u.bind(QHostAddress::LocalHost, port))
                continue;
        }
        return port;
    }
    return 0;
}

RefusingPort::RefusingPort() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) == 0 &&
        ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&sin), &len) == 0)
        m_port = ntohs(sin.sin_port);
}

RefusingPort::~RefusingPort() {
    if (m_fd >= 0)
        ::close(m_fd);
}

QJsonObject parseObject(const QByteArray &json) {
    return QJsonDocument::fromJson(json).object();
}

QByteArray sha256Hex(const QByteArray &data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

static qint64 statusField(qint64 pid, const QByteArray &field) {
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith(field + ':'))
            return line.mid(field.size() + 1).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

ProgramRun runProgram(const QString &program, const QStringList &args, int timeoutMs) {
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
    }
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

QString writeFile(const QString &dir, const QString &name, const QByteArray &data) {
    QFile f(dir + QLatin1Char('/') + name);
    if (f.open(QIODevice::WriteOnly))
        f.write(data);
    return f.fileName();
}

qint64 rssKiB(qint64 pid) {
    return statusField(pid, "VmRSS");
}
qint64 peakRssKiB(qint64 pid) {
    return statusField(pid, "VmHWM");
}

bool shareWithBackends(const QString &dir) {
    return QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner | QFileDevice::ReadGroup |
                                          QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                          QFileDevice::ExeOther);
}

} // namespace portico::test

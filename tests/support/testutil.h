#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace portico::test {

// A port that was free on 127.0.0.1 for TCP (and UDP when both is set) a moment ago.
// Prefer binding to port 0 where the code under test allows it.
quint16 freePort(bool alsoUdp = false);

// A TCP port on 127.0.0.1 that refuses every connection for as long as this object lives:
// a socket bound to it that never listens. Unlike a port that was free a moment ago, no
// other process can start listening on it meanwhile (a "backend that is down").
class RefusingPort {
public:
    RefusingPort();
    ~RefusingPort();
    RefusingPort(const RefusingPort &) = delete;
    RefusingPort &operator=(const RefusingPort &) = delete;
    quint16 port() const { return m_port; }

private:
    int m_fd = -1;
    quint16 m_port = 0;
};

QJsonObject parseObject(const QByteArray &json);
QByteArray sha256Hex(const QByteArray &data);

// Resident set size of a process in KiB (from /proc/<pid>/status), -1 if unknown.
qint64 rssKiB(qint64 pid);
qint64 peakRssKiB(qint64 pid); // VmHWM

// Runs a program to its end (killed after timeoutMs) and collects what it said.
struct ProgramRun {
    int code = -1;
    QString out;
    QString err;
};
ProgramRun runProgram(const QString &program, const QStringList &args, int timeoutMs = 60000);

// Writes a file under dir and returns its path.
QString writeFile(const QString &dir, const QString &name, const QByteArray &data);

// Opens a temporary folder (0700) to everyone for reading (0755): a root porticod runs
// backends as its backend user, who must enter a project's sources to run them.
bool shareWithBackends(const QString &dir);

} // namespace portico::test

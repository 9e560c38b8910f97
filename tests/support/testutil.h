#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace portico::test {

// A port that was free on 127.0.0.1 for TCP (and UDP when both is set) a moment ago.
// Prefer binding to port 0 where the code under test allows it.
quint16 freePort(bool alsoUdp = false);

QJsonObject parseObject(const QByteArray &json);
QByteArray sha256Hex(const QByteArray &data);

// Resident set size of a process in KiB (from /proc/<pid>/status), -1 if unknown.
qint64 rssKiB(qint64 pid);
qint64 peakRssKiB(qint64 pid); // VmHWM

} // namespace portico::test

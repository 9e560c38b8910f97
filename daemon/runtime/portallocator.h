#pragma once

#include <QSet>
#include <QtGlobal>

namespace portico {

// Picks free loopback TCP ports for backends from a configured range, remembering
// which it handed out so that two backends never race for one.
class PortAllocator {
public:
    // Starts at a random point of the range: several daemons (or test executables) sharing a
    // range would otherwise all probe the same first port and race for it.
    PortAllocator(quint16 min, quint16 max);
    // 0 when none is free. A port is free when a test bind on 127.0.0.1 succeeds (TCP and UDP).
    quint16 acquire();
    void release(quint16 port) { m_taken.remove(port); }

private:
    quint16 m_min;
    quint16 m_max;
    quint16 m_next;
    QSet<quint16> m_taken;
};

} // namespace portico

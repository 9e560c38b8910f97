#include "portallocator.h"

#include <QRandomGenerator>
#include <QTcpServer>
#include <QUdpSocket>

namespace portico {

PortAllocator::PortAllocator(quint16 min, quint16 max)
    : m_min(qMin(min, max)), m_max(qMax(min, max)), m_next(m_min) {
    const quint32 span = quint32(m_max) - quint32(m_min) + 1;
    m_next = quint16(m_min + QRandomGenerator::global()->bounded(span));
}

quint16 PortAllocator::acquire() {
    const int span = int(m_max) - int(m_min) + 1;
    for (int i = 0; i < span; ++i) {
        const quint16 port = m_next;
        m_next = (m_next >= m_max) ? m_min : quint16(m_next + 1);
        if (m_taken.contains(port))
            continue;
        // A test bind is a plain non-blocking syscall pair; nothing waits.
        QTcpServer tcp;
        if (!tcp.listen(QHostAddress::LocalHost, port))
            continue;
        QUdpSocket udp;
        if (!udp.bind(QHostAddress::LocalHost, port))
            continue;
        m_taken.insert(port);
        return port;
    }
    return 0;
}

} // namespace portico

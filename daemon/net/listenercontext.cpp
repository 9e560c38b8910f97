#include "listenercontext.h"

#include "conn/connector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace portico {

PeerAddress PeerAddress::from(const sockaddr *address) {
    PeerAddress p;
    if (address->sa_family == AF_INET) {
        const auto *sin = reinterpret_cast<const sockaddr_in *>(address);
        p.ip[10] = p.ip[11] = 0xff;
        std::memcpy(&p.ip[12], &sin->sin_addr, 4);
        p.port = ntohs(sin->sin_port);
        p.v4 = true;
    } else if (address->sa_family == AF_INET6) {
        const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(address);
        std::memcpy(p.ip.data(), &sin6->sin6_addr, 16);
        p.port = ntohs(sin6->sin6_port);
        p.v4 = IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);
    }
    return p;
}

bool PeerAddress::isLoopback() const {
    if (v4)
        return ip[12] == 127;
    static const quint8 loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(ip.data(), loop6, 16) == 0;
}

int PeerAddress::format(char *out) const {
    if (!::inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? static_cast<const void *>(&ip[12]) : ip.data(), out,
                     INET6_ADDRSTRLEN)) {
        out[0] = '\0';
        return 0;
    }
    return int(std::strlen(out));
}

QString PeerAddress::toString() const {
    char text[INET6_ADDRSTRLEN + 1];
    const int n = format(text);
    return QString::fromLatin1(text, n);
}

bool SourceLimiter::acquire(const PeerAddress &peer) {
    if (m_max <= 0)
        return true;
    QMutexLocker lock(&m_mutex);
    int &n = m_counts[key(peer)];
    if (n >= m_max)
        return false;
    ++n;
    return true;
}

void SourceLimiter::release(const PeerAddress &peer) {
    if (m_max <= 0)
        return;
    QMutexLocker lock(&m_mutex);
    const auto it = m_counts.find(key(peer));
    if (it == m_counts.end())
        return;
    if (--it.value() <= 0)
        m_counts.erase(it);
}

int SourceLimiter::count(const PeerAddress &peer) const {
    QMutexLocker lock(&m_mutex);
    return m_counts.value(key(peer));
}

bool loopsBack(const BackendTarget &target, quint16 ownPort) {
    if (ownPort == 0 || target.kind != BackendTarget::Kind::Tcp || target.port != ownPort)
        return false;
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!Connector::parseLiteral(target.host, target.port, &ss, &len))
        return target.host == QLatin1String("localhost");
    const PeerAddress a = PeerAddress::from(reinterpret_cast<const sockaddr *>(&ss));
    static const quint8 any6[16] = {};
    const bool unspecified =
        a.v4 ? (a.ip[12] | a.ip[13] | a.ip[14] | a.ip[15]) == 0 : std::memcmp(a.ip.data(), any6, 16) == 0;
    return a.isLoopback() || unspecified;
}

} // namespace portico

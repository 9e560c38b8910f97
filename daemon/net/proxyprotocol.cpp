#include "proxyprotocol.h"

#include <QtEndian>

namespace portico {

namespace {

// The 12-byte signature that opens every v2 header.
constexpr char kV2Signature[] = "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A";
constexpr int kV2SignatureSize = 12;

bool isInet(const QHostAddress &a) {
    return a.protocol() == QAbstractSocket::IPv4Protocol || a.protocol() == QAbstractSocket::IPv6Protocol;
}

// Both addresses as IPv4 when both are (or map to) IPv4; nullopt otherwise.
bool bothIPv4(const QHostAddress &a, const QHostAddress &b, quint32 *va, quint32 *vb) {
    bool okA = false;
    bool okB = false;
    *va = a.toIPv4Address(&okA);
    *vb = b.toIPv4Address(&okB);
    return okA && okB;
}

QByteArray v6Text(const QHostAddress &a) {
    // toString() on a v4 address gives dotted form; the v1 TCP6 line needs IPv6 text.
    const Q_IPV6ADDR raw = a.toIPv6Address();
    return QHostAddress(raw).toString().toLatin1();
}

} // namespace

QByteArray buildProxyHeader(ProxyProtocol version, const QHostAddress &source, quint16 sourcePort,
                            const QHostAddress &destination, quint16 destinationPort) {
    if (version == ProxyProtocol::None)
        return {};
    const bool known = isInet(source) && isInet(destination);
    quint32 src4 = 0;
    quint32 dst4 = 0;
    const bool v4 = known && bothIPv4(source, destination, &src4, &dst4);

    if (version == ProxyProtocol::V1) {
        if (!known)
            return QByteArrayLiteral("PROXY UNKNOWN\r\n");
        QByteArray line = "PROXY ";
        if (v4) {
            line += "TCP4 " + QHostAddress(src4).toString().toLatin1() + ' ' +
                    QHostAddress(dst4).toString().toLatin1();
        } else {
            line += "TCP6 " + v6Text(source) + ' ' + v6Text(destination);
        }
        line += ' ' + QByteArray::number(sourcePort) + ' ' + QByteArray::number(destinationPort) + "\r\n";
        return line;
    }

    QByteArray out(kV2Signature, kV2SignatureSize);
    out += char(0x21); // version 2, command PROXY
    auto appendU16 = [&out](quint16 v) {
        out += char(v >> 8);
        out += char(v & 0xff);
    };
    if (!known) {
        out += char(0x00); // AF_UNSPEC, UNSPEC: the receiver must use the real connection
        appendU16(0);
        return out;
    }
    if (v4) {
        out += char(0x11); // AF_INET, STREAM
        appendU16(12);
        quint32 be = qToBigEndian(src4);
        out.append(reinterpret_cast<const char *>(&be), 4);
        be = qToBigEndian(dst4);
        out.append(reinterpret_cast<const char *>(&be), 4);
    } else {
        out += char(0x21); // AF_INET6, STREAM
        appendU16(36);
        const Q_IPV6ADDR s = source.toIPv6Address();
        const Q_IPV6ADDR d = destination.toIPv6Address();
        out.append(reinterpret_cast<const char *>(s.c), 16);
        out.append(reinterpret_cast<const char *>(d.c), 16);
    }
    appendU16(sourcePort);
    appendU16(destinationPort);
    return out;
}

} // namespace portico

#pragma once

#include "manifest.h"

#include <QByteArray>
#include <QHostAddress>

namespace portico {

// The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2) that a raw TCP
// relay sends to its backend before any data, so that the backend sees the visitor's
// address instead of the relay's. A pure function: the relay passes the two ends of the
// accepted connection (source = visitor, destination = the listener's address).
//
// Addresses of different families (or IPv4-mapped IPv6 next to plain IPv6) are sent as
// IPv6; addresses that are neither IPv4 nor IPv6 give "PROXY UNKNOWN" (v1) or an
// AF_UNSPEC block (v2). ProxyProtocol::None gives an empty array.
QByteArray buildProxyHeader(ProxyProtocol version, const QHostAddress &source, quint16 sourcePort,
                            const QHostAddress &destination, quint16 destinationPort);

} // namespace portico

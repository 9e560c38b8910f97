#pragma once

#include "config/config.h"

#include <QLoggingCategory>
#include <QString>

Q_DECLARE_LOGGING_CATEGORY(lcLowPorts)

namespace portico {

// Ports below net.ipv4.ip_unprivileged_port_start (1024) need CAP_NET_BIND_SERVICE, even
// for root. The packaged service does not grant it (its CapabilityBoundingSet leaves it
// out), so a config that allows such ports (allowed_port_min, ingress_port) must come
// with the drop-in that grants it. Returns what to do when the config asks for such
// ports and this process cannot bind them; empty when nothing is missing.
QString lowPortAdvice(const Config &config);

// The pieces, for tests: the lowest port the config may bind (0: none below 65536), and
// whether this process holds CAP_NET_BIND_SERVICE in its effective set.
quint16 lowestConfiguredPort(const Config &config);
bool hasNetBindService();
int unprivilegedPortStart();

inline constexpr const char *kLowPortsDropIn = "/usr/share/portico/systemd/low-ports.conf";

} // namespace portico

#pragma once

#include <QString>

namespace portico {

// Raises the soft RLIMIT_NOFILE to the hard limit: every relayed TCP connection holds two
// descriptors, so the usual soft limit (1024) would cap the daemon near 500 connections.
// Returns the new soft limit, or -1 with *error set when the kernel refuses.
qint64 raiseFileLimit(QString *error = nullptr);
// The soft RLIMIT_NOFILE now (1024 when it cannot be read or is unlimited).
qint64 softFileLimit();

} // namespace portico

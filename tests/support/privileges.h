#pragma once

#include <QByteArray>

#include <functional>

namespace portico::test {

// The uid and gid of "nobody", which tests drop to.
constexpr unsigned kNobody = 65534;

// Runs fn in a forked child that first drops every privilege to uid and gid 65534 (nobody),
// so that a root test run can check what an unprivileged user meets (a write the file
// modes refuse, a peer uid the daemon refuses). fn returns the child's exit code (0-125)
// and may fill *message, which comes back in *message. Returns that code, or -1 when the
// child could not drop its privileges, died, or did not finish within timeoutMs (it is
// killed then). The caller must be root.
int runAsNobody(const std::function<int(QByteArray *message)> &fn, QByteArray *message = nullptr,
                int timeoutMs = 10000);

// chown -R path to nobody (for the files a child of runAsNobody must reach).
bool chownToNobody(const QString &path);

} // namespace portico::test

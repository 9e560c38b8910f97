#pragma once

#include <QByteArray>

namespace testbackend {

// What a tenant might try from inside a backend, answered as text so that a test can ask
// over HTTP and check what the backend could or could not do:
//   GET /whoami                 -> "uid U gid G groups G1,G2"
//   GET /environ                -> the whole environment, one NAME=value per line
//   GET /try-read?PATH          -> "ok N bytes" or "error <reason>"
//   GET /try-write?PATH         -> "ok" (created and removed again) or "error <reason>"
//   GET /try-admin?PATH         -> connects to a unix socket, sends a JSON-RPC daemon.info and
//                                  waits up to 2 s: "answer <line>", "closed", "silent" or
//                                  "error <reason>" (blocking: the backend serves one request)
//   GET /try-reuseport?PORT     -> binds 127.0.0.1:PORT (TCP, SO_REUSEPORT) and listens:
//                                  "bound" (then closes it) or "error <reason>"
// Returns false when target is none of these.
bool answer(const QByteArray &target, int *status, QByteArray *body);

} // namespace testbackend

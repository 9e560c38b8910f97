#pragma once

#include "manifest.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace portico {

// A request to the static file server, as the HTTP engine parsed it (the route's prefix
// already stripped from path; path still percent-encoded, without the query).
struct StaticRequest {
    QByteArray method; // GET or HEAD; anything else gets 405
    QByteArray path;
    QByteArray ifNoneMatch;
    QByteArray ifModifiedSince;
    QByteArray range;
    QByteArray ifRange;
};

// What to answer. The HTTP engine writes the status line and headers, then streams
// either body (small, e.g. an error as JSON) or length bytes of filePath from offset,
// with backpressure. Content-Length is among headers.
struct StaticReply {
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QString filePath;
    qint64 offset = 0;
    qint64 length = 0;
};

// Resolves a request under root (an absolute canonical directory): index.html for
// directories, MIME type from QMimeDatabase, ETag and Last-Modified with 304, single
// byte ranges (206/416), and no way out of root: "..", encoded slashes and symlinks that
// leave it get 403 or 404. A path with a segment starting with "." (.git/HEAD, .env), as
// asked or where a symlink leads, gets 403 (Deny) or 404 (Ignore) unless dotfiles is Allow;
// /.well-known/ is always served. Does only local filesystem calls (stat/realpath), no reads.
StaticReply resolveStatic(const QString &root, const StaticRequest &request,
                          Dotfiles dotfiles = Dotfiles::Deny);

} // namespace portico

#include "staticfiles.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QMimeDatabase>
#include <QTimeZone>

#include <optional>

namespace portico {

namespace {

constexpr int kMaxPathBytes = 8 * 1024;
constexpr int kMaxSegments = 128;

QPair<QByteArray, QByteArray> header(const QByteArray &name, const QByteArray &value) {
    return {name, value};
}

StaticReply errorReply(int status, const QString &message) {
    StaticReply r;
    r.status = status;
    r.body = QJsonDocument(QJsonObject{{QStringLiteral("error"), message}}).toJson(QJsonDocument::Compact);
    r.headers.append(header("Content-Type", "application/json"));
    r.headers.append(header("Content-Length", QByteArray::number(r.body.size())));
    return r;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum class Decode { Ok, Malformed, Forbidden };

// Percent-decodes one path segment. A decoded '/', '\\' or NUL would let a segment name
// something other than one directory entry, so those are refused, not interpreted.
Decode decodeSegment(const QByteArray &in, QByteArray *out) {
    out->clear();
    out->reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        char c = in.at(i);
        if (c == '%') {
            if (i + 2 >= in.size())
                return Decode::Malformed;
            const int hi = hexValue(in.at(i + 1));
            const int lo = hexValue(in.at(i + 2));
            if (hi < 0 || lo < 0)
                return Decode::Malformed;
            c = char(hi * 16 + lo);
            i += 2;
            if (c == '/' || c == '\\' || c == '\0')
                return Decode::Forbidden;
        } else if (c == '\0') {
            return Decode::Forbidden;
        }
        out->append(c);
    }
    return Decode::Ok;
}

// A segment naming a hidden file or folder (".git", ".env"); "." and ".." never get here.
// The first segment ".well-known" is the RFC 8615 folder that ACME challenges and
// security.txt live in, meant to be public.
bool hasDotSegment(const QStringList &segments) {
    for (qsizetype i = 0; i < segments.size(); ++i) {
        if (!segments.at(i).startsWith(QLatin1Char('.')))
            continue;
        if (i == 0 && segments.at(i) == QLatin1String(".well-known"))
            continue;
        return true;
    }
    return false;
}

bool isInside(const QString &canonicalRoot, const QString &canonicalPath) {
    return canonicalPath == canonicalRoot || canonicalPath.startsWith(canonicalRoot.endsWith(QLatin1Char('/'))
                                                                          ? canonicalRoot
                                                                          : canonicalRoot + QLatin1Char('/'));
}

QByteArray httpDate(const QDateTime &t) {
    return QLocale::c().toString(t.toUTC(), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'")).toLatin1();
}

std::optional<QDateTime> parseHttpDate(const QByteArray &value) {
    const QString s = QString::fromLatin1(value.trimmed());
    QDateTime t = QLocale::c().toDateTime(s, QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::RFC2822Date);
    if (!t.isValid())
        return std::nullopt;
    if (s.endsWith(QLatin1String("GMT")))
        t = QDateTime(t.date(), t.time(), QTimeZone::utc());
    return t;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2).
bool noneMatchHits(const QByteArray &header, const QByteArray &etag) {
    const QByteArray v = header.trimmed();
    if (v == "*")
        return true;
    for (QByteArray tag : v.split(',')) {
        tag = tag.trimmed();
        if (tag.startsWith("W/"))
            tag = tag.mid(2);
        if (tag == etag)
            return true;
    }
    return false;
}

struct ByteRange {
    qint64 first = 0;
    qint64 last = 0;
};
enum class RangeResult { Ignore, Satisfiable, Unsatisfiable };

// Only one range "bytes=a-b", "bytes=a-" or "bytes=-n"; anything else (several ranges,
// other units, syntax errors) is ignored and the whole file is sent, which RFC 9110 allows.
RangeResult parseRange(const QByteArray &header, qint64 size, ByteRange *out) {
    QByteArray v = header.trimmed();
    if (!v.startsWith("bytes="))
        return RangeResult::Ignore;
    v = v.mid(6).trimmed();
    if (v.contains(','))
        return RangeResult::Ignore;
    const qsizetype dash = v.indexOf('-');
    if (dash < 0)
        return RangeResult::Ignore;
    const QByteArray a = v.left(dash).trimmed();
    const QByteArray b = v.mid(dash + 1).trimmed();
    auto digits = [](const QByteArray &s) {
        if (s.isEmpty() || s.size() > 18)
            return false;
        for (char c : s)
            if (c < '0' || c > '9')
                return false;
        return true;
    };
    if (a.isEmpty()) {
        if (!digits(b))
            return RangeResult::Ignore;
        const qint64 n = b.toLongLong();
        if (n == 0 || size == 0)
            return RangeResult::Unsatisfiable;
        out->first = qMax<qint64>(0, size - n);
        out->last = size - 1;
        return RangeResult::Satisfiable;
    }
    if (!digits(a) || (!b.isEmpty() && !digits(b)))
        return RangeResult::Ignore;
    const qint64 first = a.toLongLong();
    if (!b.isEmpty() && b.toLongLong() < first)
        return RangeResult::Ignore; // syntactically invalid: ignored, not unsatisfiable
    const qint64 last = b.isEmpty() ? size - 1 : b.toLongLong();
    if (first >= size)
        return RangeResult::Unsatisfiable;
    out->first = first;
    out->last = qMin(last, size - 1);
    return RangeResult::Satisfiable;
}

QByteArray contentType(const QString &path) {
    static const QMimeDatabase db;
    const QMimeType mime = db.mimeTypeForFile(path, QMimeDatabase::MatchExtension);
    QByteArray name = mime.isValid() ? mime.name().toLatin1() : QByteArray("application/octet-stream");
    if (name.startsWith("text/") || name == "application/javascript" || name == "application/json" ||
        name == "image/svg+xml" || name == "application/xml")
        name += "; charset=utf-8";
    return name;
}

} // namespace

StaticReply dotfileRefusal(Dotfiles dotfiles) {
    return dotfiles == Dotfiles::Ignore ? errorReply(404, QStringLiteral("not found"))
                                        : errorReply(403, QStringLiteral("hidden files are not served"));
}

StaticReply resolveStatic(const QString &root, const StaticRequest &request, Dotfiles dotfiles) {
    if (request.method != "GET" && request.method != "HEAD") {
        StaticReply r =
            errorReply(405, QStringLiteral("method not allowed: static files answer GET and HEAD"));
        r.headers.append(header("Allow", "GET, HEAD"));
        return r;
    }
    if (request.path.size() > kMaxPathBytes)
        return errorReply(414, QStringLiteral("path too long"));
    QByteArray rawPath = request.path;
    if (rawPath.isEmpty())
        rawPath = "/";
    if (!rawPath.startsWith('/'))
        return errorReply(400, QStringLiteral("path must start with /"));

    const QString canonicalRoot = QFileInfo(root).canonicalFilePath();
    if (canonicalRoot.isEmpty() || !QFileInfo(canonicalRoot).isDir())
        return errorReply(404, QStringLiteral("the static root does not exist"));

    // Normalise segment by segment on the decoded names: "." vanishes, ".." pops, and a
    // ".." with nothing to pop would leave the root.
    const QList<QByteArray> rawSegments = rawPath.mid(1).split('/');
    if (rawSegments.size() > kMaxSegments)
        return errorReply(414, QStringLiteral("path has too many segments"));
    QStringList segments;
    QByteArray decoded;
    for (const QByteArray &raw : rawSegments) {
        switch (decodeSegment(raw, &decoded)) {
        case Decode::Malformed:
            return errorReply(400, QStringLiteral("malformed percent-encoding in path"));
        case Decode::Forbidden:
            return errorReply(403, QStringLiteral("encoded slash or NUL in path"));
        case Decode::Ok:
            break;
        }
        if (decoded.isEmpty() || decoded == ".")
            continue;
        if (decoded == "..") {
            if (segments.isEmpty())
                return errorReply(403, QStringLiteral("path leaves the static root"));
            segments.removeLast();
            continue;
        }
        segments.append(QString::fromUtf8(decoded));
    }

    // Before any filesystem call: a refused dotfile says nothing about whether it exists.
    const bool checkDots = dotfiles != Dotfiles::Allow;
    if (checkDots && hasDotSegment(segments))
        return dotfileRefusal(dotfiles);

    QString path = canonicalRoot;
    if (!segments.isEmpty())
        path += QLatin1Char('/') + segments.join(QLatin1Char('/'));
    QFileInfo fi(path);
    if (!fi.exists())
        return errorReply(404, QStringLiteral("not found"));
    // Symlinks are followed, but where they lead must still be under the root.
    QString canonical = fi.canonicalFilePath();
    if (canonical.isEmpty())
        return errorReply(404, QStringLiteral("not found"));
    if (!isInside(canonicalRoot, canonical))
        return errorReply(403, QStringLiteral("path leaves the static root"));
    // A link to a hidden file (public.txt -> .env) is refused like the hidden file.
    const auto relativeSegments = [&](const QString &p) {
        return p.mid(canonicalRoot.size()).split(QLatin1Char('/'), Qt::SkipEmptyParts);
    };
    if (checkDots && hasDotSegment(relativeSegments(canonical)))
        return dotfileRefusal(dotfiles);

    fi = QFileInfo(canonical);
    if (fi.isDir()) {
        if (!rawPath.endsWith('/')) {
            // Relative, because the route's prefix was stripped before we saw the path.
            StaticReply r = errorReply(301, QStringLiteral("moved: add a trailing slash"));
            r.headers.append(header("Location", rawSegments.last() + '/'));
            return r;
        }
        QFileInfo index(canonical + QStringLiteral("/index.html"));
        if (!index.exists())
            return errorReply(404, QStringLiteral("not found (no index.html, no listing)"));
        canonical = index.canonicalFilePath();
        if (canonical.isEmpty())
            return errorReply(404, QStringLiteral("not found"));
        if (!isInside(canonicalRoot, canonical))
            return errorReply(403, QStringLiteral("path leaves the static root"));
        if (checkDots && hasDotSegment(relativeSegments(canonical)))
            return dotfileRefusal(dotfiles);
        fi = QFileInfo(canonical);
    }
    if (!fi.isFile())
        return errorReply(404, QStringLiteral("not found"));
    if (!fi.isReadable())
        return errorReply(403, QStringLiteral("not readable"));

    const qint64 size = fi.size();
    const QDateTime mtime = fi.lastModified().toUTC();
    const QByteArray etag =
        '"' + QByteArray::number(size, 16) + '-' + QByteArray::number(mtime.toMSecsSinceEpoch(), 16) + '"';
    const QByteArray lastModified = httpDate(mtime);

    StaticReply r;
    r.headers.append(header("ETag", etag));
    r.headers.append(header("Last-Modified", lastModified));

    bool notModified = false;
    if (!request.ifNoneMatch.isEmpty()) {
        notModified = noneMatchHits(request.ifNoneMatch, etag);
    } else if (!request.ifModifiedSince.isEmpty()) {
        const auto since = parseHttpDate(request.ifModifiedSince);
        // HTTP dates have whole seconds; compare at that resolution.
        if (since && mtime.toSecsSinceEpoch() <= since->toSecsSinceEpoch())
            notModified = true;
    }
    if (notModified) {
        r.status = 304;
        return r;
    }

    r.headers.append(header("Content-Type", contentType(canonical)));
    r.headers.append(header("Accept-Ranges", "bytes"));
    r.headers.append(header("X-Content-Type-Options", "nosniff"));

    ByteRange range;
    RangeResult rr = request.range.isEmpty() ? RangeResult::Ignore : parseRange(request.range, size, &range);
    if (rr != RangeResult::Ignore && !request.ifRange.isEmpty()) {
        // If-Range: a strong ETag must match exactly, a date must equal Last-Modified.
        const QByteArray ir = request.ifRange.trimmed();
        const bool matches = ir.startsWith('"') ? ir == etag : ir == lastModified;
        if (!matches)
            rr = RangeResult::Ignore;
    }

    const bool head = request.method == "HEAD";
    if (rr == RangeResult::Unsatisfiable) {
        StaticReply e = errorReply(416, QStringLiteral("range not satisfiable"));
        e.headers.append(header("Content-Range", "bytes */" + QByteArray::number(size)));
        if (head)
            e.body.clear();
        return e;
    }
    r.filePath = canonical;
    if (rr == RangeResult::Satisfiable) {
        r.status = 206;
        r.offset = range.first;
        r.length = range.last - range.first + 1;
        r.headers.append(header("Content-Range", "bytes " + QByteArray::number(range.first) + '-' +
                                                     QByteArray::number(range.last) + '/' +
                                                     QByteArray::number(size)));
    } else {
        r.status = 200;
        r.offset = 0;
        r.length = size;
    }
    r.headers.append(header("Content-Length", QByteArray::number(r.length)));
    if (head) {
        // Same headers as GET, nothing to stream.
        r.filePath.clear();
        r.length = 0;
        r.offset = 0;
    }
    return r;
}

} // namespace portico

#include "httpwire.h"

#include <cstring>

namespace portico::http {

namespace {
bool nameIs(const QByteArray &name, const char *lower) {
    return name.compare(lower, Qt::CaseInsensitive) == 0;
}
} // namespace

int leadingEmptyLines(const QByteArray &buffer) {
    int i = 0;
    while (i < buffer.size() && (buffer.at(i) == '\r' || buffer.at(i) == '\n'))
        ++i;
    return i;
}

HeadScan scanHead(const QByteArray &buffer, int maxHeadBytes) {
    HeadScan scan;
    const int limit = int(qMin<qsizetype>(buffer.size(), qsizetype(maxHeadBytes)));
    bool lineStart = true;
    bool firstLine = true;
    for (int i = 0; i < limit; ++i) {
        const char c = buffer.at(i);
        if (c == '\r') {
            if (i + 1 >= buffer.size()) {
                if (buffer.size() >= maxHeadBytes)
                    break;
                return scan; // need the next byte
            }
            if (buffer.at(i + 1) != '\n') {
                scan.result = HeadScan::Result::Bad;
                scan.reason = "bare CR in request head";
                return scan;
            }
            continue;
        }
        if (c == '\n') {
            if (lineStart && !firstLine) {
                scan.result = HeadScan::Result::Complete;
                scan.length = i + 1;
                return scan;
            }
            lineStart = true;
            firstLine = false;
            continue;
        }
        if (c == '\0') {
            scan.result = HeadScan::Result::Bad;
            scan.reason = "NUL in request head";
            return scan;
        }
        if (lineStart && !firstLine && (c == ' ' || c == '\t')) {
            // obs-fold (RFC 9112 5.2): a proxy must reject it or unfold it; unfolding
            // differently from the backend is a smuggling vector, so reject.
            scan.result = HeadScan::Result::Bad;
            scan.reason = "obsolete line folding in header";
            return scan;
        }
        lineStart = false;
    }
    if (buffer.size() >= maxHeadBytes)
        scan.result = HeadScan::Result::TooLarge;
    return scan;
}

bool checkFraming(const Headers &headers, QByteArray *why) {
    QByteArray contentLength;
    bool haveLength = false;
    int transferEncodings = 0;
    QByteArray te;
    for (const auto &[name, value] : headers) {
        if (nameIs(name, "content-length")) {
            const QByteArray v = value.trimmed();
            if (v.isEmpty() || v.size() > 18) {
                *why = "invalid Content-Length";
                return false;
            }
            for (char c : v) {
                if (c < '0' || c > '9') {
                    *why = "invalid Content-Length";
                    return false;
                }
            }
            if (haveLength && v != contentLength) {
                *why = "conflicting Content-Length headers";
                return false;
            }
            haveLength = true;
            contentLength = v;
        } else if (nameIs(name, "transfer-encoding")) {
            ++transferEncodings;
            te = value.trimmed();
        }
    }
    if (transferEncodings > 0 && haveLength) {
        *why = "both Content-Length and Transfer-Encoding";
        return false;
    }
    if (transferEncodings > 1) {
        *why = "repeated Transfer-Encoding";
        return false;
    }
    if (transferEncodings == 1 && te.compare("chunked", Qt::CaseInsensitive) != 0) {
        *why = "unsupported Transfer-Encoding";
        return false;
    }
    return true;
}

QList<QByteArray> connectionTokens(const Headers &headers) {
    QList<QByteArray> tokens;
    for (const auto &[name, value] : headers) {
        if (!nameIs(name, "connection"))
            continue;
        for (const QByteArray &t : value.split(',')) {
            const QByteArray token = t.trimmed().toLower();
            if (!token.isEmpty())
                tokens.append(token);
        }
    }
    return tokens;
}

bool isHopByHop(const QByteArray &name, const QList<QByteArray> &tokens) {
    static const char *const fixed[] = {"connection", "keep-alive",    "te", "trailer", "transfer-encoding",
                                        "upgrade",    "content-length"};
    for (const char *f : fixed) {
        if (nameIs(name, f))
            return true;
    }
    if (name.size() >= 6 && name.left(6).compare("proxy-", Qt::CaseInsensitive) == 0)
        return true;
    const QByteArray lower = name.toLower();
    return tokens.contains(lower);
}

QByteArray rewriteLocation(const QByteArray &location, const QByteArray &prefix) {
    if (prefix.isEmpty() || !location.startsWith('/') || location.startsWith("//"))
        return location;
    if (location == prefix || location.startsWith(prefix + '/') || location.startsWith(prefix + '?'))
        return location;
    return prefix + location;
}

QByteArray forwardedFor(const Headers &headers, const QByteArray &clientAddress) {
    QByteArray out;
    for (const auto &[name, value] : headers) {
        if (!nameIs(name, "x-forwarded-for"))
            continue;
        const QByteArray v = value.trimmed();
        if (v.isEmpty())
            continue;
        if (!out.isEmpty())
            out += ", ";
        out += v;
    }
    if (!out.isEmpty())
        out += ", ";
    return out + clientAddress;
}

bool isToken(const QByteArray &s) {
    if (s.isEmpty())
        return false;
    for (char c : s) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !std::strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

QByteArray headerValue(const Headers &headers, const QByteArray &lowerName) {
    for (const auto &[name, value] : headers) {
        if (name.compare(lowerName, Qt::CaseInsensitive) == 0)
            return value.trimmed();
    }
    return {};
}

} // namespace portico::http

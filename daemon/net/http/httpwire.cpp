#include "httpwire.h"

#include <cctype>
#include <cstring>

namespace portico::http {

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

QByteArrayView trimmed(QByteArrayView v) {
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

} // namespace

int leadingEmptyLines(QByteArrayView buffer) {
    int i = 0;
    while (i < buffer.size() && (buffer.at(i) == '\r' || buffer.at(i) == '\n'))
        ++i;
    return i;
}

HeadScan scanHead(QByteArrayView buffer, int maxHeadBytes, int from) {
    HeadScan scan;
    const int size = int(buffer.size());
    const int limit = qMin(size, maxHeadBytes);
    const char *data = buffer.data();
    bool firstLine = from == 0;
    bool lineStart = true;
    int lineBegin = from;
    for (int i = from; i < limit; ++i) {
        const char c = data[i];
        if (c == '\r') {
            if (i + 1 >= size) {
                if (size >= maxHeadBytes)
                    break;
                scan.resumeAt = lineBegin;
                return scan; // need the next byte
            }
            if (data[i + 1] != '\n') {
                scan.result = HeadScan::Result::Bad;
                scan.reason = "bare CR in the head";
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
            lineBegin = i + 1;
            continue;
        }
        if (c == '\0') {
            scan.result = HeadScan::Result::Bad;
            scan.reason = "NUL in the head";
            return scan;
        }
        if (lineStart && !firstLine && (c == ' ' || c == '\t')) {
            // obs-fold (RFC 9112 5.2): a proxy must reject it or unfold it; unfolding
            // differently from the backend is a smuggling vector, so reject.
            scan.result = HeadScan::Result::Bad;
            scan.reason = "obsolete line folding in a header";
            return scan;
        }
        lineStart = false;
    }
    scan.resumeAt = lineBegin;
    if (size >= maxHeadBytes) {
        scan.result = HeadScan::Result::TooLarge;
        scan.requestLineDone = !firstLine;
    }
    return scan;
}

bool checkFraming(const Fields &fields, const char **why) {
    QByteArrayView contentLength;
    bool haveLength = false;
    int transferEncodings = 0;
    QByteArrayView te;
    for (const Field &f : fields) {
        if (nameIs(f.name, "content-length")) {
            const QByteArrayView v = trimmed(f.value);
            if (v.isEmpty() || v.size() > 18) {
                *why = "invalid Content-Length";
                return false;
            }
            for (char c : v) {
                if (!isDigit(c)) {
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
        } else if (nameIs(f.name, "transfer-encoding")) {
            ++transferEncodings;
            te = trimmed(f.value);
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

Tokens connectionTokens(const Fields &fields) {
    Tokens tokens;
    for (const Field &f : fields) {
        if (!nameIs(f.name, "connection"))
            continue;
        QByteArrayView rest = f.value;
        while (!rest.isEmpty()) {
            const qsizetype comma = rest.indexOf(',');
            const QByteArrayView token = trimmed(comma < 0 ? rest : rest.first(comma));
            if (!token.isEmpty())
                tokens.append(token);
            rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);
        }
    }
    return tokens;
}

bool isHopByHop(QByteArrayView name, const Tokens &tokens) {
    static const char *const fixed[] = {"connection", "keep-alive",    "te", "trailer", "transfer-encoding",
                                        "upgrade",    "content-length"};
    for (const char *f : fixed) {
        if (nameIs(name, f))
            return true;
    }
    if (name.size() >= 6 && name.first(6).compare("proxy-", Qt::CaseInsensitive) == 0)
        return true;
    for (QByteArrayView t : tokens) {
        if (name.compare(t, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

void rewriteLocation(std::string &out, QByteArrayView location, QByteArrayView prefix) {
    const bool rootRelative = location.startsWith('/') && !location.startsWith("//");
    bool prefixed = false;
    if (location.startsWith(prefix)) {
        const QByteArrayView rest = location.sliced(prefix.size());
        prefixed = rest.isEmpty() || rest.startsWith('/') || rest.startsWith('?');
    }
    if (!prefix.isEmpty() && rootRelative && !prefixed)
        append(out, prefix);
    append(out, location);
}

QByteArray rewriteLocation(const QByteArray &location, const QByteArray &prefix) {
    std::string out;
    rewriteLocation(out, location, prefix);
    return QByteArray(out.data(), qsizetype(out.size()));
}

void forwardedFor(std::string &out, const Fields &fields, QByteArrayView clientAddress) {
    for (const Field &f : fields) {
        if (!nameIs(f.name, "x-forwarded-for") || f.value.isEmpty())
            continue;
        append(out, f.value);
        out += ", ";
    }
    append(out, clientAddress);
}

bool isToken(QByteArrayView s) {
    if (s.isEmpty())
        return false;
    for (char c : s) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (c == '\0' || !std::strchr("!#$%&'*+-.^_`|~", c)))
            return false;
    }
    return true;
}

bool isValidHost(QByteArrayView host) {
    QByteArrayView name = host;
    QByteArrayView port;
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        const QByteArrayView literal = host.sliced(1, close - 1);
        if (literal.isEmpty())
            return false;
        for (char c : literal) {
            const bool ok = std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
            if (!ok)
                return false; // IPvFuture and zone ids are not accepted from clients
        }
        const QByteArrayView rest = host.sliced(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(':'))
                return false;
            port = rest.sliced(1);
        }
        name = {};
    } else {
        const qsizetype colon = host.lastIndexOf(':');
        if (colon >= 0) {
            name = host.first(colon);
            port = host.sliced(colon + 1);
        }
        for (qsizetype i = 0; i < name.size(); ++i) {
            const char c = name.at(i);
            const bool unreserved = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                    (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_' || c == '~';
            const bool subDelim = c != '\0' && std::strchr("!$&'()*+,;=", c);
            if (c == '%') {
                if (i + 2 >= name.size() || !std::isxdigit(static_cast<unsigned char>(name.at(i + 1))) ||
                    !std::isxdigit(static_cast<unsigned char>(name.at(i + 2))))
                    return false;
                i += 2;
                continue;
            }
            if (!unreserved && !subDelim)
                return false;
        }
    }
    if (port.size() > 5)
        return false;
    for (char c : port) {
        if (!isDigit(c))
            return false;
    }
    return true;
}

QByteArrayView fieldValue(const Fields &fields, QByteArrayView lowerName) {
    for (const Field &f : fields) {
        if (nameIs(f.name, lowerName))
            return f.value;
    }
    return {};
}

int fieldCount(const Fields &fields, QByteArrayView lowerName) {
    int n = 0;
    for (const Field &f : fields)
        n += nameIs(f.name, lowerName) ? 1 : 0;
    return n;
}

bool listContains(QByteArrayView list, QByteArrayView token) {
    while (!list.isEmpty()) {
        const qsizetype comma = list.indexOf(',');
        if (trimmed(comma < 0 ? list : list.first(comma)).compare(token, Qt::CaseInsensitive) == 0)
            return true;
        list = comma < 0 ? QByteArrayView() : list.sliced(comma + 1);
    }
    return false;
}

QByteArrayView reasonPhrase(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 508:
        return "Loop Detected";
    default:
        return "Status";
    }
}

} // namespace portico::http

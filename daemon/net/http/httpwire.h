#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVarLengthArray>

#include <string>
#include <vector>

// Small pure helpers of the HTTP engine: the checks libhttp-parser does not do for us and
// the header rules of the proxy. No sockets and no allocation per call here (views into
// the connection's buffer), so they are unit-tested and fuzzed on their own.
namespace portico::http {

// One header field of a parsed head: views into the buffer the head was read into.
struct Field {
    QByteArrayView name;
    QByteArrayView value; // without leading and trailing blanks
};
using Fields = std::vector<Field>;

// Where the request head in a buffer ends. Leading empty lines (allowed before a request
// by RFC 9112 2.2) must have been skipped by the caller.
struct HeadScan {
    enum class Result { Incomplete, Complete, TooLarge, Bad };
    Result result = Result::Incomplete;
    int length = 0;               // Complete: bytes of the head including the final empty line
    int resumeAt = 0;             // Incomplete: scan again from here when more bytes came
    bool requestLineDone = false; // TooLarge: false when the first line alone is too long (414)
    const char *reason = nullptr; // Bad: why
};
// Scans buffer[from, size) where from is 0 or a previous scan's resumeAt.
HeadScan scanHead(QByteArrayView buffer, int maxHeadBytes, int from = 0);

// Number of leading CRLF / LF bytes (empty lines before a request line).
int leadingEmptyLines(QByteArrayView buffer);

// Request-smuggling shapes in a parsed header list: Content-Length together with
// Transfer-Encoding, differing or malformed Content-Length values, a Transfer-Encoding
// other than exactly "chunked", repeated Transfer-Encoding. Returns false with *why.
bool checkFraming(const Fields &fields, const char **why);

// Lower-case names listed in Connection header values (they are hop-by-hop too).
using Tokens = QVarLengthArray<QByteArrayView, 8>;
Tokens connectionTokens(const Fields &fields);
// Hop-by-hop headers (RFC 9110 7.6.1) and Proxy-*; Content-Length / Transfer-Encoding
// are not hop-by-hop but the proxy re-frames bodies, so they are dropped as well.
bool isHopByHop(QByteArrayView name, const Tokens &connectionTokens);

// A root-relative Location ("/login") from a backend mounted under prefix ("/app") is
// rewritten to stay under it ("/app/login"); absolute URLs, scheme-relative ("//h/x"),
// relative ("x") and already prefixed values pass unchanged. Appends to out.
void rewriteLocation(std::string &out, QByteArrayView location, QByteArrayView prefix);
QByteArray rewriteLocation(const QByteArray &location, const QByteArray &prefix);

// Appends the X-Forwarded-For value: every existing value (in order), then the client.
void forwardedFor(std::string &out, const Fields &fields, QByteArrayView clientAddress);

// RFC 9110 token (header field names, methods).
bool isToken(QByteArrayView s);
// A Host header value / absolute-form authority: uri-host [ ":" port ] (RFC 9110 7.2,
// RFC 3986 3.2.2): a reg-name of unreserved, pct-encoded and sub-delims characters, an
// IPv4 address or a bracketed IPv6 literal, and a port of digits. Empty is valid.
bool isValidHost(QByteArrayView host);
// The first value of a field (name compared case-insensitively), or a null view.
QByteArrayView fieldValue(const Fields &fields, QByteArrayView lowerName);
int fieldCount(const Fields &fields, QByteArrayView lowerName);
// Does a comma-separated list value hold token (case-insensitive)?
bool listContains(QByteArrayView list, QByteArrayView token);

QByteArrayView reasonPhrase(int status);

inline bool nameIs(QByteArrayView name, QByteArrayView lower) {
    return name.compare(lower, Qt::CaseInsensitive) == 0;
}
inline void append(std::string &out, QByteArrayView v) {
    out.append(v.data(), size_t(v.size()));
}

} // namespace portico::http

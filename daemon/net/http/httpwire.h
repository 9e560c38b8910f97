#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

// Small pure helpers of the HTTP engine: the checks libhttp-parser does not do for us
// and the header rewriting rules of the proxy. No sockets here, so they are unit-tested.
namespace portico::http {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// Where the request head in a buffer ends. Leading empty lines (allowed before a request
// by RFC 9112 2.2) must have been skipped by the caller.
struct HeadScan {
    enum class Result { Incomplete, Complete, TooLarge, Bad };
    Result result = Result::Incomplete;
    int length = 0;    // Complete: bytes of the head including the final empty line
    QByteArray reason; // Bad: why
};
HeadScan scanHead(const QByteArray &buffer, int maxHeadBytes);

// Number of leading CRLF / LF bytes (empty lines before a request line).
int leadingEmptyLines(const QByteArray &buffer);

// Request-smuggling shapes in a parsed header list: Content-Length together with
// Transfer-Encoding, differing or malformed Content-Length values, a Transfer-Encoding
// other than exactly "chunked", repeated Transfer-Encoding. Returns false with *why.
bool checkFraming(const Headers &headers, QByteArray *why);

// Lower-case names listed in Connection header values (they are hop-by-hop too).
QList<QByteArray> connectionTokens(const Headers &headers);
// Hop-by-hop headers (RFC 9110 7.6.1) and Proxy-*; Content-Length / Transfer-Encoding
// are not hop-by-hop but the proxy re-frames bodies, so the caller drops them as well.
bool isHopByHop(const QByteArray &name, const QList<QByteArray> &connectionTokens);

// A root-relative Location ("/login") from a backend mounted under prefix ("/app") is
// rewritten to stay under it ("/app/login"); absolute URLs, scheme-relative ("//h/x"),
// relative ("x") and already prefixed values pass unchanged.
QByteArray rewriteLocation(const QByteArray &location, const QByteArray &prefix);

// The X-Forwarded-For value: every existing value (in order), then the client address.
QByteArray forwardedFor(const Headers &headers, const QByteArray &clientAddress);

// RFC 9110 token (header field names, methods).
bool isToken(const QByteArray &s);

QByteArray headerValue(const Headers &headers, const QByteArray &lowerName);

} // namespace portico::http

#pragma once

#include "httpwire.h"

namespace portico::http {

// A request or response head parsed by libhttp-parser (Debian's libhttp-parser, the
// parser Node.js used for a decade), plus the checks a proxy needs that it does not do.
// Every view points into the buffer the head was parsed from; nothing is copied, and the
// field list is reused from head to head.
struct ParsedHead {
    // Requests
    unsigned method = 0;       // enum http_method
    QByteArrayView methodName; // "GET"
    QByteArrayView url;        // as sent
    QByteArrayView target;     // origin-form path and query ("/x?y"); for absolute-form, taken from the URL
    QByteArrayView authority;  // absolute-form's host[:port], which takes precedence over Host
    QByteArrayView host;       // the Host field, or the authority
    bool upgrade = false;      // Connection: upgrade with an Upgrade protocol we tunnel
    bool h2cDropped = false;   // an Upgrade: h2c that the proxy will not pass on
    bool expectContinue = false;
    // Responses
    int status = 0;
    QByteArrayView reason;
    // Both
    int major = 1;
    int minor = 1;
    bool keepAlive = true;
    bool chunked = false;
    qint64 contentLength = -1;
    Fields fields;

    bool http11() const { return major == 1 && minor >= 1; }
    bool hasBody() const { return chunked || contentLength > 0; }
};

// Why a head was refused: the status to answer (400, 414, 431, 502 for responses) and a
// short reason. status 0: the head is fine.
struct HeadError {
    int status = 0;
    const char *reason = "";
    explicit operator bool() const { return status != 0; }
};

// head is a complete head (as scanHead found it: start line, fields, empty line).
HeadError parseRequestHead(QByteArrayView head, int maxFields, ParsedHead *out);
HeadError parseResponseHead(QByteArrayView head, int maxFields, ParsedHead *out);

} // namespace portico::http

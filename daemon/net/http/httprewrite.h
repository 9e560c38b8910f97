#pragma once

#include "httphead.h"

#include <string>

namespace portico::http {

// The heads the proxy writes, built into a reused buffer (no allocation per request once
// it has grown). Pure functions of the parsed heads: unit-tested without sockets.

enum class Framing { None, Length, Chunked, UntilClose };

// The request head for the backend.
struct BackendHeadInput {
    const ParsedHead &request;
    QByteArrayView target; // request-target for the backend ("/x?y")
    QByteArrayView prefix; // "/<project>" on the ingress: X-Forwarded-Prefix
    QByteArrayView clientAddress;
    QByteArrayView fallbackHost; // Host when the client sent none (HTTP/1.0)
    QByteArrayView via;          // this daemon's pseudonym, added to Via (loop detection)
};
// Hop-by-hop fields dropped (Connection and what it names, Keep-Alive, TE, Trailer,
// Upgrade unless tunnelled, Proxy-*), the body re-framed (Content-Length or chunked, as
// the client framed it), Host from the absolute-form authority when there is one,
// X-Forwarded-For/-Proto/-Host/-Prefix replaced, Via appended.
void buildBackendHead(std::string &out, const BackendHeadInput &in);

// The final response head for the client.
struct ClientHeadInput {
    const ParsedHead &response;
    bool clientHttp11 = true;
    bool headRequest = false;
    QByteArrayView prefix; // root-relative Location values are kept under it
    bool close = false;    // Connection: close (else keep-alive, said explicitly to HTTP/1.0)
};
struct ClientHeadResult {
    Framing backendBody = Framing::None; // how the backend's body is delimited
    Framing clientBody = Framing::None;  // how the client's is
    qint64 length = -1;                  // Length: the body size
    bool close = false;                  // the connection closes after this answer
};
ClientHeadResult buildClientHead(std::string &out, const ClientHeadInput &in);

// A 1xx interim head (100 Continue, 103 Early Hints) for an HTTP/1.1 client.
void buildInterimHead(std::string &out, const ParsedHead &response);

// A 101 head: the backend's fields, then Connection: Upgrade and its Upgrade.
void buildSwitchingHead(std::string &out, const ParsedHead &response);

// A head the daemon answers itself.
void buildLocalHead(std::string &out, int status, QByteArrayView contentType, qint64 contentLength,
                    bool close, bool http10KeepAlive, QByteArrayView extraName = {},
                    QByteArrayView extraValue = {});

void appendNumber(std::string &out, qint64 n);
void appendHex(std::string &out, quint64 n);

} // namespace portico::http

#include "httprewrite.h"

#include <http_parser.h>

#include <charconv>

namespace portico::http {

void appendNumber(std::string &out, qint64 n) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, size_t(r.ptr - buf));
}

void appendHex(std::string &out, quint64 n) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n, 16);
    out.append(buf, size_t(r.ptr - buf));
}

namespace {

void field(std::string &out, QByteArrayView name, QByteArrayView value) {
    append(out, name);
    out += ": ";
    append(out, value);
    out += "\r\n";
}

bool isForwardingHeader(QByteArrayView name) {
    return nameIs(name, "x-forwarded-for") || nameIs(name, "x-forwarded-proto") ||
           nameIs(name, "x-forwarded-host") || nameIs(name, "x-forwarded-prefix");
}

} // namespace

void buildBackendHead(std::string &out, const BackendHeadInput &in) {
    const ParsedHead &r = in.request;
    const Tokens tokens = connectionTokens(r.fields);
    out.clear();
    append(out, r.methodName);
    out += ' ';
    append(out, in.target);
    out += " HTTP/1.1\r\n";
    const bool absolute = !r.authority.isNull();
    const QByteArrayView host = r.host.isNull() ? in.fallbackHost : r.host;
    bool via = false;
    for (const Field &f : r.fields) {
        if (isHopByHop(f.name, tokens) || isForwardingHeader(f.name))
            continue;
        if (nameIs(f.name, "host")) {
            field(out, f.name, absolute ? host : f.value);
            continue;
        }
        if (nameIs(f.name, "via")) {
            if (via)
                continue; // all Via values went into the first one
            via = true;
            append(out, f.name);
            out += ": ";
            bool first = true;
            for (const Field &g : r.fields) {
                if (!nameIs(g.name, "via") || g.value.isEmpty())
                    continue;
                if (!first)
                    out += ", ";
                append(out, g.value);
                first = false;
            }
            if (!first)
                out += ", ";
            out += "1.1 ";
            append(out, in.via);
            out += "\r\n";
            continue;
        }
        if (nameIs(f.name, "http2-settings") && r.h2cDropped)
            continue;
        field(out, f.name, f.value);
    }
    if (r.host.isNull() || (absolute && fieldCount(r.fields, "host") == 0))
        field(out, "Host", host);
    if (!via && !in.via.isEmpty()) {
        out += "Via: 1.1 ";
        append(out, in.via);
        out += "\r\n";
    }
    out += "X-Forwarded-For: ";
    forwardedFor(out, r.fields, in.clientAddress);
    out += "\r\nX-Forwarded-Proto: http\r\n";
    field(out, "X-Forwarded-Host", host);
    if (!in.prefix.isEmpty())
        field(out, "X-Forwarded-Prefix", in.prefix);
    if (r.chunked) {
        out += "Transfer-Encoding: chunked\r\n";
    } else if (r.contentLength >= 0) {
        out += "Content-Length: ";
        appendNumber(out, r.contentLength);
        out += "\r\n";
    }
    if (r.upgrade) {
        out += "Connection: Upgrade\r\n";
        field(out, "Upgrade", fieldValue(r.fields, "upgrade"));
    }
    out += "\r\n";
}

ClientHeadResult buildClientHead(std::string &out, const ClientHeadInput &in) {
    const ParsedHead &r = in.response;
    const Tokens tokens = connectionTokens(r.fields);
    ClientHeadResult res;
    out.clear();
    out += "HTTP/1.1 ";
    appendNumber(out, r.status);
    out += ' ';
    append(out, r.reason);
    out += "\r\n";
    QByteArrayView contentLength;
    for (const Field &f : r.fields) {
        if (nameIs(f.name, "content-length"))
            contentLength = f.value;
        if (isHopByHop(f.name, tokens))
            continue;
        if (!in.prefix.isEmpty() && nameIs(f.name, "location")) {
            append(out, f.name);
            out += ": ";
            rewriteLocation(out, f.value, in.prefix);
            out += "\r\n";
            continue;
        }
        field(out, f.name, f.value);
    }
    const bool noBody =
        in.headRequest || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    res.close = in.close;
    if (noBody) {
        // The length of what a GET would have got (HEAD, 304) is the backend's to say.
        if (r.status != 204 && !contentLength.isEmpty())
            field(out, "Content-Length", contentLength);
        res.backendBody = Framing::None;
        res.clientBody = Framing::None;
    } else if (r.chunked) {
        res.backendBody = Framing::Chunked;
    } else if (r.contentLength >= 0) {
        res.backendBody = Framing::Length;
        res.length = r.contentLength;
    } else {
        res.backendBody = Framing::UntilClose;
    }
    if (!noBody) {
        if (res.backendBody == Framing::Length) {
            res.clientBody = Framing::Length;
            out += "Content-Length: ";
            appendNumber(out, res.length);
            out += "\r\n";
        } else if (in.clientHttp11) {
            res.clientBody = Framing::Chunked;
            out += "Transfer-Encoding: chunked\r\n";
        } else {
            // An HTTP/1.0 client learns where the body ends from the close.
            res.clientBody = Framing::UntilClose;
            res.close = true;
        }
    }
    if (res.close)
        out += "Connection: close\r\n";
    else if (!in.clientHttp11)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    return res;
}

namespace {

// The backend's status line and its end-to-end fields, for answers passed on as they are.
void passedOnHead(std::string &out, const ParsedHead &r) {
    const Tokens tokens = connectionTokens(r.fields);
    out.clear();
    out += "HTTP/1.1 ";
    appendNumber(out, r.status);
    out += ' ';
    append(out, r.reason);
    out += "\r\n";
    for (const Field &f : r.fields) {
        if (!isHopByHop(f.name, tokens))
            field(out, f.name, f.value);
    }
}

} // namespace

void buildInterimHead(std::string &out, const ParsedHead &r) {
    passedOnHead(out, r);
    out += "\r\n";
}

void buildSwitchingHead(std::string &out, const ParsedHead &r) {
    passedOnHead(out, r); // a 101
    out += "Connection: Upgrade\r\n";
    field(out, "Upgrade", fieldValue(r.fields, "upgrade"));
    out += "\r\n";
}

void buildLocalHead(std::string &out, int status, QByteArrayView contentType, qint64 contentLength,
                    bool close, bool http10KeepAlive, QByteArrayView extraName, QByteArrayView extraValue) {
    out.clear();
    out += "HTTP/1.1 ";
    appendNumber(out, status);
    out += ' ';
    append(out, reasonPhrase(status));
    out += "\r\n";
    if (!contentType.isEmpty())
        field(out, "Content-Type", contentType);
    if (!extraName.isEmpty())
        field(out, extraName, extraValue);
    out += "Content-Length: ";
    appendNumber(out, contentLength);
    out += "\r\n";
    if (close)
        out += "Connection: close\r\n";
    else if (http10KeepAlive)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
}

} // namespace portico::http

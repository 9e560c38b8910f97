#include "httphead.h"

#include <http_parser.h>

namespace portico::http {

namespace {

// What the parser callbacks fill, reached through parser->data.
struct Collector {
    ParsedHead *out;
    const char *base;
    int maxFields;
    bool tooMany = false;
    bool inValue = false;
    const char *nameAt = nullptr;
    size_t nameLen = 0;
    const char *valueAt = nullptr;
    size_t valueLen = 0;

    // The whole head is parsed in one call, so a callback's piece normally is the whole
    // element; pieces that follow each other (they are contiguous in the buffer) are joined.
    static void extend(const char *&at, size_t &len, const char *piece, size_t n) {
        if (!at)
            at = piece;
        len = size_t(piece + n - at);
    }
    void flush() {
        if (!nameAt)
            return;
        QByteArrayView value(valueAt ? valueAt : nameAt + nameLen, qsizetype(valueAt ? valueLen : 0));
        while (!value.isEmpty() && (value.back() == ' ' || value.back() == '\t'))
            value.chop(1);
        while (!value.isEmpty() && (value.front() == ' ' || value.front() == '\t'))
            value = value.sliced(1);
        out->fields.push_back({QByteArrayView(nameAt, qsizetype(nameLen)), value});
        nameAt = valueAt = nullptr;
        nameLen = valueLen = 0;
        inValue = false;
    }
    static Collector *of(http_parser *p) { return static_cast<Collector *>(p->data); }
};

int onUrl(http_parser *p, const char *at, size_t len) {
    Collector *c = Collector::of(p);
    const char *begin = c->out->url.isEmpty() ? at : c->out->url.data();
    c->out->url = QByteArrayView(begin, qsizetype(at + len - begin));
    return 0;
}
int onStatus(http_parser *p, const char *at, size_t len) {
    Collector *c = Collector::of(p);
    const char *begin = c->out->reason.isEmpty() ? at : c->out->reason.data();
    c->out->reason = QByteArrayView(begin, qsizetype(at + len - begin));
    return 0;
}
int onField(http_parser *p, const char *at, size_t len) {
    Collector *c = Collector::of(p);
    if (c->inValue)
        c->flush();
    if (!c->nameAt && int(c->out->fields.size()) >= c->maxFields) {
        c->tooMany = true;
        return 1;
    }
    Collector::extend(c->nameAt, c->nameLen, at, len);
    return 0;
}
int onValue(http_parser *p, const char *at, size_t len) {
    Collector *c = Collector::of(p);
    c->inValue = true;
    Collector::extend(c->valueAt, c->valueLen, at, len);
    return 0;
}
int onHeadersComplete(http_parser *p) {
    Collector::of(p)->flush();
    return 0;
}

const http_parser_settings &settings() {
    static const http_parser_settings st = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_url = onUrl;
        s.on_status = onStatus;
        s.on_header_field = onField;
        s.on_header_value = onValue;
        s.on_headers_complete = onHeadersComplete;
        return s;
    }();
    return st;
}

HeadError parse(QByteArrayView head, int maxFields, ParsedHead *out, http_parser_type type,
                http_parser *parser) {
    Fields keep = std::move(out->fields); // reused: no allocation per head
    keep.clear();
    *out = ParsedHead{};
    out->fields = std::move(keep);
    http_parser_init(parser, type);
    Collector collector{out, head.data(), maxFields};
    parser->data = &collector;
    http_parser_execute(parser, &settings(), head.data(), size_t(head.size()));
    const http_errno err = HTTP_PARSER_ERRNO(parser);
    if (collector.tooMany)
        return {431, "too many header fields"};
    if (err == HPE_HEADER_OVERFLOW)
        return {431, "head too large"};
    // A head with a body stops in the body state (no body bytes were given): not an error.
    if (err != HPE_OK && err != HPE_PAUSED)
        return {400, http_errno_description(err)};
    out->major = parser->http_major;
    out->minor = parser->http_minor;
    out->keepAlive = http_should_keep_alive(parser) != 0;
    out->chunked = (parser->flags & F_CHUNKED) != 0;
    out->contentLength = (parser->flags & F_CONTENTLENGTH) ? qint64(parser->content_length) : -1;
    for (const Field &f : out->fields) {
        // "Content-Length : 5" and friends: a backend may read them differently.
        if (!isToken(f.name))
            return {400, "invalid header field name"};
    }
    const char *why = nullptr;
    if (!checkFraming(out->fields, &why))
        return {400, why};
    return {};
}

} // namespace

HeadError parseRequestHead(QByteArrayView head, int maxFields, ParsedHead *out) {
    http_parser parser;
    if (HeadError e = parse(head, maxFields, out, HTTP_REQUEST, &parser))
        return e;
    out->method = parser.method;
    out->methodName = http_method_str(http_method(parser.method));
    // libhttp-parser takes a request line without a version as HTTP/0.9 and any digits
    // as a version. Only HTTP/1.x is spoken here: a 0.9 line has no head to check, so what
    // follows it would reach the backend unchecked; 2.0 and up in this syntax is wrong.
    if (out->major == 0)
        return {400, "request line without an HTTP/1.x version"};
    if (out->major != 1)
        return {505, "HTTP version not supported"};

    const int hosts = fieldCount(out->fields, "host");
    if (hosts > 1)
        return {400, "repeated Host header"};
    if (hosts == 0 && out->http11())
        return {400, "missing Host header"};
    out->host = fieldValue(out->fields, "host");

    // The request target: origin-form as is; absolute-form's authority takes precedence
    // over Host (RFC 9112 3.2.2) and its path and query are what the backend gets.
    out->target = out->url;
    if (!out->url.startsWith('/') && out->url != "*" && out->method != HTTP_CONNECT) {
        http_parser_url u;
        http_parser_url_init(&u);
        if (http_parser_parse_url(out->url.data(), size_t(out->url.size()), 0, &u) != 0 ||
            !(u.field_set & (1 << UF_HOST)))
            return {400, "malformed request target"};
        // host[:port] as written (between "//" and the path), brackets included.
        const qsizetype hostStart = u.field_data[UF_HOST].off;
        qsizetype authStart = hostStart;
        if (authStart > 0 && out->url.at(authStart - 1) == '[')
            --authStart;
        qsizetype authEnd = (u.field_set & (1 << UF_PORT))
                                ? u.field_data[UF_PORT].off + u.field_data[UF_PORT].len
                                : hostStart + u.field_data[UF_HOST].len;
        if (authEnd < out->url.size() && out->url.at(authEnd) == ']')
            ++authEnd;
        if (u.field_set & (1 << UF_USERINFO))
            return {400, "user information in the request target"};
        out->authority = out->url.sliced(authStart, authEnd - authStart);
        out->host = out->authority;
        if (u.field_set & (1 << UF_PATH)) {
            const qsizetype start = u.field_data[UF_PATH].off;
            qsizetype end = start + u.field_data[UF_PATH].len;
            if (u.field_set & (1 << UF_QUERY))
                end = u.field_data[UF_QUERY].off + u.field_data[UF_QUERY].len;
            out->target = out->url.sliced(start, end - start);
        } else {
            out->target = "/";
            if (u.field_set & (1 << UF_QUERY)) // "http://h?q": no view can hold "/?q"
                return {400, "absolute request target with a query but no path"};
        }
    }
    if (!isValidHost(out->host))
        return {400, "invalid Host header"};

    const Tokens tokens = connectionTokens(out->fields);
    bool connectionUpgrade = false;
    for (QByteArrayView t : tokens)
        connectionUpgrade |= t.compare("upgrade", Qt::CaseInsensitive) == 0;
    const QByteArrayView upgrade = fieldValue(out->fields, "upgrade");
    if (connectionUpgrade && !upgrade.isEmpty()) {
        // Portico speaks HTTP/1.1 to backends: an h2c upgrade is dropped (the request goes
        // on as plain HTTP/1.1), everything else (WebSocket, ...) may become a tunnel.
        if (listContains(upgrade, "h2c"))
            out->h2cDropped = true;
        else
            out->upgrade = true;
    }
    out->expectContinue = fieldValue(out->fields, "expect").compare("100-continue", Qt::CaseInsensitive) == 0;
    return {};
}

HeadError parseResponseHead(QByteArrayView head, int maxFields, ParsedHead *out) {
    http_parser parser;
    if (HeadError e = parse(head, maxFields, out, HTTP_RESPONSE, &parser))
        return {502, e.reason};
    out->status = int(parser.status_code);
    return {};
}

} // namespace portico::http

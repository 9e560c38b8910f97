// Static files: resolveStatic() (daemon/runtime) decides what to answer; the file's bytes
// go to the client with sendfile(), as fast as the client reads them.
#include "httpconnection.h"

#include "httprewrite.h"
#include "httpscratch.h"
#include "runtime/staticfiles.h"

#include <QFile>

#include <fcntl.h>
#include <unistd.h>

namespace portico::http {

namespace {
constexpr qint64 kSendChunk = 1024 * 1024;
}

void HttpConnection::serveStatic(const Decision &d) {
    const ParsedHead &req = scratch().request;
    const QByteArrayView target = d.backendTarget;
    const qsizetype q = target.indexOf('?');
    StaticRequest request;
    request.method = QByteArray(req.methodName.data(), req.methodName.size());
    request.path = (q < 0 ? target : target.first(q)).toByteArray();
    request.ifNoneMatch = fieldValue(req.fields, "if-none-match").toByteArray();
    request.ifModifiedSince = fieldValue(req.fields, "if-modified-since").toByteArray();
    request.range = fieldValue(req.fields, "range").toByteArray();
    request.ifRange = fieldValue(req.fields, "if-range").toByteArray();
    const StaticReply reply =
        resolveStatic(d.route->target.staticRoot, request, d.route->target.staticDotfiles);
    m_status = reply.status;
    if (reply.status >= 500)
        m_localError = true;

    const bool noBody = m_req.head || reply.status == 304 || reply.status == 204;
    const bool close = !m_req.keepAlive || !m_req.complete || m_draining || m_clientEof;
    std::string &head = scratch().head;
    head.clear();
    head += "HTTP/1.1 ";
    appendNumber(head, reply.status);
    head += ' ';
    append(head, reasonPhrase(reply.status));
    head += "\r\n";
    bool haveLength = false;
    for (const auto &[name, value] : reply.headers) {
        haveLength |= name.compare("content-length", Qt::CaseInsensitive) == 0;
        append(head, name);
        head += ": ";
        append(head, value);
        head += "\r\n";
    }
    if (!haveLength && reply.status != 304 && reply.status != 204) {
        head += "Content-Length: ";
        appendNumber(head, reply.filePath.isEmpty() ? reply.body.size() : reply.length);
        head += "\r\n";
    }
    head += close ? "Connection: close\r\n\r\n" : "\r\n";

    if (reply.filePath.isEmpty() || noBody) {
        iovec iov[2] = {{head.data(), head.size()},
                        {const_cast<char *>(reply.body.constData()), size_t(reply.body.size())}};
        if (!sendClient(iov, noBody ? 1 : 2))
            return;
        endExchange(close);
        return;
    }
    m_fileFd = ::open(QFile::encodeName(reply.filePath).constData(), O_RDONLY | O_CLOEXEC);
    if (m_fileFd < 0) {
        fail(500, QStringLiteral("static file could not be read"));
        return;
    }
    m_fileOffset = off_t(reply.offset);
    m_fileRemaining = reply.length;
    m_closeAfter = close;
    if (!sendClient(QByteArrayView(head.data(), qsizetype(head.size()))))
        return;
    m_responseHeadSent = true;
    m_phase = Phase::LocalBody;
    armTimer(m_cfg.backendResponseTimeoutMs);
}

void HttpConnection::pumpFile() {
    if (!flushClient() || !m_out.isEmpty())
        return; // the head goes first
    bool moved = false;
    while (m_fileRemaining > 0 && m_client.writable()) {
        const ssize_t n =
            m_client.sendFile(m_fileFd, &m_fileOffset, size_t(qMin(m_fileRemaining, kSendChunk)));
        if (n == Socket::kError) {
            teardown();
            return;
        }
        if (n == 0) {
            if (!m_client.writable())
                break;
            // The file shrank under us: the length we announced is a lie now.
            m_localError = true;
            endExchange(true);
            return;
        }
        m_fileRemaining -= n;
        m_exOut += quint64(n);
        countOut(quint64(n));
        moved = true;
    }
    if (m_fileRemaining == 0) {
        closeFile();
        endExchange(m_closeAfter);
        return;
    }
    if (moved)
        armTimer(m_cfg.backendResponseTimeoutMs); // a client that reads is making progress
}

void HttpConnection::closeFile() {
    if (m_fileFd >= 0)
        ::close(m_fileFd);
    m_fileFd = -1;
    m_fileRemaining = 0;
}

} // namespace portico::http

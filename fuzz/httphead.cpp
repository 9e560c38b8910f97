// The request head scanner and parser on arbitrary bytes: never a crash; scanning the
// bytes as they arrive in two pieces finds what one scan of all of them finds (the
// scanner resumes where it stopped); a parsed head's views lie inside the head; and a
// head that passes is framed one way only (chunked or a length, never both). (methodName
// is the parser's own static name, not a view into the head.) Only HTTP/1.x passes.
#include "net/http/httphead.h"
#include "fuzztarget.h"

using namespace portico::http;

namespace {

bool inside(QByteArrayView part, QByteArrayView whole) {
    return part.isEmpty() ||
           (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

constexpr int kMaxHead = 8 * 1024;
constexpr int kMaxFields = 100;

} // namespace

PORTICO_FUZZ_TARGET(httphead) {
    if (size < 1)
        return 0;
    // The first byte says where the bytes are split in two deliveries.
    const QByteArrayView all(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const int split = all.isEmpty() ? 0 : int(data[0]) % int(all.size() + 1);
    const int skip = leadingEmptyLines(all);
    const QByteArrayView buffer = all.sliced(skip);

    const HeadScan whole = scanHead(buffer, kMaxHead);
    const int firstPart = qMax(0, split - skip);
    HeadScan first = scanHead(buffer.first(qMin<qsizetype>(firstPart, buffer.size())), kMaxHead);
    HeadScan resumed = first;
    if (first.result == HeadScan::Result::Incomplete) {
        PORTICO_FUZZ_CHECK(first.resumeAt >= 0 && first.resumeAt <= firstPart);
        resumed = scanHead(buffer, kMaxHead, first.resumeAt);
    }
    if (whole.result != HeadScan::Result::Incomplete || resumed.result != HeadScan::Result::Incomplete) {
        PORTICO_FUZZ_CHECK(resumed.result == whole.result);
        if (whole.result == HeadScan::Result::Complete)
            PORTICO_FUZZ_CHECK(resumed.length == whole.length);
    }
    if (whole.result == HeadScan::Result::Bad)
        PORTICO_FUZZ_CHECK(whole.reason && *whole.reason);
    if (whole.result != HeadScan::Result::Complete)
        return 0;
    PORTICO_FUZZ_CHECK(whole.length > 0 && whole.length <= buffer.size() && whole.length <= kMaxHead);

    const QByteArrayView head = buffer.first(whole.length);
    ParsedHead parsed;
    const HeadError error = parseRequestHead(head, kMaxFields, &parsed);
    if (error) {
        PORTICO_FUZZ_CHECK(error.status >= 400 && error.status < 600);
        PORTICO_FUZZ_CHECK(error.reason && *error.reason);
        return 0;
    }
    for (QByteArrayView v : {parsed.url, parsed.authority, parsed.host})
        PORTICO_FUZZ_CHECK(inside(v, head));
    // An absolute-form URL without a path has the target "/" (a literal).
    PORTICO_FUZZ_CHECK(inside(parsed.target, head) || parsed.target == "/");
    PORTICO_FUZZ_CHECK(parsed.major == 1);
    PORTICO_FUZZ_CHECK(parsed.fields.size() <= kMaxFields);
    PORTICO_FUZZ_CHECK(!(parsed.chunked && parsed.contentLength >= 0));
    // The same head parsed again gives the same answer (the field list is reused).
    ParsedHead again;
    PORTICO_FUZZ_CHECK(!parseRequestHead(head, kMaxFields, &again));
    PORTICO_FUZZ_CHECK(again.contentLength == parsed.contentLength && again.chunked == parsed.chunked);
    return 0;
}

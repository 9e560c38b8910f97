// The strict chunked decoder on arbitrary bytes: never a crash; the data it passes on is
// the same however the input is split (all at once, or two pieces at a point the first
// byte chooses, or one byte at a time); it never passes on more bytes than it read.
#include "net/http/chunked.h"
#include "fuzztarget.h"

#include <QByteArray>

using namespace portico::http;

namespace {

struct Outcome {
    ChunkedDecoder::Status status = ChunkedDecoder::Status::NeedMore;
    QByteArray body;
    qint64 consumed = 0; // up to the end of the message when Done
};

// Feeds input in pieces of at most step bytes (0: all at once).
Outcome decode(const char *input, qint64 length, qint64 split, qint64 step) {
    ChunkedDecoder d(1024);
    Outcome o;
    qint64 pos = 0;
    while (pos < length) {
        qint64 end = length;
        if (step > 0)
            end = qMin(length, pos + step);
        else if (pos < split)
            end = split;
        while (pos < end) {
            qint64 consumed = 0, offset = 0, dataLength = 0;
            const auto s = d.next(input + pos, end - pos, &consumed, &offset, &dataLength);
            PORTICO_FUZZ_CHECK(consumed >= 0 && consumed <= end - pos);
            if (s == ChunkedDecoder::Status::Bad) {
                PORTICO_FUZZ_CHECK(d.error() && *d.error());
                o.status = s;
                return o;
            }
            if (s == ChunkedDecoder::Status::Data) {
                PORTICO_FUZZ_CHECK(dataLength > 0 && offset >= 0 && offset + dataLength <= consumed);
                o.body.append(input + pos + offset, dataLength);
            } else {
                PORTICO_FUZZ_CHECK(dataLength == 0 || s == ChunkedDecoder::Status::Done);
            }
            pos += consumed;
            if (s == ChunkedDecoder::Status::Done) {
                PORTICO_FUZZ_CHECK(d.done());
                o.status = s;
                o.consumed = pos;
                return o;
            }
            if (s == ChunkedDecoder::Status::NeedMore)
                PORTICO_FUZZ_CHECK(pos == end);
            PORTICO_FUZZ_CHECK(consumed > 0 || s == ChunkedDecoder::Status::NeedMore);
        }
    }
    o.consumed = pos;
    return o;
}

} // namespace

PORTICO_FUZZ_TARGET(chunked) {
    if (size < 1 || size > 64 * 1024)
        return 0;
    const char *input = reinterpret_cast<const char *>(data) + 1;
    const qint64 length = qint64(size) - 1;
    const qint64 split = length == 0 ? 0 : data[0] % (length + 1);
    const Outcome whole = decode(input, length, 0, 0);
    const Outcome two = decode(input, length, split, 0);
    const Outcome bytes = decode(input, length, 0, 1);
    PORTICO_FUZZ_CHECK(whole.body.size() <= length);
    for (const Outcome *o : {&two, &bytes}) {
        PORTICO_FUZZ_CHECK(o->status == whole.status);
        if (whole.status != ChunkedDecoder::Status::Bad) {
            PORTICO_FUZZ_CHECK(o->body == whole.body);
            PORTICO_FUZZ_CHECK(o->consumed == whole.consumed);
        }
    }
    return 0;
}

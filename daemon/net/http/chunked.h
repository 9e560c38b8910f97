#pragma once

#include <QtGlobal>

namespace portico::http {

// A strict decoder of the chunked transfer coding (RFC 9112 7.1), incremental over any
// split of its input. libhttp-parser accepts bytes other than CRLF after a chunk's data
// and anything in chunk extensions; a proxy that is lenient where its backend is strict
// (or the other way round) is how requests are smuggled, so this one refuses:
// - a chunk size that is not 1-16 hex digits (or overflows);
// - chunk extensions that are not `;name` / `;name=token` / `;name="quoted"` with optional
//   blanks around `;` and `=`, or that hold control characters;
// - anything but CRLF after the size line, after a chunk's data and after each trailer;
// - a size line over 4 KiB, a trailer section over maxTrailerBytes.
// Trailers are checked and dropped (the proxy re-frames bodies and forwards none).
class ChunkedDecoder {
public:
    enum class Status { NeedMore, Data, Done, Bad };

    explicit ChunkedDecoder(qint64 maxTrailerBytes = 64 * 1024) : m_maxTrailer(maxTrailerBytes) {}
    void reset();

    // Reads from data[0, length). Returns:
    // - Data: *consumed bytes were read and the last *dataLength of them, starting at
    //   data + *dataOffset, are chunk data to pass on;
    // - NeedMore: every byte was consumed (*consumed == length), none was data;
    // - Done: the last chunk and trailers ended after *consumed bytes (the rest belongs to
    //   the next message);
    // - Bad: the input is not chunked coding; error() says why.
    Status next(const char *data, qint64 length, qint64 *consumed, qint64 *dataOffset, qint64 *dataLength);
    const char *error() const { return m_error; }
    bool done() const { return m_state == State::Done; }

private:
    enum class State : quint8 {
        Size,         // hex digits
        SizeBlank,    // blanks after the size, before ';' or CR
        ExtName,      // after ';' (blanks, then a token)
        ExtNameTok,   // in the name token
        ExtAfterName, // blanks after the name
        ExtValue,     // after '=' (blanks, then token or quote)
        ExtValueTok,  // in a token value
        ExtQuoted,    // in a quoted-string
        ExtQuotedEsc, // after a backslash in a quoted-string
        ExtAfterValue,
        SizeLf, // CR seen, LF expected
        Data,
        DataCr,       // CR expected after data
        DataLf,       // LF expected after data
        TrailerStart, // at the beginning of a trailer line (or the final CRLF)
        TrailerLine,  // in a trailer line
        TrailerLf,    // CR of a trailer line seen
        FinalLf,      // CR of the final empty line seen
        Done,
        Bad,
    };
    Status fail(const char *why);

    State m_state = State::Size;
    qint64 m_remaining = 0; // data bytes left in the current chunk
    int m_digits = 0;
    int m_lineBytes = 0; // of the current size line
    qint64 m_trailerBytes = 0;
    qint64 m_maxTrailer;
    const char *m_error = "";
};

} // namespace portico::http

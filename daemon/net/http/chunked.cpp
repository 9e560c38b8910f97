#include "chunked.h"

namespace portico::http {

namespace {

constexpr int kMaxSizeLine = 4096;

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isTchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

// Field value and quoted-string text: visible ASCII, blanks and obs-text; no controls.
bool isText(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

} // namespace

void ChunkedDecoder::reset() {
    m_state = State::Size;
    m_remaining = 0;
    m_digits = 0;
    m_lineBytes = 0;
    m_trailerBytes = 0;
    m_error = "";
}

ChunkedDecoder::Status ChunkedDecoder::fail(const char *why) {
    m_state = State::Bad;
    m_error = why;
    return Status::Bad;
}

ChunkedDecoder::Status ChunkedDecoder::next(const char *data, qint64 length, qint64 *consumed,
                                            qint64 *dataOffset, qint64 *dataLength) {
    *dataOffset = 0;
    *dataLength = 0;
    qint64 i = 0;
    if (m_state == State::Bad) {
        *consumed = 0;
        return Status::Bad;
    }
    while (i < length) {
        const char c = data[i];
        const auto uc = static_cast<unsigned char>(c);
        const bool inSizeLine = m_state < State::Data;
        if (inSizeLine && ++m_lineBytes > kMaxSizeLine)
            return fail("chunk size line too long");
        switch (m_state) {
        case State::Size: {
            const int h = hexValue(c);
            if (h >= 0) {
                if (m_digits == 16 || (m_remaining >> 59) != 0)
                    return fail("chunk size too large");
                m_remaining = m_remaining * 16 + h;
                ++m_digits;
                ++i;
                break;
            }
            if (m_digits == 0)
                return fail("chunk size is not hexadecimal");
            m_state = State::SizeBlank;
            --m_lineBytes; // looked at again in the next state
            break;
        }
        case State::SizeBlank:
        case State::ExtAfterName:
        case State::ExtAfterValue:
            if (isBlank(c)) {
                ++i;
            } else if (c == ';') {
                m_state = State::ExtName;
                ++i;
            } else if (c == '=' && m_state == State::ExtAfterName) {
                m_state = State::ExtValue;
                ++i;
            } else if (c == '\r') {
                m_state = State::SizeLf;
                ++i;
            } else {
                return fail("invalid character in chunk size line");
            }
            break;
        case State::ExtName:
            if (isBlank(c)) {
                ++i;
            } else if (isTchar(uc)) {
                m_state = State::ExtNameTok;
                ++i;
            } else {
                return fail("invalid chunk extension name");
            }
            break;
        case State::ExtNameTok:
            if (isTchar(uc)) {
                ++i;
            } else {
                m_state = State::ExtAfterName;
                --m_lineBytes;
            }
            break;
        case State::ExtValue:
            if (isBlank(c)) {
                ++i;
            } else if (c == '"') {
                m_state = State::ExtQuoted;
                ++i;
            } else if (isTchar(uc)) {
                m_state = State::ExtValueTok;
                ++i;
            } else {
                return fail("invalid chunk extension value");
            }
            break;
        case State::ExtValueTok:
            if (isTchar(uc)) {
                ++i;
            } else {
                m_state = State::ExtAfterValue;
                --m_lineBytes;
            }
            break;
        case State::ExtQuoted:
            if (c == '"')
                m_state = State::ExtAfterValue;
            else if (c == '\\')
                m_state = State::ExtQuotedEsc;
            else if (!isText(uc))
                return fail("control character in chunk extension");
            ++i;
            break;
        case State::ExtQuotedEsc:
            if (!isText(uc))
                return fail("control character in chunk extension");
            m_state = State::ExtQuoted;
            ++i;
            break;
        case State::SizeLf:
            if (c != '\n')
                return fail("chunk size line does not end with CRLF");
            ++i;
            m_lineBytes = 0;
            m_digits = 0;
            m_state = m_remaining == 0 ? State::TrailerStart : State::Data;
            break;
        case State::Data: {
            const qint64 n = qMin(m_remaining, length - i);
            *dataOffset = i;
            *dataLength = n;
            i += n;
            m_remaining -= n;
            if (m_remaining == 0)
                m_state = State::DataCr;
            *consumed = i;
            return Status::Data;
        }
        case State::DataCr:
            if (c != '\r')
                return fail("chunk data is not followed by CRLF");
            m_state = State::DataLf;
            ++i;
            break;
        case State::DataLf:
            if (c != '\n')
                return fail("chunk data is not followed by CRLF");
            m_state = State::Size;
            m_remaining = 0;
            ++i;
            break;
        case State::TrailerStart:
            if (c == '\r') {
                m_state = State::FinalLf;
            } else if (isTchar(uc)) {
                m_state = State::TrailerLine;
            } else {
                return fail("invalid trailer field");
            }
            if (++m_trailerBytes > m_maxTrailer)
                return fail("trailer section too large");
            ++i;
            break;
        case State::TrailerLine:
            if (c == '\r')
                m_state = State::TrailerLf;
            else if (!isText(uc))
                return fail("control character in a trailer field");
            if (++m_trailerBytes > m_maxTrailer)
                return fail("trailer section too large");
            ++i;
            break;
        case State::TrailerLf:
            if (c != '\n')
                return fail("trailer field does not end with CRLF");
            m_state = State::TrailerStart;
            ++i;
            break;
        case State::FinalLf:
            if (c != '\n')
                return fail("chunked body does not end with CRLF");
            m_state = State::Done;
            *consumed = i + 1;
            return Status::Done;
        case State::Done:
            *consumed = i;
            return Status::Done;
        case State::Bad:
            *consumed = i;
            return Status::Bad;
        }
    }
    *consumed = i;
    return m_state == State::Done ? Status::Done : Status::NeedMore;
}

} // namespace portico::http

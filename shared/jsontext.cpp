#include "jsontext.h"

#include <cctype>

namespace portico {

QString TextPosition::toString() const {
    return QStringLiteral("line %1, column %2").arg(line).arg(column);
}

TextPosition positionAt(const QByteArray &utf8, qsizetype byteOffset) {
    TextPosition p;
    const qsizetype offset = qBound<qsizetype>(0, byteOffset, utf8.size());
    const qsizetype lineStart = offset == 0 ? 0 : utf8.lastIndexOf('\n', offset - 1) + 1;
    qsizetype lineEnd = utf8.indexOf('\n', lineStart);
    if (lineEnd < 0)
        lineEnd = utf8.size();
    p.line = int(utf8.left(lineStart).count('\n')) + 1;
    p.column = int(QString::fromUtf8(utf8.mid(lineStart, offset - lineStart)).size()) + 1;
    QByteArray line = utf8.mid(lineStart, lineEnd - lineStart);
    if (line.endsWith('\r'))
        line.chop(1);
    p.lineText = QString::fromUtf8(line);
    return p;
}

TextPosition jsonErrorPosition(const QByteArray &utf8, const QJsonParseError &error) {
    // QJsonParseError::offset is where the parser was when it gave up: just past the
    // character it could not use (the '"' where a ',' was missing, the '}' after a trailing
    // comma). Point at that character.
    const qsizetype at = qBound(qsizetype(0), qsizetype(error.offset), utf8.size());
    return positionAt(utf8, at > 0 ? at - 1 : 0);
}

QString jsonErrorText(const QByteArray &utf8, const QJsonParseError &error) {
    // Qt's words for the usual slips of hand-written JSON say what the parser saw, not
    // what the writer did; these say what to look for.
    if (error.offset >= utf8.size() && error.error != QJsonParseError::IllegalUTF8String)
        return QStringLiteral("the text ends before the JSON does (a missing '}' or ']'?)");
    switch (error.error) {
    case QJsonParseError::UnterminatedObject:
        return QStringLiteral("expected ',' or '}' here (a missing comma?)");
    case QJsonParseError::UnterminatedArray:
    case QJsonParseError::MissingValueSeparator:
        return QStringLiteral("expected ',' or ']' here (a missing comma?)");
    case QJsonParseError::MissingObject:
        return QStringLiteral("expected a \"name\": value after the comma (a trailing comma?)");
    case QJsonParseError::MissingNameSeparator:
        return QStringLiteral("expected ':' after the name");
    case QJsonParseError::UnterminatedString:
        return QStringLiteral("a string is not closed (a missing '\"'?)");
    default:
        return error.errorString();
    }
}

namespace {

// A forgiving walk over JSON text that records where each member and element starts.
class PathScanner {
public:
    explicit PathScanner(const QByteArray &s) : m_s(s) {}
    QHash<QString, qsizetype> run() {
        value(QString());
        return m_out;
    }

private:
    static constexpr int kMaxDepth = 64;

    char at() const { return m_i < m_s.size() ? m_s.at(m_i) : '\0'; }
    void blanks() {
        while (m_i < m_s.size() && (at() == ' ' || at() == '\t' || at() == '\n' || at() == '\r'))
            ++m_i;
    }

    bool string(QString *out) {
        ++m_i; // the opening quote
        QByteArray raw;
        while (m_i < m_s.size()) {
            const char c = at();
            if (c == '"') {
                ++m_i;
                *out = QString::fromUtf8(raw);
                return true;
            }
            if (c != '\\') {
                raw += c;
                ++m_i;
                continue;
            }
            const char e = m_i + 1 < m_s.size() ? m_s.at(m_i + 1) : '\0';
            m_i += 2;
            switch (e) {
            case 'b':
                raw += '\b';
                break;
            case 'f':
                raw += '\f';
                break;
            case 'n':
                raw += '\n';
                break;
            case 'r':
                raw += '\r';
                break;
            case 't':
                raw += '\t';
                break;
            case 'u': {
                bool ok = false;
                const char16_t unit = char16_t(m_s.mid(m_i, 4).toUInt(&ok, 16));
                if (!ok)
                    return false;
                m_i += 4;
                raw += QString(QChar(unit)).toUtf8();
                break;
            }
            default:
                raw += e;
            }
        }
        return false;
    }

    bool value(const QString &path) {
        blanks();
        if (m_i >= m_s.size() || ++m_depth > kMaxDepth)
            return false;
        bool ok = true;
        const char c = at();
        if (c == '{') {
            ++m_i;
            blanks();
            if (at() == '}')
                ++m_i;
            else
                ok = members(path);
        } else if (c == '[') {
            ++m_i;
            blanks();
            if (at() == ']')
                ++m_i;
            else
                ok = elements(path);
        } else if (c == '"') {
            QString ignored;
            ok = string(&ignored);
        } else {
            const qsizetype start = m_i;
            while (m_i < m_s.size() && (std::isalnum(static_cast<unsigned char>(at())) || at() == '+' ||
                                        at() == '-' || at() == '.'))
                ++m_i;
            ok = m_i > start;
        }
        --m_depth;
        return ok;
    }

    bool members(const QString &path) {
        for (;;) {
            blanks();
            if (at() != '"')
                return false;
            const qsizetype keyAt = m_i;
            QString key;
            if (!string(&key))
                return false;
            const QString p = path.isEmpty() ? key : path + QLatin1Char('.') + key;
            m_out.insert(p, keyAt);
            blanks();
            if (at() != ':')
                return false;
            ++m_i;
            if (!value(p))
                return false;
            blanks();
            if (at() == ',') {
                ++m_i;
                continue;
            }
            if (at() == '}') {
                ++m_i;
                return true;
            }
            return false;
        }
    }

    bool elements(const QString &path) {
        for (int index = 0;; ++index) {
            blanks();
            const QString p = QStringLiteral("%1[%2]").arg(path).arg(index);
            m_out.insert(p, m_i);
            if (!value(p))
                return false;
            blanks();
            if (at() == ',') {
                ++m_i;
                continue;
            }
            if (at() == ']') {
                ++m_i;
                return true;
            }
            return false;
        }
    }

    const QByteArray &m_s;
    qsizetype m_i = 0;
    int m_depth = 0;
    QHash<QString, qsizetype> m_out;
};

} // namespace

QHash<QString, qsizetype> jsonPathOffsets(const QByteArray &utf8) {
    return PathScanner(utf8).run();
}

} // namespace portico

#include "yaml.h"

#include <QJsonObject>
#include <QLocale>

#include <cmath>

namespace portico::ctl::yaml {

namespace {

bool isAsciiLetter(QChar c) {
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}
bool isAsciiDigit(QChar c) {
    return c >= u'0' && c <= u'9';
}

// Characters a plain scalar may hold here. Deliberately narrow: '#', ',', quotes, brackets,
// braces, '&', '*', '!', '|', '>', '%', '`' and every non-ASCII character are left to the
// quoted form rather than reasoned about.
bool isPlainChar(QChar c) {
    return isAsciiLetter(c) || isAsciiDigit(c) || c == u'.' || c == u'_' || c == u'/' || c == u'-' ||
           c == u':' || c == u'@' || c == u'+' || c == u'=' || c == u' ';
}

QString escapeChar(char32_t c) {
    switch (c) {
    case U'\0':
        return QStringLiteral("\\0");
    case U'\a':
        return QStringLiteral("\\a");
    case U'\b':
        return QStringLiteral("\\b");
    case U'\t':
        return QStringLiteral("\\t");
    case U'\n':
        return QStringLiteral("\\n");
    case U'\v':
        return QStringLiteral("\\v");
    case U'\f':
        return QStringLiteral("\\f");
    case U'\r':
        return QStringLiteral("\\r");
    case 0x1B:
        return QStringLiteral("\\e");
    case U'"':
        return QStringLiteral("\\\"");
    case U'\\':
        return QStringLiteral("\\\\");
    case 0x85: // YAML 1.1 reads NEL, LS and PS as line breaks
        return QStringLiteral("\\N");
    case 0x2028:
        return QStringLiteral("\\L");
    case 0x2029:
        return QStringLiteral("\\P");
    default:
        break;
    }
    const auto hex = [c](int digits) {
        return QString::number(uint(c), 16).toUpper().rightJustified(digits, u'0');
    };
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0))
        return QStringLiteral("\\x") + hex(2);
    if (c == 0xFEFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF)
        return QStringLiteral("\\u") + hex(4);
    return {};
}

QString quoted(const QString &s) {
    QString out;
    out.reserve(s.size() + 2);
    out += QLatin1Char('"');
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s.at(i);
        char32_t code = c.unicode();
        qsizetype width = 1;
        if (c.isHighSurrogate() && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            code = QChar::surrogateToUcs4(c, s.at(i + 1));
            width = 2;
        }
        const QString escaped = escapeChar(code);
        if (!escaped.isEmpty())
            out += escaped;
        else
            out += s.mid(i, width);
        i += width - 1;
    }
    out += QLatin1Char('"');
    return out;
}

QString number(double d) {
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
        return QString::number(qint64(d));
    QString s = QString::number(d, 'g', QLocale::FloatingPointShortest);
    // YAML 1.1 reads a float only with a '.' in it ("1e+20" would be a string).
    if (!s.contains(QLatin1Char('.'))) {
        const qsizetype e = s.indexOf(QLatin1Char('e'));
        s.insert(e < 0 ? s.size() : e, QStringLiteral(".0"));
    }
    return s;
}

bool isEmptyContainer(const QJsonValue &v) {
    return (v.isObject() && v.toObject().isEmpty()) || (v.isArray() && v.toArray().isEmpty());
}

QString inlineValue(const QJsonValue &v) {
    switch (v.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return number(v.toDouble());
    case QJsonValue::String:
        return scalar(v.toString());
    case QJsonValue::Array:
        return QStringLiteral("[]");
    case QJsonValue::Object:
        return QStringLiteral("{}");
    }
    return QStringLiteral("null");
}

void emitNode(QString &out, const QJsonValue &v, int indent);

void emitMap(QString &out, const QJsonObject &o, int indent) {
    const QString pad(indent, QLatin1Char(' '));
    for (auto it = o.begin(); it != o.end(); ++it) {
        out += pad + scalar(it.key()) + QLatin1Char(':');
        const QJsonValue v = it.value();
        if (v.isObject() && !v.toObject().isEmpty()) {
            out += QLatin1Char('\n');
            emitMap(out, v.toObject(), indent + 2);
        } else if (v.isArray() && !v.toArray().isEmpty()) {
            out += QLatin1Char('\n');
            emitNode(out, v, indent); // kubectl's layout: "- " at the key's indent
        } else {
            out += QLatin1Char(' ') + inlineValue(v) + QLatin1Char('\n');
        }
    }
}

void emitSeq(QString &out, const QJsonArray &a, int indent) {
    const QString pad(indent, QLatin1Char(' '));
    for (const QJsonValue &item : a) {
        if ((item.isObject() || item.isArray()) && !isEmptyContainer(item)) {
            // The item as a block two deeper, its first line's indent turned into "- ".
            QString block;
            emitNode(block, item, indent + 2);
            block.replace(0, indent + 2, pad + QStringLiteral("- "));
            out += block;
        } else {
            out += pad + QStringLiteral("- ") + inlineValue(item) + QLatin1Char('\n');
        }
    }
}

void emitNode(QString &out, const QJsonValue &v, int indent) {
    if (v.isObject() && !v.toObject().isEmpty())
        emitMap(out, v.toObject(), indent);
    else if (v.isArray() && !v.toArray().isEmpty())
        emitSeq(out, v.toArray(), indent);
    else
        out += QString(indent, QLatin1Char(' ')) + inlineValue(v) + QLatin1Char('\n');
}

} // namespace

bool needsQuotes(const QString &s) {
    if (s.isEmpty())
        return true;
    // Digits, '.', '-', '+' first could be a number, a date, ".inf" or a sequence entry;
    // '~' is null; every other indicator is outside isPlainChar anyway.
    const QChar first = s.front();
    if (!isAsciiLetter(first) && first != u'/' && first != u'_')
        return true;
    if (s.back() == u' ' || s.back() == u':')
        return true;
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s.at(i);
        if (!isPlainChar(c))
            return true;
        if (c == u':' && i + 1 < s.size() && s.at(i + 1) == u' ')
            return true; // ": " ends a mapping key
    }
    // YAML 1.1 booleans and nulls (kubectl's parser follows 1.1 here), in any case.
    static const QStringList words{QStringLiteral("y"),  QStringLiteral("yes"),  QStringLiteral("n"),
                                   QStringLiteral("no"), QStringLiteral("true"), QStringLiteral("false"),
                                   QStringLiteral("on"), QStringLiteral("off"),  QStringLiteral("null")};
    return words.contains(s.toLower());
}

QString scalar(const QString &s) {
    return needsQuotes(s) ? quoted(s) : s;
}

QByteArray emit(const QJsonValue &value) {
    QString out;
    emitNode(out, value, 0);
    return out.toUtf8();
}

QByteArray documents(const QJsonArray &objects) {
    QByteArray out;
    for (const QJsonValue &o : objects)
        out += "---\n" + emit(o);
    return out;
}

} // namespace portico::ctl::yaml

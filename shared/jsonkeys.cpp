#include "jsonkeys.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QSet>

namespace portico::json {

namespace {

// Members of every object in v, nested ones included.
qsizetype memberCount(const QJsonValue &v) {
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        qsizetype n = o.size();
        for (auto it = o.begin(); it != o.end(); ++it)
            if (it->isObject() || it->isArray())
                n += memberCount(*it);
        return n;
    }
    if (v.isArray()) {
        qsizetype n = 0;
        for (const auto &e : v.toArray())
            if (e.isObject() || e.isArray())
                n += memberCount(e);
        return n;
    }
    return 0;
}

// Index of the '"' that closes the string opening at `open`, or -1.
qsizetype stringEnd(const QByteArray &text, qsizetype open) {
    for (qsizetype i = open + 1; i < text.size(); ++i) {
        if (text.at(i) == '\\')
            ++i;
        else if (text.at(i) == '"')
            return i;
    }
    return -1;
}

// A JSON string literal (with its quotes) as the key it stands for in a path. The empty
// key is shown as "" so that a path names it (an empty path would read as no duplicate).
QString decodeKey(const QByteArray &literal) {
    const QJsonDocument doc = QJsonDocument::fromJson('[' + literal + ']');
    const QString key = doc.array().at(0).toString();
    return key.isEmpty() ? QStringLiteral("\"\"") : key;
}

} // namespace

bool hasDuplicateKeys(const QByteArray &text, const QJsonValue &parsed) {
    qsizetype separators = 0;
    const qsizetype n = text.size();
    const char *p = text.constData();
    for (qsizetype i = 0; i < n; ++i) {
        if (p[i] == ':') {
            ++separators;
        } else if (p[i] == '"') {
            for (++i; i < n && p[i] != '"'; ++i)
                i += p[i] == '\\' ? 1 : 0;
        }
    }
    return separators != memberCount(parsed);
}

QString firstDuplicateKey(const QByteArray &text) {
    struct Frame {
        bool object = false;
        bool wantKey = false;
        QString path;
        QString lastKey;
        QSet<QString> keys;
    };
    QList<Frame> stack;
    const auto childPath = [&stack]() -> QString {
        if (stack.isEmpty())
            return {};
        const Frame &top = stack.last();
        if (!top.object)
            return top.path + QStringLiteral("[]");
        return top.path.isEmpty() ? top.lastKey : top.path + QLatin1Char('.') + top.lastKey;
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        switch (text.at(i)) {
        case '"': {
            const qsizetype close = stringEnd(text, i);
            if (close < 0)
                return {};
            if (!stack.isEmpty() && stack.last().object && stack.last().wantKey) {
                Frame &top = stack.last();
                const QString key = decodeKey(text.mid(i, close - i + 1));
                if (top.keys.contains(key))
                    return top.path.isEmpty() ? key : top.path + QLatin1Char('.') + key;
                top.keys.insert(key);
                top.lastKey = key;
                top.wantKey = false;
            }
            i = close;
            break;
        }
        case '{':
            stack.append({true, true, childPath(), {}, {}});
            break;
        case '[':
            stack.append({false, false, childPath(), {}, {}});
            break;
        case '}':
        case ']':
            if (!stack.isEmpty())
                stack.removeLast();
            break;
        case ',':
            if (!stack.isEmpty() && stack.last().object)
                stack.last().wantKey = true;
            break;
        default:
            break;
        }
    }
    return {};
}

} // namespace portico::json

#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonParseError>
#include <QString>

// Where things are in a JSON text, for messages a person can act on: "line 4, column 3"
// instead of a byte offset, and the line itself.
namespace portico {

struct TextPosition {
    int line = 0;     // 1-based; 0: unknown
    int column = 0;   // 1-based, in UTF-16 units (as editors count)
    QString lineText; // the whole line, without its end
    bool isValid() const { return line > 0; }
    QString toString() const; // "line 4, column 3"
};

// The line and column of a byte offset into UTF-8 text (an offset past the end points just
// after the last character).
TextPosition positionAt(const QByteArray &utf8, qsizetype byteOffset);

// Where QJsonDocument::fromJson() stopped: the position of the offending character.
TextPosition jsonErrorPosition(const QByteArray &utf8, const QJsonParseError &error);
// What went wrong there, in words that say what to look for ("expected ',' or '}' here (a
// missing comma?)"); Qt's own text for the rarer errors.
QString jsonErrorText(const QByteArray &utf8, const QJsonParseError &error);

// The byte offset of every object member (its key) and array element of a valid JSON text,
// by the path the manifest validator names them with: "name", "listen[1].port",
// "env.LOG_LEVEL". Text that is not valid JSON gives what was found before the fault.
QHash<QString, qsizetype> jsonPathOffsets(const QByteArray &utf8);

} // namespace portico

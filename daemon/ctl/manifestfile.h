#pragma once

#include "jsontext.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>

// A manifest as porticoctl reads it from disk: FILE, or a folder meaning its portico.json,
// with line and column for a JSON syntax error and for the daemon's validation errors.
namespace portico::ctl {

struct ManifestFile {
    static constexpr qint64 kMaxBytes = 4 * 1024 * 1024;

    QString path; // the file that was read, as the user named it (a folder + "/portico.json")
    QString dir;  // its folder, absolute: what relative paths in it resolve against
    QByteArray bytes;
    QJsonObject object;

    // Reads `arg`. False with what to print: a headline, then lines that show the place
    // (the line of the file and a caret under the column).
    static bool read(const QString &arg, ManifestFile *out, QString *headline, QStringList *context);

    // Where the validator's path ("listen[1].port") is in the file; for a path that is not
    // there (a missing field), where its nearest parent is. Invalid when unknown.
    TextPosition locate(const QString &jsonPath) const;
    // The listen entry a conflict on port/transport comes from: "listen", "listen[1]", or
    // empty when the manifest has none such.
    QString listenPath(int port, const QString &transport) const;

private:
    mutable QHash<QString, qsizetype> m_offsets;
    mutable bool m_scanned = false;
};

// Every error and conflict of a refusal's data, one line each, with its path in the manifest
// and, when `file` is given and has it, its place there:
//   "error: listen[1].port: must be 1-65535 (line 6, column 5)"
//   "conflict: listen[0]: port 3000/tcp is already bound by project 'a' (line 5, column 5)"
//   "conflict: port 53/udp is already bound by another program" (nothing in the manifest asks it)
// The path and message come first, so that scripts reading "error: <path>: <message>" work.
QStringList refusalLines(const QJsonObject &data, const ManifestFile *file = nullptr);

// "   4 | <the line>" and "     |   ^" under the column.
QStringList sourceExcerpt(const TextPosition &p);

} // namespace portico::ctl

#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonValue>
#include <QString>

// A small YAML emitter for JSON values, written for `porticoctl export kubernetes`.
//
// Why not a library: Debian's yaml-cpp (the one C++ emitter packaged) writes a string plain
// unless it is literally "null"-like, so "on", "yes", "1.0" or "0x1F" come out as YAML 1.1
// booleans and numbers; kubectl's parser would then give a Deployment a number where the
// API wants an env value string. Getting that right is the whole job, and it is the same
// amount of code around yaml-cpp (a quoting decision per string) as without it. It also
// speaks std::string, not QJsonValue. So: block style, two-space indent, sequences at their
// key's indent (kubectl's layout), keys in QJsonObject's sorted order, and a string is
// plain only when no YAML 1.1 or 1.2 reader can take it for anything else.
namespace portico::ctl::yaml {

// True when `s` must be double-quoted to stay a string (as a value or as a key).
bool needsQuotes(const QString &s);
// `s` as a YAML scalar: plain when safe, else double-quoted with escapes.
QString scalar(const QString &s);
// A value as a YAML node; objects and arrays in block style, ending with a newline.
QByteArray emit(const QJsonValue &value);
// A stream of documents, each introduced by "---".
QByteArray documents(const QJsonArray &objects);

} // namespace portico::ctl::yaml

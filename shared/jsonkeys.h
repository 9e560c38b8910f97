#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>

// QJsonDocument keeps the last of two equal keys and says nothing. Where a duplicate
// would change what a document means (an admin request, a manifest, a config file),
// these tell that one was there.
namespace portico::json {

// Does `text` (which parsed as `parsed`) repeat a key in some object? Costs one pass over
// the bytes and a walk of the parsed values: every ':' outside a string separates one
// member, so more of them than members parsed means a key was dropped.
bool hasDuplicateKeys(const QByteArray &text, const QJsonValue &parsed);

// The first repeated key as a path ("method", "params.manifest.name", "listen[].port"),
// empty when there is none (the empty key is named "", as in "env.\"\""). A full scan: for
// the error message, not the normal path.
QString firstDuplicateKey(const QByteArray &text);

} // namespace portico::json

#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace portico::test {

// The manifests of tests/data/manifests.json, shared by tst_manifest (the daemon's
// validation) and tst_manifest_schema (the JSON Schema): one list of rows per kind.
QJsonArray manifestRows(const QString &kind); // "invalid", "valid_listen", "runtimes", "round_trip", "names"
// A row's document as bytes: its "text", or its "manifest" as compact JSON; for a "names"
// row, the manifest {"name": NAME, "runtime": "static", "entry": "www"}.
QByteArray manifestRowBytes(const QJsonObject &row);

} // namespace portico::test

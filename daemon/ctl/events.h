#pragma once

#include "style.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>

// Events, route diffs and log lines as a person reads them.
namespace portico::ctl {

// "deployed my-api: + 3000/http, - 3001/http", "my-api crashed: exited with code 1", ...
QString eventSentence(const QString &kind, const QJsonObject &data, const Style &style);
// "12:03:04  " + the sentence (local time).
QString eventLine(const QString &kind, const QJsonObject &data, const QDateTime &time, const Style &style);

// A deploy's route diff, one line per route: "+ bind 3000/http", "- release 5000/tcp",
// "= keep 4000/tcp", "+ route /my-api/", "= keep /my-api/", "- release /my-api/".
QStringList diffLines(const QJsonObject &diff, const QString &project, const Style &style);
// What changes, in one line: "+ 3000/http, - 3001/http, + /my-api/" (empty: nothing).
QString diffSummary(const QJsonObject &diff, const QString &project);

// A LogLine {time, stream, text} as "2026-01-01 12:03:04.123 stderr  text" (local time),
// stderr in red and the daemon's own lines dimmed on a terminal.
QString logLineText(const QJsonObject &line, const Style &style);

} // namespace portico::ctl

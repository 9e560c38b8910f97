#pragma once

#include "style.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

// Per-route rates and counters (stats.get's result, stats.tick's data) for people: a table,
// plain lines for a pipe, and frames that redraw the table in place on a terminal.
namespace portico::ctl {

QString statsTable(const QJsonObject &stats, const Style &style);
// One line per route with the time: "12:03:04  3000/http  my-api  req/s 1.5  in/s 12 B ...".
QStringList statsLines(const QJsonObject &stats);
// The table redrawn over the previous frame (cursor home, each line cleared to its end,
// the rest of the screen cleared), cut to the terminal's width and height. The first frame
// clears the screen.
QString statsFrame(const QJsonObject &stats, const Style &style, bool first);

} // namespace portico::ctl

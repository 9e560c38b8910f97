#include "statsview.h"

#include "format.h"

#include <QJsonArray>

namespace portico::ctl {

namespace {

struct RouteRates {
    QString port, proto, project, path;
    double requests = 0, in = 0, out = 0, errorRate = 0;
    QString open, errors;
};

QList<RouteRates> rowsOf(const QJsonObject &stats) {
    QList<RouteRates> rows;
    for (const auto &v : stats.value(QStringLiteral("routes")).toArray()) {
        const QJsonObject r = v.toObject();
        const QJsonObject rates = r.value(QStringLiteral("rates")).toObject();
        const QJsonObject c = r.value(QStringLiteral("counters")).toObject();
        const QString project = r.value(QStringLiteral("project")).toString();
        rows.append({compact(r.value(QStringLiteral("host_port"))),
                     r.value(QStringLiteral("protocol")).toString(),
                     project.isEmpty() ? QStringLiteral("(ingress)") : project,
                     r.value(QStringLiteral("path")).toString(),
                     rates.value(QStringLiteral("requests_per_s")).toDouble(),
                     rates.value(QStringLiteral("bytes_in_per_s")).toDouble(),
                     rates.value(QStringLiteral("bytes_out_per_s")).toDouble(),
                     rates.value(QStringLiteral("errors_per_s")).toDouble(),
                     compact(c.value(QStringLiteral("connections_open"))),
                     compact(c.value(QStringLiteral("errors")))});
    }
    return rows;
}

} // namespace

QString statsTable(const QJsonObject &stats, const Style &style) {
    Table t({QStringLiteral("PORT"), QStringLiteral("PROTO"), QStringLiteral("PROJECT"),
             QStringLiteral("PATH"), QStringLiteral("REQ/S"), QStringLiteral("IN/S"), QStringLiteral("OUT/S"),
             QStringLiteral("CONNS"), QStringLiteral("ERR/S"), QStringLiteral("ERRORS")});
    for (const auto &r : rowsOf(stats))
        t.addRow({r.port, r.proto, r.project, r.path, rate(r.requests), bytes(r.in), bytes(r.out), r.open,
                  rate(r.errorRate), r.errors});
    return t.render(style);
}

QStringList statsLines(const QJsonObject &stats) {
    const QString time = clockTime(parseTime(stats.value(QStringLiteral("time"))));
    QStringList out;
    for (const auto &r : rowsOf(stats)) {
        QString route = r.port + QLatin1Char('/') + r.proto;
        if (!r.path.isEmpty() && r.project != QLatin1String("(ingress)"))
            route += QLatin1Char(' ') + r.path;
        out.append(QStringLiteral("%1  %2  %3  req/s %4  in/s %5  out/s %6  conns %7  err/s %8  errors %9")
                       .arg(time, route, r.project, rate(r.requests), bytes(r.in), bytes(r.out), r.open,
                            rate(r.errorRate), r.errors));
    }
    return out;
}

QString statsFrame(const QJsonObject &stats, const Style &style, bool first) {
    const int routes = int(stats.value(QStringLiteral("routes")).toArray().size());
    QStringList lines{QStringLiteral("porticod at %1: %2 route(s)  (Ctrl-C to stop)")
                          .arg(clockTime(parseTime(stats.value(QStringLiteral("time")))))
                          .arg(routes)};
    // The table is plain text here: every line is cut to the width, which escape codes
    // would make harder to count.
    Style plain;
    lines += statsTable(stats, plain).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    // Room for the lines, and one for the cursor, so that the screen never scrolls.
    if (style.height() > 2 && lines.size() > style.height() - 1) {
        const int keep = style.height() - 2;
        const qsizetype hidden = lines.size() - keep;
        lines = lines.mid(0, keep);
        lines.append(QStringLiteral("… %1 more route(s)").arg(hidden));
    }
    QString out = first ? QStringLiteral("\x1b[2J") : QString();
    out += QStringLiteral("\x1b[H");
    for (int i = 0; i < lines.size(); ++i) {
        QString line = elide(lines.at(i), style.width());
        if (i == 0)
            line = style.paint(line, Color::Bold);
        out += line + QStringLiteral("\x1b[K\n");
    }
    return out + QStringLiteral("\x1b[J");
}

} // namespace portico::ctl

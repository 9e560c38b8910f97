#include "format.h"

#include <QJsonDocument>
#include <QTimeZone>

namespace portico::ctl {

namespace {
const QString kEllipsis = QStringLiteral("…");

QString str(const QJsonObject &o, const char *key) {
    return o.value(QLatin1String(key)).toString();
}
} // namespace

QString cellText(const QString &s) {
    QString line = s.section(QLatin1Char('\n'), 0, 0);
    for (QChar &c : line) {
        if (c.category() == QChar::Other_Control)
            c = QLatin1Char(' ');
    }
    line = line.trimmed();
    return line.isEmpty() ? QStringLiteral("-") : line;
}

QString elide(const QString &s, int width) {
    if (width <= 0 || s.size() <= width)
        return s;
    if (width == 1)
        return kEllipsis;
    return s.left(width - 1) + kEllipsis;
}

void Table::addRow(const QStringList &cells, const QList<Color> &colors) {
    Row r;
    for (const auto &c : cells)
        r.cells.append(cellText(c));
    r.colors = colors;
    m_rows.append(r);
}

QString Table::render(const Style &style) const {
    const int columns = int(m_header.size());
    QList<qsizetype> widths;
    for (const auto &h : m_header)
        widths.append(h.size());
    for (const auto &row : m_rows) {
        for (int i = 0; i < row.cells.size() && i < columns; ++i)
            widths[i] = qMax(widths[i], row.cells.at(i).size());
    }
    // The elastic column gets what the others leave of the terminal, but never so little
    // that its heading is cut.
    if (m_elastic >= 0 && m_elastic < columns && style.width() > 0) {
        qsizetype others = 0;
        for (int i = 0; i < columns; ++i)
            if (i != m_elastic)
                others += widths[i] + 2;
        widths[m_elastic] =
            qMin(widths[m_elastic], qMax<qsizetype>(m_header.at(m_elastic).size(), style.width() - others));
    }
    const auto line = [&](const QStringList &cells, const QList<Color> &colors) {
        QString out;
        for (int i = 0; i < columns; ++i) {
            QString cell = i < cells.size() ? cells.at(i) : QString();
            if (i == m_elastic)
                cell = elide(cell, int(widths[i]));
            const qsizetype pad = i + 1 < columns ? widths[i] + 2 - cell.size() : 0;
            out += style.paint(cell, colors.value(i, Color::None)) +
                   QString(qMax<qsizetype>(0, pad), QLatin1Char(' '));
        }
        while (out.endsWith(QLatin1Char(' ')))
            out.chop(1);
        return out + QLatin1Char('\n');
    };
    QString out = line(m_header, {});
    for (const auto &row : m_rows)
        out += line(row.cells, row.colors);
    return out;
}

QString compact(const QJsonValue &v) {
    if (v.isString())
        return v.toString();
    if (v.isDouble()) {
        const double d = v.toDouble();
        return d == double(qint64(d)) ? QString::number(qint64(d)) : QString::number(d);
    }
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isNull() || v.isUndefined())
        return QStringLiteral("-");
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
}

QString duration(qint64 ms) {
    qint64 s = qMax<qint64>(0, ms) / 1000;
    const qint64 d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60;
    s %= 60;
    if (d)
        return QStringLiteral("%1d %2h %3m").arg(d).arg(h).arg(m);
    if (h)
        return QStringLiteral("%1h %2m %3s").arg(h).arg(m).arg(s);
    if (m)
        return QStringLiteral("%1m %2s").arg(m).arg(s);
    return QStringLiteral("%1s").arg(s);
}

QString bytes(double n) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024)
        return QStringLiteral("%1 B").arg(qint64(n + 0.5));
    int u = -1;
    while (n >= 1024 && u < 3) {
        n /= 1024;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(QString::number(n, 'f', 1), QLatin1String(units[u]));
}

QString rate(double perSecond) {
    if (perSecond <= 0)
        return QStringLiteral("0");
    if (perSecond >= 100)
        return QString::number(qint64(perSecond + 0.5));
    return QString::number(perSecond, 'f', 1);
}

QDateTime parseTime(const QJsonValue &v) {
    return QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
}

QString clockTime(const QDateTime &t) {
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("HH:mm:ss")) : QStringLiteral("--:--:--");
}

QString dateTime(const QDateTime &t) {
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                       : QStringLiteral("-");
}

QString dateTimeMs(const QDateTime &t) {
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))
                       : QStringLiteral("-");
}

QString routeLabel(const QJsonObject &r) {
    QString label =
        QStringLiteral("%1/%2").arg(compact(r.value(QStringLiteral("host_port"))), str(r, "protocol"));
    const QString path = str(r, "path");
    if (!path.isEmpty() && !r.value(QStringLiteral("project")).toString().isEmpty())
        label += QLatin1Char(' ') + path;
    return label;
}

QString listenLabel(const QJsonObject &l) {
    const QString proto = str(l, "protocol");
    QString label = QStringLiteral("%1/%2").arg(compact(l.value(QStringLiteral("port"))),
                                                proto.isEmpty() ? QStringLiteral("http") : proto);
    const QString pp = str(l, "proxy_protocol");
    if (!pp.isEmpty())
        label += QStringLiteral(" (PROXY %1)").arg(pp);
    return label;
}

QString exitText(const QJsonValue &lastExit) {
    const QJsonObject e = lastExit.toObject();
    if (e.contains(QStringLiteral("signal")))
        return e.value(QStringLiteral("signal_name"))
            .toString(QStringLiteral("signal %1").arg(compact(e.value(QStringLiteral("signal")))));
    if (e.contains(QStringLiteral("code")))
        return QStringLiteral("code %1").arg(compact(e.value(QStringLiteral("code"))));
    return QStringLiteral("-");
}

QString routesTable(const QJsonArray &routes, const Style &style) {
    Table t({QStringLiteral("PORT"), QStringLiteral("PROTO"), QStringLiteral("PROJECT"),
             QStringLiteral("PATH"), QStringLiteral("BACKEND"), QStringLiteral("STATE"),
             QStringLiteral("CONNS"), QStringLiteral("REQUESTS"), QStringLiteral("ERRORS"),
             QStringLiteral("REASON")});
    t.setElastic(9);
    for (const auto &v : routes) {
        const QJsonObject r = v.toObject();
        const QJsonObject c = r.value(QStringLiteral("counters")).toObject();
        const QString project = str(r, "project");
        const QString state = str(r, "state");
        QList<Color> colors(10, Color::None);
        colors[5] = Style::stateColor(state);
        t.addRow({compact(r.value(QStringLiteral("host_port"))), str(r, "protocol"),
                  project.isEmpty() ? QStringLiteral("(ingress)") : project, str(r, "path"),
                  str(r, "backend"), state, compact(c.value(QStringLiteral("connections_open"))),
                  compact(c.value(QStringLiteral("requests"))), compact(c.value(QStringLiteral("errors"))),
                  str(r, "reason")},
                 colors);
    }
    return t.render(style);
}

namespace {

QString listenText(const QJsonObject &p) {
    // The project's live routes when the daemon gives them, else what the manifest asks.
    QStringList parts;
    for (const auto &r : p.value(QStringLiteral("routes")).toArray())
        parts.append(routeLabel(r.toObject()));
    if (!parts.isEmpty())
        return parts.join(QStringLiteral(", "));
    const QJsonValue listen = p.value(QStringLiteral("manifest")).toObject().value(QStringLiteral("listen"));
    const QJsonArray items = listen.isArray() ? listen.toArray() : QJsonArray{listen};
    for (const auto &l : items)
        if (l.isObject())
            parts.append(listenLabel(l.toObject()));
    if (parts.isEmpty())
        return QStringLiteral("/%1/").arg(str(p, "name"));
    return parts.join(QStringLiteral(", "));
}

QString optionalNumber(const QJsonValue &v) {
    return v.isDouble() ? compact(v) : QStringLiteral("-");
}

} // namespace

QString projectsTable(const QJsonArray &projects, const Style &style) {
    Table t({QStringLiteral("NAME"), QStringLiteral("RUNTIME"), QStringLiteral("STATE"),
             QStringLiteral("PID"), QStringLiteral("UPTIME"), QStringLiteral("RESTARTS"),
             QStringLiteral("LAST EXIT"), QStringLiteral("LISTEN"), QStringLiteral("REASON")});
    t.setElastic(8);
    for (const auto &v : projects) {
        const QJsonObject p = v.toObject();
        const QString state = str(p, "state");
        const QJsonValue uptime = p.value(QStringLiteral("uptime_ms"));
        QList<Color> colors(9, Color::None);
        colors[2] = Style::stateColor(state);
        t.addRow({str(p, "name"), str(p, "runtime"), state, optionalNumber(p.value(QStringLiteral("pid"))),
                  uptime.isDouble() ? duration(qint64(uptime.toDouble())) : QStringLiteral("-"),
                  optionalNumber(p.value(QStringLiteral("restarts"))),
                  exitText(p.value(QStringLiteral("last_exit"))), listenText(p), str(p, "reason")},
                 colors);
    }
    return t.render(style);
}

QString auditTable(const QJsonArray &entries, const Style &style) {
    Table t({QStringLiteral("TIME"), QStringLiteral("UID"), QStringLiteral("PID"), QStringLiteral("METHOD"),
             QStringLiteral("PROJECT"), QStringLiteral("OUTCOME"), QStringLiteral("ERROR")});
    t.setElastic(6);
    for (const auto &v : entries) {
        const QJsonObject e = v.toObject();
        const QString outcome = str(e, "outcome");
        QList<Color> colors(7, Color::None);
        colors[5] = Style::stateColor(outcome);
        QString error = str(e, "error");
        if (e.contains(QStringLiteral("code")))
            error = QStringLiteral("%1 (code %2)").arg(error, compact(e.value(QStringLiteral("code"))));
        t.addRow({dateTime(parseTime(e.value(QStringLiteral("time")))),
                  compact(e.value(QStringLiteral("uid"))), compact(e.value(QStringLiteral("pid"))),
                  str(e, "method"), str(e, "project"), outcome, error},
                 colors);
    }
    return t.render(style);
}

QString keyValues(const QList<QPair<QString, QString>> &rows) {
    qsizetype width = 0;
    for (const auto &r : rows)
        width = qMax(width, r.first.size());
    QString out;
    for (const auto &r : rows) {
        const QStringList lines = r.second.split(QLatin1Char('\n'));
        out += r.first.leftJustified(width + 2) + lines.first() + QLatin1Char('\n');
        for (const auto &more : lines.mid(1))
            out += QString(width + 2, QLatin1Char(' ')) + more + QLatin1Char('\n');
    }
    return out;
}

QString indent(const QString &text, int spaces) {
    QStringList lines = text.split(QLatin1Char('\n'));
    for (auto &l : lines)
        if (!l.isEmpty())
            l.prepend(QString(spaces, QLatin1Char(' ')));
    return lines.join(QLatin1Char('\n'));
}

QString infoText(const QJsonObject &info, const QString &socketPath) {
    // The fields people look for first, in that order; anything else after them.
    QList<QPair<QString, QString>> rows{{QStringLiteral("socket"), socketPath}};
    QStringList done;
    const auto add = [&](const char *key, const QString &label, const QString &value) {
        if (!info.contains(QLatin1String(key)))
            return;
        rows.append({label, value});
        done.append(QLatin1String(key));
    };
    add("version", QStringLiteral("version"), compact(info.value(QStringLiteral("version"))));
    add("protocol_version", QStringLiteral("protocol"),
        compact(info.value(QStringLiteral("protocol_version"))));
    add("pid", QStringLiteral("pid"), compact(info.value(QStringLiteral("pid"))));
    add("uptime_ms", QStringLiteral("uptime"),
        duration(qint64(info.value(QStringLiteral("uptime_ms")).toDouble())));
    add("bind", QStringLiteral("bind"), compact(info.value(QStringLiteral("bind"))));
    add("ingress_port", QStringLiteral("ingress port"), compact(info.value(QStringLiteral("ingress_port"))));
    add("admin_socket", QStringLiteral("admin socket"), compact(info.value(QStringLiteral("admin_socket"))));
    add("state_dir", QStringLiteral("state dir"), compact(info.value(QStringLiteral("state_dir"))));
    add("workers", QStringLiteral("workers"), compact(info.value(QStringLiteral("workers"))));
    add("projects", QStringLiteral("projects"), compact(info.value(QStringLiteral("projects"))));
    if (info.value(QStringLiteral("listeners")).isArray()) {
        const QJsonArray listeners = info.value(QStringLiteral("listeners")).toArray();
        QStringList labels;
        quint64 open = 0, requests = 0, errors = 0;
        for (const auto &v : listeners) {
            const QJsonObject r = v.toObject();
            labels.append(routeLabel(r));
            // A path route is a share of the ingress's traffic, which counts it already.
            if (!r.value(QStringLiteral("project")).toString().isEmpty() && !str(r, "path").isEmpty())
                continue;
            const QJsonObject c = r.value(QStringLiteral("counters")).toObject();
            open += quint64(c.value(QStringLiteral("connections_open")).toDouble());
            requests += quint64(c.value(QStringLiteral("requests")).toDouble());
            errors += quint64(c.value(QStringLiteral("errors")).toDouble());
        }
        add("listeners", QStringLiteral("listeners"),
            QStringLiteral("%1: %2").arg(listeners.size()).arg(labels.join(QStringLiteral(", "))));
        rows.append(
            {QStringLiteral("traffic"), QStringLiteral("%1 open connection(s), %2 request(s), %3 error(s)")
                                            .arg(open)
                                            .arg(requests)
                                            .arg(errors)});
    }
    for (auto it = info.begin(); it != info.end(); ++it)
        if (!done.contains(it.key()))
            rows.append({it.key(), compact(it.value())});
    return keyValues(rows);
}

QString projectText(const QJsonObject &p, const Style &style) {
    const QString state = p.value(QStringLiteral("state")).toString();
    QList<QPair<QString, QString>> rows{
        {QStringLiteral("name"), p.value(QStringLiteral("name")).toString()},
        {QStringLiteral("runtime"), p.value(QStringLiteral("runtime")).toString()},
        {QStringLiteral("state"), style.state(state)}};
    const QString reason = p.value(QStringLiteral("reason")).toString().trimmed();
    if (!reason.isEmpty())
        rows.append({QStringLiteral("reason"), reason});
    const QDateTime started = parseTime(p.value(QStringLiteral("started_at")));
    rows.append({QStringLiteral("pid"), compact(p.value(QStringLiteral("pid")))});
    if (started.isValid())
        rows.append(
            {QStringLiteral("started"),
             QStringLiteral("%1 (up %2)")
                 .arg(dateTime(started), duration(qint64(p.value(QStringLiteral("uptime_ms")).toDouble())))});
    rows.append({QStringLiteral("restarts"), compact(p.value(QStringLiteral("restarts")))});
    const QJsonValue lastExit = p.value(QStringLiteral("last_exit"));
    rows.append({QStringLiteral("last exit"),
                 lastExit.isObject()
                     ? QStringLiteral("%1 at %2")
                           .arg(exitText(lastExit),
                                dateTime(parseTime(lastExit.toObject().value(QStringLiteral("at")))))
                     : QStringLiteral("-")});
    QStringList env;
    for (const auto &v : p.value(QStringLiteral("env_names")).toArray())
        env.append(v.toString());
    rows.append({QStringLiteral("env"),
                 env.isEmpty() ? QStringLiteral("-")
                               : env.join(QStringLiteral(", ")) + QStringLiteral(" (values not shown)")});
    if (p.contains(QStringLiteral("backend")))
        rows.append({QStringLiteral("backend"), compact(p.value(QStringLiteral("backend")))});
    rows.append({QStringLiteral("source"), compact(p.value(QStringLiteral("source_dir")))});
    QString out = keyValues(rows);
    const QJsonArray routes = p.value(QStringLiteral("routes")).toArray();
    out += routes.isEmpty() ? QStringLiteral("\nroutes: none (it holds no port now)\n")
                            : QStringLiteral("\nroutes:\n") + indent(routesTable(routes, style), 2);
    QJsonObject manifest = p.value(QStringLiteral("manifest")).toObject();
    manifest.remove(QStringLiteral("env")); // its names are above; values stay with the daemon
    out += QStringLiteral("\nmanifest (env left out):\n") +
           indent(QString::fromUtf8(QJsonDocument(manifest).toJson(QJsonDocument::Indented)), 2);
    return out;
}

} // namespace portico::ctl

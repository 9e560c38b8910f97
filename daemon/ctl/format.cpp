#include "format.h"

#include <QDateTime>
#include <QJsonDocument>

namespace portico::ctl {

QString Table::render() const {
    QList<qsizetype> widths;
    for (const auto &h : m_header)
        widths.append(h.size());
    for (const auto &row : m_rows) {
        for (int i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = qMax(widths[i], row.at(i).size());
    }
    auto line = [&](const QStringList &cells) {
        QString out;
        for (int i = 0; i < widths.size(); ++i) {
            const QString cell = i < cells.size() ? cells.at(i) : QString();
            out += i + 1 < widths.size() ? cell.leftJustified(widths[i] + 2) : cell;
        }
        while (out.endsWith(QLatin1Char(' ')))
            out.chop(1);
        return out + QLatin1Char('\n');
    };
    QString out = line(m_header);
    for (const auto &row : m_rows)
        out += line(row);
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
    qint64 s = ms / 1000;
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

namespace {

// "8080/http /site/": how a route row is named in one cell.
QString routeLabel(const QJsonObject &r) {
    QString label = QStringLiteral("%1/%2").arg(compact(r.value(QStringLiteral("host_port"))),
                                                r.value(QStringLiteral("protocol")).toString());
    const QString path = r.value(QStringLiteral("path")).toString();
    if (!path.isEmpty())
        label += QLatin1Char(' ') + path;
    return label;
}

} // namespace

QString routesTable(const QJsonArray &routes) {
    Table t({QStringLiteral("PORT"), QStringLiteral("PROTO"), QStringLiteral("PROJECT"),
             QStringLiteral("PATH"), QStringLiteral("BACKEND"), QStringLiteral("STATE"),
             QStringLiteral("CONNS"), QStringLiteral("REQUESTS"), QStringLiteral("ERRORS")});
    for (const auto &v : routes) {
        const QJsonObject r = v.toObject();
        const QJsonObject c = r.value(QStringLiteral("counters")).toObject();
        const QString project = r.value(QStringLiteral("project")).toString();
        QString state = r.value(QStringLiteral("state")).toString();
        const QString reason = r.value(QStringLiteral("reason")).toString();
        if (!reason.isEmpty())
            state += QStringLiteral(" (%1)").arg(reason);
        t.addRow({compact(r.value(QStringLiteral("host_port"))),
                  r.value(QStringLiteral("protocol")).toString(),
                  project.isEmpty() ? QStringLiteral("(ingress)") : project,
                  r.value(QStringLiteral("path")).toString().isEmpty()
                      ? QStringLiteral("-")
                      : r.value(QStringLiteral("path")).toString(),
                  r.value(QStringLiteral("backend")).toString(), state,
                  compact(c.value(QStringLiteral("connections_open"))),
                  compact(c.value(QStringLiteral("requests"))), compact(c.value(QStringLiteral("errors")))});
    }
    return t.render();
}

namespace {

QString listenText(const QJsonObject &p) {
    // The project's live routes when the daemon gives them, else what the manifest asks.
    QStringList parts;
    for (const auto &r : p.value(QStringLiteral("routes")).toArray())
        parts.append(routeLabel(r.toObject()));
    if (!parts.isEmpty())
        return parts.join(QStringLiteral(", "));
    QJsonValue listen = p.value(QStringLiteral("listen"));
    if (listen.isUndefined())
        listen = p.value(QStringLiteral("manifest")).toObject().value(QStringLiteral("listen"));
    QJsonArray items;
    if (listen.isObject())
        items.append(listen);
    else if (listen.isArray())
        items = listen.toArray();
    for (const auto &l : items) {
        const QJsonObject o = l.toObject();
        const QString proto = o.value(QStringLiteral("protocol")).toString();
        parts.append(QStringLiteral("%1/%2").arg(compact(o.value(QStringLiteral("port"))),
                                                 proto.isEmpty() ? QStringLiteral("http") : proto));
    }
    if (parts.isEmpty())
        return QStringLiteral("ingress /%1/").arg(p.value(QStringLiteral("name")).toString());
    return parts.join(QStringLiteral(", "));
}

QString field(const QJsonObject &p, const QString &key) {
    QJsonValue v = p.value(key);
    if (v.isUndefined())
        v = p.value(QStringLiteral("manifest")).toObject().value(key);
    return v.isUndefined() ? QStringLiteral("-") : compact(v);
}

} // namespace

QString projectsTable(const QJsonArray &projects) {
    Table t({QStringLiteral("NAME"), QStringLiteral("RUNTIME"), QStringLiteral("STATE"),
             QStringLiteral("LISTEN")});
    for (const auto &v : projects) {
        const QJsonObject p = v.toObject();
        QString state = field(p, QStringLiteral("state"));
        const QString reason = p.value(QStringLiteral("reason")).toString();
        if (!reason.isEmpty())
            state += QStringLiteral(" (%1)").arg(reason);
        t.addRow(
            {field(p, QStringLiteral("name")), field(p, QStringLiteral("runtime")), state, listenText(p)});
    }
    return t.render();
}

QString infoText(const QJsonObject &info, const QString &socketPath) {
    QList<QPair<QString, QString>> rows{{QStringLiteral("socket"), socketPath}};
    for (auto it = info.begin(); it != info.end(); ++it) {
        if (it.key().endsWith(QLatin1String("_ms")) && it.value().isDouble())
            rows.append({it.key().chopped(3), duration(qint64(it.value().toDouble()))});
        else if (it.value().isArray()) {
            // Route rows (e.g. listeners) as "8080/http /site/"; anything else counted.
            QStringList labels;
            for (const auto &v : it.value().toArray()) {
                if (v.isObject() && v.toObject().contains(QStringLiteral("host_port")))
                    labels.append(routeLabel(v.toObject()));
                else if (!v.isObject() && !v.isArray())
                    labels.append(compact(v));
            }
            rows.append({it.key(), labels.size() == it.value().toArray().size()
                                       ? labels.join(QStringLiteral(", "))
                                       : QStringLiteral("%1 items").arg(it.value().toArray().size())});
        } else
            rows.append({it.key(), compact(it.value())});
    }
    qsizetype width = 0;
    for (const auto &r : rows)
        width = qMax(width, r.first.size());
    QString out;
    for (const auto &r : rows)
        out += r.first.leftJustified(width + 2) + r.second + QLatin1Char('\n');
    return out;
}

QString eventLine(const QJsonObject &params) {
    const QDateTime time =
        QDateTime::fromString(params.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    const QString kind = params.value(QStringLiteral("kind")).toString();
    const QJsonObject data = params.value(QStringLiteral("data")).toObject();
    QString summary;
    const QString project = data.value(QStringLiteral("project")).toString();
    if (kind == QLatin1String("project.state")) {
        summary = QStringLiteral("%1 -> %2").arg(project, data.value(QStringLiteral("state")).toString());
        if (!data.value(QStringLiteral("reason")).toString().isEmpty())
            summary += QStringLiteral(" (%1)").arg(data.value(QStringLiteral("reason")).toString());
    } else if (kind == QLatin1String("project.log")) {
        summary = QStringLiteral("%1: %2").arg(project, data.value(QStringLiteral("text")).toString());
    } else if (kind == QLatin1String("routes.changed")) {
        summary = QStringLiteral("%1 route(s)").arg(data.value(QStringLiteral("routes")).toArray().size());
    } else if (kind == QLatin1String("deploy.refused")) {
        summary = QStringLiteral("%1: %2").arg(project, refusalLines(data).join(QStringLiteral("; ")));
    } else {
        summary = compact(data);
    }
    return QStringLiteral("%1  %2  %3")
        .arg(time.isValid() ? time.toLocalTime().toString(QStringLiteral("HH:mm:ss"))
                            : QStringLiteral("--:--:--"),
             kind.leftJustified(18), summary);
}

QStringList refusalLines(const QJsonObject &data) {
    QStringList out;
    for (const auto &v : data.value(QStringLiteral("errors")).toArray()) {
        const QJsonObject e = v.toObject();
        const QString path = e.value(QStringLiteral("path")).toString();
        const QString msg = e.value(QStringLiteral("message")).toString();
        out.append(QStringLiteral("error: ") + (path.isEmpty() ? msg : path + QStringLiteral(": ") + msg));
    }
    for (const auto &v : data.value(QStringLiteral("conflicts")).toArray()) {
        const QJsonObject c = v.toObject();
        QString msg = c.value(QStringLiteral("message")).toString();
        if (msg.isEmpty())
            msg = QStringLiteral("port %1/%2 is already bound by %3")
                      .arg(compact(c.value(QStringLiteral("port"))),
                           c.value(QStringLiteral("transport")).toString(),
                           c.value(QStringLiteral("holder")).toString());
        out.append(QStringLiteral("conflict: ") + msg);
    }
    return out;
}

} // namespace portico::ctl

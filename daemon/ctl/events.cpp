#include "events.h"

#include "format.h"
#include "manifestfile.h"

#include <QJsonArray>

namespace portico::ctl {

namespace {

QString str(const QJsonObject &o, const char *key) {
    return o.value(QLatin1String(key)).toString();
}

QString stateSentence(const QString &project, const QString &state, const QString &reason,
                      const Style &style) {
    const QString why = cellText(reason);
    const QString s = style.state(state);
    const auto with = [&](const QString &sentence) {
        return reason.trimmed().isEmpty() ? sentence : sentence + QStringLiteral(": ") + why;
    };
    if (state == QLatin1String("active"))
        return QStringLiteral("%1 is %2").arg(project, s);
    if (state == QLatin1String("starting"))
        return QStringLiteral("%1 is %2").arg(project, s);
    if (state == QLatin1String("backoff"))
        return with(QStringLiteral("%1 is in %2").arg(project, s));
    if (state == QLatin1String("crashed") || state == QLatin1String("failed") ||
        state == QLatin1String("stopped"))
        return with(QStringLiteral("%1 %2").arg(project, s));
    return with(QStringLiteral("%1 is %2").arg(project, s));
}

QStringList labels(const QJsonArray &specs) {
    QStringList out;
    for (const auto &v : specs)
        out.append(listenLabel(v.toObject()));
    return out;
}

} // namespace

QString eventSentence(const QString &kind, const QJsonObject &data, const Style &style) {
    const QString project = str(data, "project");
    if (kind == QLatin1String("project.deployed")) {
        const QString changes = diffSummary(data.value(QStringLiteral("diff")).toObject(), project);
        return changes.isEmpty() ? QStringLiteral("deployed %1").arg(project)
                                 : QStringLiteral("deployed %1: %2").arg(project, changes);
    }
    if (kind == QLatin1String("project.undeployed"))
        return QStringLiteral("undeployed %1").arg(project);
    if (kind == QLatin1String("project.state"))
        return stateSentence(project, str(data, "state"), str(data, "reason"), style);
    if (kind == QLatin1String("deploy.refused")) {
        QStringList why = refusalLines(data);
        if (why.isEmpty())
            why.append(cellText(str(data, "message")));
        return QStringLiteral("deploy of %1 %2: %3")
            .arg(project, style.paint(QStringLiteral("refused"), Color::Red), why.join(QStringLiteral("; ")));
    }
    if (kind == QLatin1String("route.conflict"))
        return QStringLiteral("%1 cannot have port %2/%3: %4")
            .arg(project, compact(data.value(QStringLiteral("port"))), str(data, "transport"),
                 cellText(str(data, "reason")));
    if (kind == QLatin1String("routes.changed"))
        return QStringLiteral("the routing table changed: %1 route(s)")
            .arg(data.value(QStringLiteral("routes")).toArray().size());
    if (kind == QLatin1String("project.log")) {
        const QString stream = str(data, "stream");
        const QString text = str(data, "text");
        if (stream == QLatin1String("stderr"))
            return QStringLiteral("%1 (stderr): %2").arg(project, style.paint(text, Color::Red));
        if (stream == QLatin1String("portico"))
            return QStringLiteral("%1: %2").arg(project, style.paint(text, Color::Dim));
        return QStringLiteral("%1: %2").arg(project, text);
    }
    if (kind == QLatin1String("stats.tick"))
        return QStringLiteral("stats for %1 route(s)")
            .arg(data.value(QStringLiteral("routes")).toArray().size());
    return QStringLiteral("%1 %2").arg(kind, compact(data));
}

QString eventLine(const QString &kind, const QJsonObject &data, const QDateTime &time, const Style &style) {
    return clockTime(time) + QStringLiteral("  ") + eventSentence(kind, data, style);
}

QStringList diffLines(const QJsonObject &diff, const QString &project, const Style &style) {
    QStringList plus, minus, same;
    for (const auto &l : labels(diff.value(QStringLiteral("added")).toArray()))
        plus.append(style.paint(QStringLiteral("+ bind ") + l, Color::Green));
    for (const auto &l : labels(diff.value(QStringLiteral("removed")).toArray()))
        minus.append(style.paint(QStringLiteral("- release ") + l, Color::Red));
    for (const auto &l : labels(diff.value(QStringLiteral("kept")).toArray()))
        same.append(style.paint(QStringLiteral("= keep ") + l, Color::Dim));
    const bool before = diff.value(QStringLiteral("path_route_before")).toBool();
    const bool after = diff.value(QStringLiteral("path_route_after")).toBool();
    const QString path = QStringLiteral("/%1/").arg(project);
    if (after && !before)
        plus.append(style.paint(QStringLiteral("+ route ") + path, Color::Green));
    else if (before && !after)
        minus.append(style.paint(QStringLiteral("- release ") + path, Color::Red));
    else if (before && after)
        same.append(style.paint(QStringLiteral("= keep ") + path, Color::Dim));
    return plus + minus + same;
}

QString diffSummary(const QJsonObject &diff, const QString &project) {
    QStringList parts;
    for (const auto &l : labels(diff.value(QStringLiteral("added")).toArray()))
        parts.append(QStringLiteral("+ ") + l);
    for (const auto &l : labels(diff.value(QStringLiteral("removed")).toArray()))
        parts.append(QStringLiteral("- ") + l);
    const bool before = diff.value(QStringLiteral("path_route_before")).toBool();
    const bool after = diff.value(QStringLiteral("path_route_after")).toBool();
    if (after && !before)
        parts.append(QStringLiteral("+ /%1/").arg(project));
    else if (before && !after)
        parts.append(QStringLiteral("- /%1/").arg(project));
    return parts.join(QStringLiteral(", "));
}

QString logLineText(const QJsonObject &line, const Style &style) {
    const QString stream = str(line, "stream");
    const QString text = str(line, "text");
    const QString head = dateTimeMs(parseTime(line.value(QStringLiteral("time")))) + QLatin1Char(' ') +
                         stream.leftJustified(7) + QLatin1Char(' ');
    if (stream == QLatin1String("stderr"))
        return style.paint(head + text, Color::Red);
    if (stream == QLatin1String("portico"))
        return style.paint(head + text, Color::Dim);
    return head + text;
}

} // namespace portico::ctl

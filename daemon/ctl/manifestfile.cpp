#include "manifestfile.h"

#include "format.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace portico::ctl {

bool ManifestFile::read(const QString &arg, ManifestFile *out, QString *headline, QStringList *context) {
    QString path = arg;
    const QFileInfo given(arg);
    if (!given.exists()) {
        *headline = QStringLiteral("%1: no such file or folder").arg(arg);
        return false;
    }
    if (given.isDir()) {
        path = QDir(arg).filePath(QStringLiteral("portico.json"));
        if (!QFileInfo::exists(path)) {
            *headline = QStringLiteral("%1: a folder without a portico.json").arg(arg);
            return false;
        }
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *headline = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
        return false;
    }
    if (f.size() > kMaxBytes) {
        *headline = QStringLiteral("%1: over %2 bytes; not a manifest").arg(path).arg(kMaxBytes);
        return false;
    }
    out->path = path;
    out->dir = QFileInfo(path).absolutePath();
    out->bytes = f.read(kMaxBytes);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(out->bytes, &pe);
    if (pe.error != QJsonParseError::NoError) {
        const TextPosition where = jsonErrorPosition(out->bytes, pe);
        *headline = QStringLiteral("%1: invalid JSON at %2: %3")
                        .arg(path, where.toString(), jsonErrorText(out->bytes, pe));
        *context = sourceExcerpt(where);
        return false;
    }
    if (!doc.isObject()) {
        *headline =
            QStringLiteral("%1: a manifest is a JSON object, not %2")
                .arg(path, doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a single value"));
        return false;
    }
    out->object = doc.object();
    return true;
}

TextPosition ManifestFile::locate(const QString &jsonPath) const {
    if (!m_scanned) {
        m_offsets = jsonPathOffsets(bytes);
        m_scanned = true;
    }
    QString p = jsonPath;
    while (!p.isEmpty()) {
        const auto it = m_offsets.constFind(p);
        if (it != m_offsets.constEnd())
            return positionAt(bytes, *it);
        // "listen[1].port" -> "listen[1]" -> "listen"
        const qsizetype cut = qMax(p.lastIndexOf(QLatin1Char('.')), p.lastIndexOf(QLatin1Char('[')));
        p = cut > 0 ? p.left(cut) : QString();
    }
    return {};
}

QString ManifestFile::listenPath(int port, const QString &transport) const {
    const auto matches = [&](const QJsonValue &v) {
        const QJsonObject l = v.toObject();
        const bool udp = l.value(QStringLiteral("protocol")).toString() == QLatin1String("udp");
        return l.value(QStringLiteral("port")).toInt() == port &&
               (udp ? QStringLiteral("udp") : QStringLiteral("tcp")) == transport;
    };
    const QJsonValue listen = object.value(QStringLiteral("listen"));
    if (listen.isObject())
        return matches(listen) ? QStringLiteral("listen") : QString();
    const QJsonArray a = listen.toArray();
    for (int i = 0; i < a.size(); ++i)
        if (matches(a.at(i)))
            return QStringLiteral("listen[%1]").arg(i);
    return {};
}

QStringList refusalLines(const QJsonObject &data, const ManifestFile *file) {
    QStringList out;
    const auto where = [file](const QString &path) {
        const TextPosition p = file && !path.isEmpty() ? file->locate(path) : TextPosition{};
        return p.isValid() ? QStringLiteral(" (%1)").arg(p.toString()) : QString();
    };
    for (const auto &v : data.value(QStringLiteral("errors")).toArray()) {
        const QJsonObject e = v.toObject();
        const QString path = e.value(QStringLiteral("path")).toString();
        const QString msg = e.value(QStringLiteral("message")).toString();
        out.append(QStringLiteral("error: ") + (path.isEmpty() ? msg : path + QStringLiteral(": ") + msg) +
                   where(path));
    }
    for (const auto &v : data.value(QStringLiteral("conflicts")).toArray()) {
        const QJsonObject c = v.toObject();
        const QString port = compact(c.value(QStringLiteral("port")));
        const QString transport = c.value(QStringLiteral("transport")).toString();
        const QString path = file ? file->listenPath(port.toInt(), transport) : QString();
        QString msg = c.value(QStringLiteral("message")).toString();
        if (msg.isEmpty())
            msg = QStringLiteral("port %1/%2 is already bound by %3")
                      .arg(port, transport, c.value(QStringLiteral("holder")).toString());
        out.append(QStringLiteral("conflict: ") +
                   (path.isEmpty() ? msg : path + QStringLiteral(": ") + msg + where(path)));
    }
    return out;
}

QStringList sourceExcerpt(const TextPosition &p) {
    if (!p.isValid())
        return {};
    const QString number = QString::number(p.line);
    const QString gutter = QString(number.size() + 2, QLatin1Char(' ')); // " 12 " is as wide
    // Keep the line's tabs under the caret so that it lines up in any tab width.
    QString lead;
    const QString before = p.lineText.left(p.column - 1);
    for (const QChar c : before)
        lead += c == QLatin1Char('\t') ? c : QLatin1Char(' ');
    return {QStringLiteral(" %1 | %2").arg(number, p.lineText),
            gutter + QStringLiteral("| ") + lead + QLatin1Char('^')};
}

} // namespace portico::ctl

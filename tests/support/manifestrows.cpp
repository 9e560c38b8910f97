#include "manifestrows.h"

#include <QFile>
#include <QJsonDocument>

namespace portico::test {

QJsonArray manifestRows(const QString &kind) {
    QFile f(QStringLiteral(PORTICO_SOURCE_DIR "/tests/data/manifests.json"));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(f.fileName()));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError)
        qFatal("%s: %s", qPrintable(f.fileName()), qPrintable(pe.errorString()));
    return doc.object().value(kind).toArray();
}

QByteArray manifestRowBytes(const QJsonObject &row) {
    if (row.contains(QStringLiteral("text")))
        return row.value(QStringLiteral("text")).toString().toUtf8();
    if (row.contains(QStringLiteral("name")) && !row.contains(QStringLiteral("manifest")))
        return QJsonDocument(QJsonObject{{QStringLiteral("name"), row.value(QStringLiteral("name"))},
                                         {QStringLiteral("runtime"), QStringLiteral("static")},
                                         {QStringLiteral("entry"), QStringLiteral("www")}})
            .toJson(QJsonDocument::Compact);
    const QJsonValue m = row.value(QStringLiteral("manifest"));
    return m.isArray() ? QJsonDocument(m.toArray()).toJson(QJsonDocument::Compact)
                       : QJsonDocument(m.toObject()).toJson(QJsonDocument::Compact);
}

} // namespace portico::test

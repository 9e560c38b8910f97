#include "projectstore.h"

#include "statefile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cerrno>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcStore, "portico.store", QtInfoMsg)

namespace portico {

namespace {
constexpr qint64 kMaxFileBytes = 1024 * 1024;
const QString kSuffix = QStringLiteral(".json");
} // namespace

ProjectStore::ProjectStore(const QString &stateDir)
    : m_stateDir(stateDir), m_dir(stateDir + QStringLiteral("/projects")) {}

QString ProjectStore::fileFor(const QString &name) const {
    return m_dir + QLatin1Char('/') + name + kSuffix;
}

QByteArray ProjectStore::serialize(const StoredProject &project) {
    QJsonObject o{{QStringLiteral("manifest"), project.manifest.toJson()},
                  {QStringLiteral("source_dir"), project.sourceDir},
                  {QStringLiteral("format"), 1}};
    return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

std::optional<StoredProject> ProjectStore::deserialize(const QByteArray &data, QString *error) {
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = QStringLiteral("not valid JSON at byte %1: %2").arg(pe.offset).arg(pe.errorString());
        return std::nullopt;
    }
    if (!doc.isObject() || !doc.object().value(QStringLiteral("manifest")).isObject()) {
        *error = QStringLiteral("not a stored project (no \"manifest\" object)");
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    const auto parsed = Manifest::parse(o.value(QStringLiteral("manifest")));
    if (!parsed.ok()) {
        *error = QStringLiteral("invalid manifest: ") +
                 parsed.errorText().replace(QLatin1Char('\n'), QStringLiteral("; "));
        return std::nullopt;
    }
    StoredProject p;
    p.manifest = *parsed.manifest;
    p.sourceDir = o.value(QStringLiteral("source_dir")).toString();
    return p;
}

void ProjectStore::quarantine(const QString &file, const QString &reason, QStringList *problems) {
    const QString qdir = m_dir + QStringLiteral("/quarantine");
    QDir().mkpath(qdir);
    const QString target = qdir + QLatin1Char('/') + QFileInfo(file).fileName() + QLatin1Char('.') +
                           QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddThhmmsszzz"));
    QString line;
    if (QFile::rename(file, target))
        line = QStringLiteral("%1: %2 (moved to %3)").arg(file, reason, target);
    else
        line = QStringLiteral("%1: %2 (could not be moved aside; left in place)").arg(file, reason);
    qCWarning(lcStore).noquote() << line;
    if (problems)
        problems->append(line);
}

QList<StoredProject> ProjectStore::loadAll(QStringList *problems) {
    QList<StoredProject> out;
    QDir dir(m_dir);
    if (!dir.exists())
        return out;
    const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString &fileName : files) {
        const QString path = dir.filePath(fileName);
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            const QString line = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
            qCWarning(lcStore).noquote() << line;
            if (problems)
                problems->append(line);
            continue;
        }
        if (f.size() > kMaxFileBytes) {
            f.close();
            quarantine(path, QStringLiteral("larger than %1 bytes").arg(kMaxFileBytes), problems);
            continue;
        }
        const QByteArray data = f.readAll();
        f.close();
        QString error;
        auto p = deserialize(data, &error);
        if (!p) {
            quarantine(path, error, problems);
            continue;
        }
        const QString expected = p->manifest.name + kSuffix;
        if (fileName != expected) {
            quarantine(
                path,
                QStringLiteral("holds project '%1' but is not named %2").arg(p->manifest.name, expected),
                problems);
            continue;
        }
        out.append(*p);
    }
    return out;
}

bool ProjectStore::save(const StoredProject &project, QString *error) {
    // The error reads as the end of "cannot save project state: ...".
    const auto fail =
        [&](const QString &detail, int e) {
            qCWarning(lcStore).noquote()
                << QStringLiteral("cannot save project '%1': %2").arg(project.manifest.name, detail);
            if (error)
                *error = QStringLiteral("%1 (state dir %2)").arg(errnoSentence(e), m_stateDir);
            return false;
        };
    if (!QDir().mkpath(m_dir))
        return fail(QStringLiteral("cannot create %1").arg(m_dir), errno ? errno : EIO);
    QString detail;
    if (!writeFileAtomically(fileFor(project.manifest.name), serialize(project), 0600, &detail))
        return fail(detail, errno);
    return true;
}

bool ProjectStore::remove(const QString &name, QString *error) {
    const QByteArray path = QFile::encodeName(fileFor(name));
    if (::unlink(path.constData()) == 0 || errno == ENOENT)
        return true;
    const int e = errno;
    qCWarning(lcStore).noquote()
        << QStringLiteral("cannot remove %1: %2").arg(fileFor(name), errnoSentence(e));
    if (error)
        *error = QStringLiteral("%1 (state dir %2)").arg(errnoSentence(e), m_stateDir);
    return false;
}

QByteArray ProjectStore::rawFile(const QString &name) const {
    QFile f(fileFor(name));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

} // namespace portico

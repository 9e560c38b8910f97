#pragma once

#include "manifest.h"

#include <QLoggingCategory>
#include <QString>
#include <QStringList>

Q_DECLARE_LOGGING_CATEGORY(lcStore)

namespace portico {

// A deployed project as persisted: its manifest and the folder its relative paths
// resolve against.
struct StoredProject {
    Manifest manifest;
    QString sourceDir;
    friend bool operator==(const StoredProject &, const StoredProject &) = default;
};

// Deployed manifests under <stateDir>/projects, one JSON file per project (mode 0600),
// each written atomically (writeFileAtomically: a temporary, every write checked,
// fdatasync, rename, fsync of the folder), so neither a crash nor a full disk ever leaves
// a half file: a save that fails leaves the previous file as it was. A corrupt or invalid file found at load
// is reported by name and moved aside to <stateDir>/projects/quarantine/, never deleted.
class ProjectStore {
public:
    explicit ProjectStore(const QString &stateDir);

    QString directory() const { return m_dir; }
    QString fileFor(const QString &name) const;

    // Every valid project, sorted by name. Problems go to *problems, one line each
    // ("<file>: <reason> (moved to <path>)").
    QList<StoredProject> loadAll(QStringList *problems);
    // False with *error "no space left on device (state dir /var/lib/portico)": the
    // reason and where, to follow "cannot save project state: ".
    bool save(const StoredProject &project, QString *error);
    bool remove(const QString &name, QString *error);
    // The raw bytes of a project's file, empty if none (for tests and atomic rollback).
    QByteArray rawFile(const QString &name) const;

    static QByteArray serialize(const StoredProject &project);
    static std::optional<StoredProject> deserialize(const QByteArray &data, QString *error);

private:
    void quarantine(const QString &file, const QString &reason, QStringList *problems);
    QString m_stateDir;
    QString m_dir;
};

} // namespace portico

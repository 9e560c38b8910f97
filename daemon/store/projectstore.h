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

// Deployed manifests under <stateDir>/projects, one JSON file per project, each written
// atomically (QSaveFile: write a temporary, fsync, rename), so a crash mid-write never
// leaves a half file. A corrupt or invalid file found at load is reported by name and
// moved aside to <stateDir>/projects/quarantine/, never deleted.
class ProjectStore {
public:
    explicit ProjectStore(const QString &stateDir);

    QString directory() const { return m_dir; }
    QString fileFor(const QString &name) const;

    // Every valid project, sorted by name. Problems go to *problems, one line each
    // ("<file>: <reason> (moved to <path>)").
    QList<StoredProject> loadAll(QStringList *problems);
    bool save(const StoredProject &project, QString *error);
    bool remove(const QString &name, QString *error);
    // The raw bytes of a project's file, empty if none (for tests and atomic rollback).
    QByteArray rawFile(const QString &name) const;

    static QByteArray serialize(const StoredProject &project);
    static std::optional<StoredProject> deserialize(const QByteArray &data, QString *error);

private:
    bool ensureDir(QString *error) const;
    void quarantine(const QString &file, const QString &reason, QStringList *problems);
    QString m_dir;
};

} // namespace portico

#pragma once

#include <QByteArray>
#include <QString>

namespace portico {

// Every write of the daemon's state goes through here, and every step's result is
// checked: a full disk, a read-only or a too-small filesystem is reported in plain
// words ("no space left on device") and never leaves a half-written file in place.

// The errno sentence in lower case, as it reads inside a longer one.
QString errnoSentence(int error);

// Replaces `path` with `data` atomically: a temporary file beside it (mode `mode`), every
// byte written, fdatasync, rename over `path`, fsync of the folder. On failure `path` is
// as it was and *error says which step failed and why.
bool writeFileAtomically(const QString &path, const QByteArray &data, int mode, QString *error);

// An append-only log file (audit log, a backend's output) that rotates to `<path>.1` past
// maxBytes and checks every write. Failures are reported to the caller, who decides how
// loudly to say so; the file is reopened on the next append after a failure.
class AppendFile {
    Q_DISABLE_COPY_MOVE(AppendFile)
public:
    AppendFile(const QString &path, qint64 maxBytes, int mode = 0600);
    ~AppendFile();

    QString path() const { return m_path; }
    // Appends every byte of data (with rotation first when the file is over its size).
    bool append(const QByteArray &data, QString *error);
    // Is the file failing now (the last append did not get through)?
    bool failing() const { return m_failing; }

private:
    bool open(QString *error);
    void close();
    QString m_path;
    qint64 m_maxBytes;
    int m_mode;
    int m_fd = -1;
    qint64 m_size = 0;
    bool m_failing = false;
    bool m_needNewline = false;
};

} // namespace portico

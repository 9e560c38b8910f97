#pragma once

// Helpers for tests that hold a deploy in progress: a process project whose backend only
// starts listening once a gate file exists in the daemon's folder, opened by the test
// (never a clock), and the names of the projects a daemon runs.
#include "daemonfixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>

namespace portico::test {

// HTTP on PORT and an echo on every other PORT_<n> (each listen entry has a port of its
// own), once the gate is open.
inline QJsonObject gatedManifest(const QString &name, const QString &gate, const QJsonValue &listen = {}) {
    QJsonObject m{
        {QStringLiteral("name"), name},
        {QStringLiteral("runtime"), QStringLiteral("process")},
        {QStringLiteral("command"),
         QJsonArray{QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                    QStringLiteral("while [ ! -e %1 ]; do sleep 0.05; done; exec \"$0\" every-port --name %2")
                        .arg(gate, name),
                    QStringLiteral(TESTBACKEND_PATH)}}};
    if (!listen.isUndefined() && !listen.isNull())
        m.insert(QStringLiteral("listen"), listen);
    return m;
}

// Lets the gated backend start; false when the file cannot be made.
inline bool openGate(const DaemonFixture &d, const QString &gate) {
    QFile f(QDir(d.dir()).filePath(gate));
    return f.open(QIODevice::WriteOnly);
}

inline QStringList projectNames(const DaemonFixture &d) {
    QStringList out;
    const QJsonArray projects =
        d.call(QStringLiteral("projects.list")).value("result").toObject().value("projects").toArray();
    for (const auto &p : projects)
        out << p.toObject().value(QStringLiteral("name")).toString();
    return out;
}

} // namespace portico::test

#pragma once

// Helpers shared by the dashboard's tests (header only: tests/dashboard holds no library).

#include "adminclient.h"
#include "daemonfixture.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace portico::test {

// A manifest for an upstream backend: path-routed, or on its own port when listenPort
// is set.
inline QByteArray upstreamManifest(const QString &name, quint16 upstreamPort, quint16 listenPort = 0,
                                   const QString &protocol = QStringLiteral("http")) {
    QJsonObject m{{QStringLiteral("name"), name},
                  {QStringLiteral("runtime"), QStringLiteral("upstream")},
                  {QStringLiteral("upstream"), QStringLiteral("127.0.0.1:%1").arg(upstreamPort)}};
    if (listenPort)
        m.insert(QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), int(listenPort)},
                                                       {QStringLiteral("protocol"), protocol}});
    return QJsonDocument(m).toJson(QJsonDocument::Compact);
}

// An AdminClient to the fixture's daemon that reconnects quickly and subscribes to every
// event on its first connect, before anything created after it sends a request (as
// MainWindow does). Not yet connected: call connectToDaemon() once the models exist.
inline std::unique_ptr<AdminClient> makeClient(const DaemonFixture &daemon) {
    auto client = std::make_unique<AdminClient>();
    client->setSocketPath(daemon.socketPath());
    client->setAutoReconnect(true, 100, 1000);
    AdminClient *c = client.get();
    QObject::connect(
        c, &AdminClient::connected, c, [c] { c->subscribe(); }, Qt::SingleShotConnection);
    return client;
}

inline bool isOk(const QJsonObject &reply) {
    return reply.contains(QStringLiteral("result"));
}

// QSettings of the dashboard (window sizes, recent manifests) in a directory of the test's
// own, never the user's: keep the returned directory alive for the test's duration.
inline std::unique_ptr<QTemporaryDir> isolateSettings() {
    auto dir = std::make_unique<QTemporaryDir>();
    QCoreApplication::setOrganizationName(QStringLiteral("portico-test"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir->path());
    return dir;
}

// A manifest file in dir (created with its folder); its path, or empty when it cannot be
// written.
inline QString writeFile(const QString &path, const QByteArray &content) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size())
        return {};
    return path;
}

// The daemon's protocol version (daemon.info), 0 when it does not answer.
inline int protocolVersion(const DaemonFixture &daemon) {
    return daemon.call(QStringLiteral("daemon.info"))
        .value(QStringLiteral("result"))
        .toObject()
        .value(QStringLiteral("protocol_version"))
        .toInt();
}

} // namespace portico::test

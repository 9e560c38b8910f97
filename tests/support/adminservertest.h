#pragma once

// What the admin server tests share: a raw client over the admin socket, and the base of
// the test classes (a temp dir, a FakeAdminApi with one project, a Config whose socket and
// state live in the temp dir, and startServer()). The server lives in the test's thread:
// every wait spins its event loop.
#include "admin/adminserver.h"
#include "config/config.h"
#include "fakeadminapi.h"
#include "jsonrpc.h"

#include <QFile>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace portico::test {

// A test-side client speaking raw lines, waiting by spinning the event loop (the server
// lives in this thread too).
class RawClient {
public:
    explicit RawClient(const QString &path) { m_socket.connectToServer(path); }
    bool waitConnected() {
        return QTest::qWaitFor([&] { return m_socket.state() == QLocalSocket::ConnectedState; }, 5000);
    }
    void write(const QByteArray &bytes) { m_socket.write(bytes); }
    void request(const QJsonValue &id, const QString &method, const QJsonObject &params = {}) {
        write(jsonrpc::Message::request(id, method, params).serialize());
    }
    // The next message, or nullopt after the timeout.
    std::optional<jsonrpc::Message> next(int timeoutMs = 5000) {
        if (!QTest::qWaitFor([&] { return m_socket.canReadLine(); }, timeoutMs))
            return std::nullopt;
        return jsonrpc::Message::parse(m_socket.readLine());
    }
    bool waitDisconnected() {
        return QTest::qWaitFor([&] { return m_socket.state() == QLocalSocket::UnconnectedState; }, 5000);
    }
    QLocalSocket &socket() { return m_socket; }

private:
    QLocalSocket m_socket;
};

inline int rawConnect(const QString &path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(path);
    memcpy(addr.sun_path, p.constData(), size_t(p.size()));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline mode_t modeOf(const QString &path) {
    struct stat st {};
    ::lstat(QFile::encodeName(path).constData(), &st);
    return st.st_mode & 07777;
}

class AdminServerTestBase : public QObject {
protected:
    void setUpServer() {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_api = std::make_unique<FakeAdminApi>();
        m_api->addProject(QStringLiteral("my-api"), 3000);
        m_config = Config();
        m_config.adminSocket = m_dir->filePath(QStringLiteral("run/portico/admin.sock"));
        m_config.stateDir = m_dir->filePath(QStringLiteral("state"));
    }
    void tearDownServer() {
        m_api.reset();
        m_dir.reset();
    }
    std::unique_ptr<AdminServer> startServer(QString *error = nullptr) {
        auto server = std::make_unique<AdminServer>(m_config, m_api.get());
        QString e;
        if (!server->listen(&e)) {
            if (error)
                *error = e;
            else
                qWarning() << "listen failed:" << e;
            return nullptr;
        }
        return server;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<FakeAdminApi> m_api;
    Config m_config;
};

} // namespace portico::test

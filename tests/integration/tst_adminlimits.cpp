// The admin server's limits and who may connect, over its real socket with a FakeAdminApi
// behind it: operations in flight per connection, many clients, admin_max_clients and the
// slot kept for operators, the idle timeout, and the peer check (SO_PEERCRED, admin_group).
#include "adminservertest.h"
#include "privileges.h"
#include "protocol.h"
#include "skips.h"

#include <QTest>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace portico;
using namespace portico::test;
using jsonrpc::Message;
namespace err = protocol::error;

class TestAdminLimits final : public AdminServerTestBase {
    Q_OBJECT
private Q_SLOTS:
    void init() { setUpServer(); }
    void cleanup() { tearDownServer(); }
    void inFlightLimit();
    void hundredConcurrentClients();
    void clientLimit();
    void clientLimitOperatorReplacesTheLongestIdle();
    void clientLimitGroupMemberGetsNoOperatorSlot();
    void idleConnectionCloses();
    void otherUidIsRefused_data();
    void otherUidIsRefused();
};

void TestAdminLimits::inFlightLimit() {
    m_api->m_holdReplies = true;
    auto server = startServer();
    QVERIFY(server);
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    for (int i = 0; i < 65; ++i)
        c.request(i, "projects.restart", {{"name", "my-api"}});
    const auto busy = c.next();
    QVERIFY(busy && busy->isError());
    QCOMPARE(busy->errorCode(), err::Busy);
    QCOMPARE(busy->id(), QJsonValue(64));
    QCOMPARE(m_api->m_heldReplies.size(), 64);
    // One answer frees one slot.
    m_api->m_heldReplies.first()(ApiResult::success(QJsonObject()));
    const auto first = c.next();
    QVERIFY(first && first->isResponse());
    QCOMPARE(first->id(), QJsonValue(0));
    c.request(100, "projects.restart", {{"name", "my-api"}});
    QTRY_COMPARE(m_api->m_heldReplies.size(), 65);
    // Queries never wait on slow operations.
    c.request(101, "daemon.info");
    const auto info = c.next();
    QVERIFY(info && info->isResponse());
}

void TestAdminLimits::hundredConcurrentClients() {
    auto server = startServer();
    QVERIFY(server);
    constexpr int kClients = 100;
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < kClients; ++i)
        clients.push_back(std::make_unique<RawClient>(m_config.adminSocket));
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(clients.begin(), clients.end(), [](const auto &c) {
                return c->socket().state() == QLocalSocket::ConnectedState;
            });
        },
        10000));
    QTRY_COMPARE_WITH_TIMEOUT(server->clientCount(), kClients, 10000);
    for (int i = 0; i < kClients; ++i) {
        clients[i]->request(i, "daemon.info");
        clients[i]->request(i + 1000, "routes.list");
    }
    for (int i = 0; i < kClients; ++i) {
        const auto a = clients[i]->next(10000);
        const auto b = clients[i]->next(10000);
        QVERIFY(a && b);
        QCOMPARE(a->id(), QJsonValue(i));
        QCOMPARE(b->id(), QJsonValue(i + 1000));
        QVERIFY(b->isResponse());
    }
    clients.clear();
    QTRY_COMPARE_WITH_TIMEOUT(server->clientCount(), 0, 10000);
}

void TestAdminLimits::clientLimit() {
    // Busy connections (subscribed) fill admin_max_clients and the one slot kept for the
    // daemon's own user (this test is that user); the next one is refused.
    m_config.adminMaxClients = 3;
    auto server = startServer();
    QVERIFY(server);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<RawClient>(m_config.adminSocket));
        QVERIFY(clients.back()->waitConnected());
        clients.back()->request(i, "events.subscribe");
        const auto r = clients.back()->next();
        QVERIFY2(r && r->isResponse(), "each of max + 1 gets in");
    }
    QTRY_COMPARE(server->clientCount(), 4);
    RawClient extra(m_config.adminSocket);
    const auto e = extra.next();
    QVERIFY(e && e->isError());
    QCOMPARE(e->errorCode(), err::Busy);
    QCOMPARE(e->errorMessage(), QStringLiteral("too many admin clients (max 3)"));
    QVERIFY(extra.waitDisconnected());
    // Those inside are still served.
    clients.front()->request(1, "daemon.info");
    QVERIFY(clients.front()->next().has_value());
    QCOMPARE(server->clientCount(), 4);
}

void TestAdminLimits::clientLimitOperatorReplacesTheLongestIdle() {
    // Idle connections hold every slot: the daemon's own user still gets in, and the one
    // idle the longest makes room.
    m_config.adminMaxClients = 2;
    auto server = startServer();
    QVERIFY(server);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<RawClient>(m_config.adminSocket));
        QVERIFY(clients.back()->waitConnected());
        QTRY_COMPARE(server->clientCount(), i + 1);
    }
    RawClient op(m_config.adminSocket);
    QVERIFY(op.waitConnected());
    op.request(1, "daemon.info");
    const auto r = op.next();
    QVERIFY(r && r->isResponse());
    QVERIFY(clients.front()->waitDisconnected());
    QCOMPARE(clients[1]->socket().state(), QLocalSocket::ConnectedState);
    QCOMPARE(clients[2]->socket().state(), QLocalSocket::ConnectedState);
    QCOMPARE(server->clientCount(), 3);
}

void TestAdminLimits::clientLimitGroupMemberGetsNoOperatorSlot() {
    // The slot past admin_max_clients is for root and the daemon's own user only: a member
    // of admin_group meets the limit itself, with 1007 and its message, then the close.
    PORTICO_REQUIRE(::geteuid() == 0,
                    "root, to fork a child that drops to uid 65534 (nobody); CI runs as root");
    const group *nogroup = ::getgrnam("nogroup");
    PORTICO_REQUIRE(nogroup && nogroup->gr_gid == portico::test::kNobody,
                    "a group 'nogroup' with gid 65534 (Debian has one)");
    m_config.adminGroup = QStringLiteral("nogroup");
    m_config.adminMaxClients = 1;
    // The temp dir is 0700 root: let nobody traverse to the socket's directory.
    ::chmod(QFile::encodeName(m_dir->path()).constData(), 0755);
    auto server = startServer();
    QVERIFY(server);
    ::chmod(QFile::encodeName(m_dir->filePath("run")).constData(), 0755);
    RawClient inside(m_config.adminSocket);
    QVERIFY(inside.waitConnected());
    inside.request(1, "events.subscribe");
    QVERIFY(inside.next().has_value());
    QTRY_COMPARE(server->clientCount(), 1);
    const QByteArray path = QFile::encodeName(m_config.adminSocket);
    QByteArray answer;
    // Child exit codes: 0 read a line then end of stream, 1 no connection, 2 no line,
    // 3 the line but no close after it.
    const int code = portico::test::runAsNobody(
        [&path](QByteArray *out) {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            memcpy(addr.sun_path, path.constData(), size_t(path.size()));
            if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0)
                return 1;
            for (;;) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 5000) != 1)
                    return out->contains('\n') ? 3 : 2;
                char buf[512];
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0)
                    return out->contains('\n') ? 0 : 2;
                out->append(buf, n);
            }
        },
        &answer);
    QVERIFY2(code == 0,
             qPrintable(QStringLiteral("child exit %1, read '%2'").arg(code).arg(QString::fromUtf8(answer))));
    const auto e = Message::parse(answer.trimmed());
    QVERIFY2(e && e->isError(), answer.constData());
    QCOMPARE(e->errorCode(), err::Busy);
    QCOMPARE(e->errorMessage(), QStringLiteral("too many admin clients (max 1)"));
    QCOMPARE(e->id(), QJsonValue(QJsonValue::Null));
    QCOMPARE(server->clientCount(), 1);
    QCOMPARE(inside.socket().state(), QLocalSocket::ConnectedState);
}

void TestAdminLimits::idleConnectionCloses() {
    m_config.adminIdleTimeoutMs = 200;
    auto server = startServer();
    QVERIFY(server);
    RawClient idle(m_config.adminSocket);
    RawClient subscriber(m_config.adminSocket);
    QVERIFY(idle.waitConnected() && subscriber.waitConnected());
    subscriber.request(1, "events.subscribe");
    QVERIFY(subscriber.next().has_value());
    QVERIFY(idle.waitDisconnected());
    QTRY_COMPARE(server->clientCount(), 1);
    QCOMPARE(subscriber.socket().state(), QLocalSocket::ConnectedState);
}

void TestAdminLimits::otherUidIsRefused_data() {
    QTest::addColumn<QString>("group");
    QTest::addColumn<bool>("openModes"); // loosen the file modes so only SO_PEERCRED stands in the way
    QTest::addColumn<bool>("allowed");
    QTest::newRow("default-modes") << QString() << false << false;
    QTest::newRow("peercred-only") << QString() << true << false;
    QTest::newRow("admin-group-member") << QStringLiteral("nogroup") << false << true;
}

void TestAdminLimits::otherUidIsRefused() {
    QFETCH(QString, group);
    QFETCH(bool, openModes);
    QFETCH(bool, allowed);
    PORTICO_REQUIRE(::geteuid() == 0,
                    "root, to fork a child that drops to uid 65534 (nobody); CI runs as root");
    PORTICO_REQUIRE(group.isEmpty() || ::getgrnam(group.toLocal8Bit().constData()),
                    "a group 'nogroup' (Debian has one)");
    m_config.adminGroup = group;
    // The temp dir is 0700 root: let nobody traverse to the socket's directory.
    ::chmod(QFile::encodeName(m_dir->path()).constData(), 0755);
    auto server = startServer();
    QVERIFY(server);
    if (!group.isEmpty()) {
        QCOMPARE(modeOf(m_config.adminSocket), mode_t(0660));
        struct stat st {};
        ::stat(QFile::encodeName(m_config.adminSocket).constData(), &st);
        QCOMPARE(st.st_gid, ::getgrnam(group.toLocal8Bit().constData())->gr_gid);
    }
    ::chmod(QFile::encodeName(m_dir->filePath("run")).constData(), 0755);
    if (openModes) {
        ::chmod(QFile::encodeName(m_dir->filePath("run/portico")).constData(), 0755);
        ::chmod(QFile::encodeName(m_config.adminSocket).constData(), 0666);
    }
    const QByteArray path = QFile::encodeName(m_config.adminSocket);
    const QByteArray request = Message::request(1, "daemon.info").serialize();
    const gid_t gid = group.isEmpty() ? 65534 : ::getgrnam(group.toLocal8Bit().constData())->gr_gid;

    // Child exit codes: 10 connect refused by the file modes, 11 connected then closed
    // without a byte, 12 got an answer, 13 something else went wrong.
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0)
            ::_exit(13);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        memcpy(addr.sun_path, path.constData(), size_t(path.size()));
        if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0)
            ::_exit(errno == EACCES ? 10 : 13);
        ::signal(SIGPIPE, SIG_IGN);
        (void)!::write(fd, request.constData(), size_t(request.size()));
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 5000) != 1)
            ::_exit(13);
        char c;
        const ssize_t n = ::read(fd, &c, 1);
        ::_exit(n > 0 ? 12 : 11);
    }
    QVERIFY(pid > 0);
    int status = 0;
    // The server lives in this thread: keep its loop turning while the child tries.
    QVERIFY(QTest::qWaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 10000));
    QVERIFY(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    if (allowed) {
        QCOMPARE(code, 12);
    } else {
        QCOMPARE(code, openModes ? 11 : 10);
    }
    QTRY_COMPARE(server->clientCount(), 0);
    // The owner is still served.
    RawClient c(m_config.adminSocket);
    QVERIFY(c.waitConnected());
    c.request(2, "daemon.info");
    QVERIFY(c.next().has_value());
}

QTEST_GUILESS_MAIN(TestAdminLimits)
#include "tst_adminlimits.moc"

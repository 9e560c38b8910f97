// systemd readiness from a real porticod: a datagram socket of the test's stands in for
// systemd's NOTIFY_SOCKET and must receive READY=1 only after the persisted projects were
// started (a conflict does not hold it up), STATUS= with the counts, WATCHDOG=1 while
// WATCHDOG_USEC is set, and STOPPING=1 on SIGTERM.
#include "daemonfixture.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace portico::test;

namespace {

// The receiving end of the notification protocol, as systemd has it.
class NotifyReceiver {
public:
    explicit NotifyReceiver(const QString &path, bool abstract = false) {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const QByteArray native = path.toLocal8Bit();
        std::memcpy(addr.sun_path + (abstract ? 1 : 0), native.constData(), size_t(native.size()));
        const socklen_t len =
            socklen_t(offsetof(sockaddr_un, sun_path) + size_t(native.size()) + (abstract ? 1 : 1));
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), len) == 0;
        m_name = abstract ? QStringLiteral("@") + path : path;
    }
    ~NotifyReceiver() { ::close(m_fd); }
    bool bound() const { return m_bound; }
    QString name() const { return m_name; }

    // Datagrams until one contains `needle` (returned), or empty after timeoutMs. Every
    // datagram read is kept in received().
    QByteArray waitFor(const QByteArray &needle, int timeoutMs = 30000) {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, int(qMax<qint64>(1, deadline.remainingTime()))) <= 0)
                continue;
            char buf[4096];
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0)
                continue;
            const QByteArray datagram(buf, int(n));
            m_received.append(datagram);
            if (datagram.contains(needle))
                return datagram;
        }
        return {};
    }
    const QList<QByteArray> &received() const { return m_received; }

private:
    int m_fd = -1;
    bool m_bound = false;
    QString m_name;
    QList<QByteArray> m_received;
};

QByteArray statusOf(const QByteArray &datagram) {
    for (const QByteArray &line : datagram.split('\n'))
        if (line.startsWith("STATUS="))
            return line.mid(7);
    return {};
}

} // namespace

class TestSdNotify : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cleanup() {
        qunsetenv("NOTIFY_SOCKET");
        qunsetenv("WATCHDOG_USEC");
        qunsetenv("WATCHDOG_PID");
    }
    void readyAfterPersistedProjects_data();
    void readyAfterPersistedProjects();
    void withoutNotifySocketNothingIsSent();
};

void TestSdNotify::readyAfterPersistedProjects_data() {
    QTest::addColumn<bool>("abstract");
    QTest::newRow("socket path") << false;
    QTest::newRow("abstract socket") << true;
}

void TestSdNotify::readyAfterPersistedProjects() {
    QFETCH(bool, abstract);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString name = abstract ? QStringLiteral("portico-test-notify-%1").arg(::getpid())
                                  : tmp.filePath(QStringLiteral("notify"));
    NotifyReceiver systemd(name, abstract);
    QVERIFY(systemd.bound());

    // A first run persists two projects: one that serves, one whose port the test then holds.
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QTcpServer held;
    QVERIFY(held.listen(QHostAddress::LocalHost, 0));
    const quint16 heldPort = held.serverPort();
    held.close();
    QTcpServer upstream;
    QVERIFY(upstream.listen(QHostAddress::LocalHost, 0));
    QVERIFY(d.deploy(QStringLiteral(R"({"name":"up","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                         .arg(upstream.serverPort())
                         .toUtf8())
                .contains(QStringLiteral("result")));
    QVERIFY(
        d.deploy(QStringLiteral(
                     R"({"name":"busy","runtime":"upstream","upstream":"127.0.0.1:%1","listen":{"port":%2}})")
                     .arg(upstream.serverPort())
                     .arg(heldPort)
                     .toUtf8())
            .contains(QStringLiteral("result")));
    d.stop();
    QVERIFY(held.listen(QHostAddress::LocalHost, heldPort)); // now 'busy' starts in conflict

    // The second run is the service: NOTIFY_SOCKET and a watchdog of 300 ms.
    qputenv("NOTIFY_SOCKET", systemd.name().toLocal8Bit());
    qputenv("WATCHDOG_USEC", "300000");
    QVERIFY2(d.start(&why), qPrintable(why));
    const QByteArray ready = systemd.waitFor("READY=1");
    QVERIFY2(!ready.isEmpty(), d.output().constData());
    // Nothing but READY=1 (with its status) came first.
    QVERIFY2(systemd.received().size() == 1, systemd.received().join("|").constData());
    QCOMPARE(statusOf(ready),
             QByteArray("2 projects, 2 routes, 1 not active (1 conflict); ingress on port ") +
                 QByteArray::number(d.ingressPort()));
    // By the time READY=1 was sent, both persisted projects had been started.
    const QJsonArray projects = d.call(QStringLiteral("projects.list"))
                                    .value(QStringLiteral("result"))
                                    .toObject()
                                    .value(QStringLiteral("projects"))
                                    .toArray();
    QCOMPARE(projects.size(), 2);

    // The watchdog pings at half WATCHDOG_USEC.
    QVERIFY(!systemd.waitFor("WATCHDOG=1", 10000).isEmpty());
    QVERIFY(!systemd.waitFor("WATCHDOG=1", 10000).isEmpty());

    // STATUS follows the routes.
    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("busy")}})
                .contains(QStringLiteral("result")));
    const QByteArray status = systemd.waitFor("STATUS=1 project, 1 route;");
    QVERIFY2(!status.isEmpty(), systemd.received().join("|").constData());

    d.stop();
    QVERIFY(!systemd.waitFor("STOPPING=1", 10000).isEmpty());
}

void TestSdNotify::withoutNotifySocketNothingIsSent() {
    // A daemon started without NOTIFY_SOCKET must not look for one, and one with a
    // NOTIFY_SOCKET nobody listens on must still run.
    QTemporaryDir tmp;
    qputenv("NOTIFY_SOCKET", QFile::encodeName(tmp.filePath(QStringLiteral("nobody-listens"))));
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains("cannot notify"), 10000);
    QVERIFY(d.call(QStringLiteral("daemon.info")).contains(QStringLiteral("result")));
}

QTEST_GUILESS_MAIN(TestSdNotify)
#include "tst_sdnotify.moc"

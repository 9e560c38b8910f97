// The data plane under descriptor and memory pressure, against a real porticod: flooded
// past its descriptor limit it rests instead of spinning and serves again once the flood
// ends; an idle keep-alive connection holds no buffer.
#include "daemonfixture.h"
#include "httpbackend.h"
#include "relayutil.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTest>

#include <sys/resource.h>
#include <unistd.h>

using namespace portico::test;

namespace {

// utime + stime of a process, in seconds.
double cpuSeconds(qint64 pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    const double ticks = double(::sysconf(_SC_CLK_TCK));
    return (fields.value(11).toDouble() + fields.value(12).toDouble()) / ticks;
}

int openDescriptors(qint64 pid) {
    return int(
        QDir(QStringLiteral("/proc/%1/fd").arg(pid)).entryList(QDir::NoDotAndDotDot | QDir::System).size());
}

QJsonObject dataPlane(const DaemonFixture &d) {
    return d.call(QStringLiteral("stats.get"))
        .value(QStringLiteral("result"))
        .toObject()
        .value(QStringLiteral("data_plane"))
        .toObject();
}

} // namespace

class TestFdPressureE2e final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void floodPastTheLimitThenServeAgain();
    void idleKeepAliveHoldsNoBuffer();
    void budgetLeavesRoomForEveryAdminClient();
};

void TestFdPressureE2e::floodPastTheLimitThenServeAgain() {
    HttpTestBackend backend;
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(d.deploy(R"({"name":"app","runtime":"upstream","upstream":"127.0.0.1:)" +
                     QByteArray::number(backend.port()) + R"("})")
                .contains(QStringLiteral("result")));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/app/echo").status, 200);

    // Leave the daemon a few descriptors more than it holds now, so that a flood runs it
    // out (its descriptor budget was sized from the limit it started with: this is the
    // kernel refusing, EMFILE, the worst case).
    const int open = openDescriptors(d.pid());
    QVERIFY(open > 0);
    rlimit original{};
    QVERIFY(::prlimit(pid_t(d.pid()), RLIMIT_NOFILE, nullptr, &original) == 0);
    rlimit lim{rlim_t(open + 24), original.rlim_max}; // the soft limit: the kernel enforces it
    QVERIFY2(::prlimit(pid_t(d.pid()), RLIMIT_NOFILE, &lim, nullptr) == 0, strerror(errno));

    QList<int> flood;
    for (int i = 0; i < 200; ++i) {
        const int fd = tcpConnect(QHostAddress::LocalHost, d.ingressPort());
        if (fd >= 0)
            flood.append(fd); // connected in the kernel's backlog even when never accepted
    }
    QVERIFY(flood.size() >= 100);
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains("out of descriptors"), 10000);

    // While saturated, the daemon rests: a window of about a second (by design: this
    // proves the absence of a busy loop) must cost it a small fraction of a core.
    const double before = cpuSeconds(d.pid());
    QTest::qWait(1000);
    const double spent = cpuSeconds(d.pid()) - before;
    QVERIFY2(spent < 0.25,
             qPrintable(QStringLiteral("the daemon used %1 s of CPU in 1 s while saturated").arg(spent)));

    // The flood ends: what the daemon holds comes free and it serves again.
    for (int fd : flood)
        closeFd(fd);
    QVERIFY2(::prlimit(pid_t(d.pid()), RLIMIT_NOFILE, &original, nullptr) == 0, strerror(errno));
    QTRY_COMPARE_WITH_TIMEOUT(DaemonFixture::httpGet(d.ingressPort(), "/app/echo", 2000).status, 200, 15000);
    QVERIFY(d.isRunning());
}

// 200 keep-alive connections, each answered once and left open: the daemon holds no read
// or write buffer for any of them (they went back to the pool when the answers were out).
void TestFdPressureE2e::idleKeepAliveHoldsNoBuffer() {
    HttpTestBackend backend;
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    QVERIFY(d.deploy(R"({"name":"app","runtime":"upstream","upstream":"127.0.0.1:)" +
                     QByteArray::number(backend.port()) + R"("})")
                .contains(QStringLiteral("result")));
    QList<int> held;
    const QByteArray request("GET /app/download?size=100000 HTTP/1.1\r\nHost: a\r\n\r\n");
    for (int i = 0; i < 200; ++i) {
        const int fd = tcpConnect(QHostAddress::LocalHost, d.ingressPort());
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, request));
        held.append(fd);
    }
    for (int fd : std::as_const(held)) {
        const QByteArray head = recvExactly(fd, 17, 10000);
        QVERIFY2(head.startsWith("HTTP/1.1 200 OK\r\n"), head.constData());
        // The rest of the answer: the head's end, then exactly the announced body.
        QByteArray rest;
        while (!rest.contains("\r\n\r\n")) {
            const QByteArray more = recvExactly(fd, 1, 5000);
            QVERIFY(!more.isEmpty());
            rest += more;
        }
        QCOMPARE(recvExactly(fd, 100000, 10000).size(), 100000);
    }
    QJsonObject dp;
    QTRY_VERIFY_WITH_TIMEOUT((dp = dataPlane(d)).value(QStringLiteral("buffers_in_use")).toDouble() == 0,
                             5000);
    QVERIFY(dp.value(QStringLiteral("buffers_peak")).toDouble() > 0); // they did hold some while busy
    const QJsonArray routes = d.call(QStringLiteral("routes.list"))
                                  .value(QStringLiteral("result"))
                                  .toObject()
                                  .value(QStringLiteral("routes"))
                                  .toArray();
    QVERIFY(routes.first()
                .toObject()
                .value(QStringLiteral("counters"))
                .toObject()
                .value(QStringLiteral("connections_open"))
                .toInt() >= 200);
    // And they are alive: a second request on one of them is answered.
    QVERIFY(sendAll(held.first(), "GET /app/echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    QVERIFY(recvExactly(held.first(), 15, 5000).startsWith("HTTP/1.1 200"));
    for (int fd : held)
        closeFd(fd);
}

// The data plane's descriptor budget leaves a descriptor for every admin client the
// configuration allows (and some for logs and backends), so that a flood that takes the
// whole budget cannot lock operators out.
void TestFdPressureE2e::budgetLeavesRoomForEveryAdminClient() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("admin_max_clients"), 3000); // more than an eighth of 20000
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    rlimit lim{};
    QVERIFY(::prlimit(pid_t(d.pid()), RLIMIT_NOFILE, nullptr, &lim) == 0);
    const double budget = dataPlane(d).value(QStringLiteral("descriptor_budget")).toDouble();
    QVERIFY(budget > 0);
    QVERIFY2(double(lim.rlim_cur) - budget >= 3000 + 64,
             qPrintable(QStringLiteral("limit %1, budget %2").arg(lim.rlim_cur).arg(budget)));
}

QTEST_GUILESS_MAIN(TestFdPressureE2e)
#include "tst_fd_pressure_e2e.moc"

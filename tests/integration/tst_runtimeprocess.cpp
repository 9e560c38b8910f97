// The process runtime with real child processes (portico-testbackend): port contract,
// readiness, supervision with backoff, stop without leftovers, death with the daemon.
#include "runtime/backend.h"
#include "runtime/portallocator.h"
#include "runtime/processbackend.h"
#include "runtimeutil.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUdpSocket>
#include <QtTest>

#include <csignal>

using namespace portico;
using portico::test::httpGet;

namespace {

bool processAlive(qint64 pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (pid <= 0 || !f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray stat = f.readAll();
    const qsizetype close = stat.lastIndexOf(')');
    return close > 0 && stat.size() > close + 2 && stat.at(close + 2) != 'Z';
}

// Kills what a failed test left behind, so that one failure does not leak processes.
struct PidReaper {
    QList<qint64> pids;
    ~PidReaper() {
        for (qint64 p : pids)
            if (processAlive(p))
                ::kill(pid_t(p), SIGKILL);
    }
};

struct StateLog {
    struct Entry {
        BackendState state;
        QString reason;
    };
    QList<Entry> entries;
    void attach(Backend *b) {
        QObject::connect(b, &Backend::stateChanged, b, [this](BackendState s, const QString &r) {
            entries.append({s, r});
        });
    }
    int count(BackendState s) const {
        return int(
            std::count_if(entries.cbegin(), entries.cend(), [s](const Entry &e) { return e.state == s; }));
    }
};

} // namespace

class tst_RuntimeProcess : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_source;
    QTemporaryDir m_logs;
    Config m_config;
    std::unique_ptr<PortAllocator> m_ports;
    RuntimeContext m_context;

    std::unique_ptr<Backend> make(const QStringList &args, const QMap<QString, QString> &env = {},
                                  const QString &workdir = {}, const QList<ListenSpec> &listen = {},
                                  const QString &name = QStringLiteral("proc")) {
        Manifest m;
        m.name = name;
        m.runtime = RuntimeKind::Process;
        m.command = QStringList{QStringLiteral(TESTBACKEND_PATH)} + args;
        m.env = env;
        m.workdir = workdir;
        m.listen = listen;
        QString error;
        auto b = createBackend(m, m_source.path(), m_context, &error);
        if (!b)
            qWarning() << "createBackend:" << error;
        return b;
    }

    static void stopAndWait(Backend *b) {
        QSignalSpy stopped(b, &Backend::stopped);
        b->stop();
        QVERIFY(stopped.count() == 1 || stopped.wait(10'000));
    }

    static qint64 childPidFromLog(const QSignalSpy &lines) {
        for (const auto &args : lines) {
            const QString line = args.at(0).toString();
            if (line.startsWith(QLatin1String("child ")))
                return line.mid(6).toLongLong();
        }
        return 0;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_source.isValid());
        QVERIFY(m_logs.isValid());
        QVERIFY(QFileInfo(QStringLiteral(TESTBACKEND_PATH)).isExecutable());
        QVERIFY(QDir(m_source.path()).mkpath(QStringLiteral("app/data")));
        m_ports = std::make_unique<PortAllocator>(m_config.backendPortMin, m_config.backendPortMax);
    }

    void init() {
        m_config = Config();
        m_config.readyTimeoutMs = 5'000;
        m_config.stopGraceMs = 2'000;
        m_config.logRingLines = 200;
        m_context = RuntimeContext();
        m_context.config = &m_config;
        m_context.ports = m_ports.get();
        m_context.logDir = m_logs.path();
        m_context.backoffBaseMs = 100;
        m_context.backoffMaxMs = 400;
    }

    void startsWithPortContract() {
        auto b = make({QStringLiteral("http"), QStringLiteral("--name"), QStringLiteral("alpha")},
                      {{QStringLiteral("GREETING"), QStringLiteral("hi there")}}, QStringLiteral("app/data"),
                      {}, QStringLiteral("alpha"));
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        QSignalSpy targetChanged(b.get(), &Backend::targetChanged);
        QCOMPARE(b->target().kind, BackendTarget::Kind::None);
        b->start();
        QCOMPARE(b->state(), BackendState::Starting);
        QVERIFY(ready.wait(10'000));
        QCOMPARE(failed.count(), 0);
        QVERIFY(targetChanged.count() >= 1);
        QCOMPARE(b->state(), BackendState::Running);
        const BackendTarget t = b->target();
        QCOMPARE(t.kind, BackendTarget::Kind::Tcp);
        QCOMPARE(t.host, QStringLiteral("127.0.0.1"));
        QVERIFY(t.port >= m_config.backendPortMin && t.port <= m_config.backendPortMax);

        QCOMPARE(httpGet(t, "/hello"), QByteArray("hello from alpha"));
        QCOMPARE(httpGet(t, "/env/GREETING"), QByteArray("hi there"));
        QCOMPARE(httpGet(t, "/env/PORT"), QByteArray::number(t.port));
        QCOMPARE(httpGet(t, "/env/HOST"), QByteArray("127.0.0.1"));
        QCOMPARE(httpGet(t, "/pid"), QByteArray::number(b->pid()));
        QCOMPARE(httpGet(t, "/cwd"),
                 QFileInfo(m_source.filePath(QStringLiteral("app/data"))).canonicalFilePath().toUtf8());

        // Output reaches the ring, logLine and <logDir>/<project>.log.
        QTRY_VERIFY(
            b->logTail(100).join(QLatin1Char('\n')).contains(QLatin1String("listening on 127.0.0.1")));
        QTRY_VERIFY(b->logTail(100).join(QLatin1Char('\n')).contains(QLatin1String("testbackend http pid")));
        QFile log(m_logs.filePath(QStringLiteral("alpha.log")));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(log.readAll().contains("listening on 127.0.0.1"));

        const qint64 pid = b->pid();
        QVERIFY(processAlive(pid));
        stopAndWait(b.get());
        QCOMPARE(b->state(), BackendState::Stopped);
        QCOMPARE(b->target().kind, BackendTarget::Kind::None);
        QTRY_VERIFY(!processAlive(pid));
    }

    void killedBackendComesBack() {
        auto b = make({QStringLiteral("http"), QStringLiteral("--name"), QStringLiteral("phoenix")});
        QVERIFY(b);
        StateLog states;
        states.attach(b.get());
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY(ready.wait(10'000));
        const qint64 first = b->pid();
        QVERIFY(first > 0);

        QCOMPARE(::kill(pid_t(first), SIGKILL), 0);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, 10'000);
        QCOMPARE(failed.count(), 0); // a supervised crash is not a failed start
        QVERIFY(states.count(BackendState::Crashed) >= 1);
        QVERIFY(states.count(BackendState::Backoff) >= 1);
        QCOMPARE(b->state(), BackendState::Running);
        const qint64 second = b->pid();
        QVERIFY(second != first);
        QVERIFY(!processAlive(first));
        QCOMPARE(httpGet(b->target(), "/hello"), QByteArray("hello from phoenix"));
        QCOMPARE(httpGet(b->target(), "/pid"), QByteArray::number(second));
        stopAndWait(b.get());
        QTRY_VERIFY(!processAlive(second));
    }

    void crashLoopBacksOff() {
        m_context.readyPollMs = 10;
        auto b = make({QStringLiteral("crash-after"), QStringLiteral("250")});
        QVERIFY(b);
        auto *pb = qobject_cast<ProcessBackend *>(b.get());
        QVERIFY(pb);
        StateLog states;
        states.attach(b.get());
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QVERIFY(ready.wait(10'000));
        QTRY_VERIFY_WITH_TIMEOUT(states.count(BackendState::Backoff) >= 4, 20'000);

        // Each backoff announces its delay (that it is waited for: backoffWaits below).
        QList<int> delays;
        for (const auto &e : std::as_const(states.entries)) {
            if (e.state != BackendState::Backoff)
                continue;
            static const QRegularExpression re(QStringLiteral("restarting in (\\d+) ms"));
            const auto match = re.match(e.reason);
            QVERIFY2(match.hasMatch(), qPrintable(e.reason));
            delays.append(match.captured(1).toInt());
        }
        QCOMPARE(delays.mid(0, 4), (QList<int>{100, 200, 400, 400})); // doubles, capped at backoffMaxMs
        // Between backoffs the backend really ran again.
        QVERIFY(ready.count() >= 3);
        QVERIFY(states.count(BackendState::Crashed) >= 4);
        stopAndWait(b.get());
        QCOMPARE(b->state(), BackendState::Stopped);
    }

    // A crashed backend is not started again before its backoff delay: a window shorter
    // than the delay must see no new start, and then the start comes.
    void backoffWaits() {
        m_context.backoffBaseMs = 1500;
        m_context.readyPollMs = 10;
        // Ready first (a crash before ready is a failed start, not supervised), then crash.
        auto b = make({QStringLiteral("crash-after"), QStringLiteral("1000")});
        QVERIFY(b);
        bool backoff = false;
        int starts = 0;
        connect(b.get(), &Backend::stateChanged, this, [&](BackendState s) {
            if (s == BackendState::Backoff)
                backoff = true;
            if (s == BackendState::Starting && backoff)
                ++starts;
        });
        b->start();
        QVERIFY(QTest::qWaitFor([&] { return backoff; }, 10'000));
        QTest::qWait(700); // a window (less than half the delay) that must see no start
        QCOMPARE(starts, 0);
        QTRY_COMPARE_WITH_TIMEOUT(starts, 1, 10'000);
        stopAndWait(b.get());
    }

    void stableRunResetsBackoff() {
        // Each run lasts longer than stableResetMs, so every crash starts over at the base delay.
        m_context.stableResetMs = 250;
        m_context.readyPollMs = 10;
        auto b = make({QStringLiteral("crash-after"), QStringLiteral("600")});
        QVERIFY(b);
        auto *pb = qobject_cast<ProcessBackend *>(b.get());
        QVERIFY(pb);
        QList<int> delays;
        connect(b.get(), &Backend::stateChanged, this, [&delays, pb](BackendState s) {
            if (s == BackendState::Backoff)
                delays.append(pb->currentBackoffMs());
        });
        b->start();
        QTRY_VERIFY_WITH_TIMEOUT(delays.size() >= 2, 10'000);
        QCOMPARE(delays.mid(0, 2), (QList<int>{100, 100}));
        stopAndWait(b.get());
    }

    void stopLeavesNoChild() {
        auto b = make({QStringLiteral("spawn-child")});
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy lines(b.get(), &Backend::logLine);
        b->start();
        QVERIFY(ready.wait(10'000));
        QTRY_VERIFY(childPidFromLog(lines) > 0);
        const qint64 pid = b->pid();
        const qint64 grandchild = childPidFromLog(lines);
        QVERIFY(processAlive(pid));
        QVERIFY(processAlive(grandchild));
        stopAndWait(b.get());
        QTRY_VERIFY(!processAlive(pid));
        QTRY_VERIFY(!processAlive(grandchild));
        QCOMPARE(b->pid(), 0);
    }

    void stopEscalatesToSigkill() {
        m_config.stopGraceMs = 1000;
        auto b = make({QStringLiteral("http"), QStringLiteral("--ignore-term")});
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QVERIFY(ready.wait(10'000));
        const qint64 pid = b->pid();
        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->stop();
        // A window that must see nothing: the process ignores SIGTERM and gets its grace
        // period (1 s) before the SIGKILL.
        QVERIFY(!stopped.wait(400));
        QVERIFY(processAlive(pid));
        QVERIFY(stopped.wait(10'000));
        QVERIFY(b->logTail(50).join(QLatin1Char('\n')).contains(QLatin1String("sending SIGKILL")));
        QTRY_VERIFY(!processAlive(pid));
    }

    void restartKeepsServing() {
        auto b = make({QStringLiteral("http")});
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->start();
        QVERIFY(ready.wait(10'000));
        const qint64 first = b->pid();
        b->restart();
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, 10'000);
        QCOMPARE(stopped.count(), 0);
        QVERIFY(b->pid() != first);
        QCOMPARE(httpGet(b->target(), "/pid"), QByteArray::number(b->pid()));
        stopAndWait(b.get());
    }

    void failsBeforeReady_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("readyTimeoutMs");
        QTest::addColumn<QStringList>("reasonContains");
        QTest::newRow("ready-timeout-with-stderr-tail")
            << QStringList{QStringLiteral("no-listen")} << 600
            << QStringList{QStringLiteral("did not accept connections"), QStringLiteral("within 600 ms"),
                           QStringLiteral("running but not listening on port")};
        QTest::newRow("exit-before-ready")
            << QStringList{QStringLiteral("exit-now"), QStringLiteral("7")} << 5000
            << QStringList{QStringLiteral("exited with code 7 before it accepted connections"),
                           QStringLiteral("exiting now with code 7")};
        QTest::newRow("exit-zero-before-ready")
            << QStringList{QStringLiteral("exit-now"), QStringLiteral("0")} << 5000
            << QStringList{QStringLiteral("exited with code 0")};
        QTest::newRow("bad-usage") << QStringList{QStringLiteral("bogus-mode")} << 5000
                                   << QStringList{QStringLiteral("exited with code 64"),
                                                  QStringLiteral("usage:")};
    }
    void failsBeforeReady() {
        QFETCH(QStringList, args);
        QFETCH(int, readyTimeoutMs);
        QFETCH(QStringList, reasonContains);
        m_config.readyTimeoutMs = readyTimeoutMs;
        auto b = make(args);
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        const qint64 pid = b->pid();
        QVERIFY(failed.wait(10'000));
        QCOMPARE(ready.count(), 0);
        const QString reason = failed.at(0).at(0).toString();
        for (const QString &part : reasonContains)
            QVERIFY2(reason.contains(part), qPrintable(reason));
        QCOMPARE(b->state(), BackendState::Crashed);
        QCOMPARE(b->stateReason(), reason);
        QCOMPARE(b->target().kind, BackendTarget::Kind::None);
        QTRY_VERIFY(!processAlive(pid));
        QTRY_COMPARE(b->pid(), 0);
        // Not supervised: nothing restarts it. A window (three times the backoff base) that
        // must see no change.
        QSignalSpy changed(b.get(), &Backend::stateChanged);
        QVERIFY(!changed.wait(300));
        QCOMPARE(ready.count(), 0);
        QCOMPARE(b->pid(), 0);
    }

    void programMissing() {
        Manifest m;
        m.name = QStringLiteral("missing");
        m.command = {QStringLiteral("/nonexistent/portico-no-such-program")};
        QString error;
        auto b = createBackend(m, m_source.path(), m_context, &error);
        QVERIFY(b);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY(failed.count() == 1 || failed.wait(5000));
        QVERIFY2(failed.at(0).at(0).toString().contains(QLatin1String("cannot start")),
                 qPrintable(failed.at(0).at(0).toString()));
    }

    void refusedManifests_data() {
        QTest::addColumn<QStringList>("command");
        QTest::addColumn<QString>("workdir");
        QTest::addColumn<QString>("errorContains");
        QTest::newRow("no-command") << QStringList{} << QString() << QStringLiteral("needs a command");
        QTest::newRow("missing-workdir") << QStringList{QStringLiteral("true")} << QStringLiteral("nope")
                                         << QStringLiteral("is not a directory");
    }
    void refusedManifests() {
        QFETCH(QStringList, command);
        QFETCH(QString, workdir);
        QFETCH(QString, errorContains);
        Manifest m;
        m.name = QStringLiteral("bad");
        m.command = command;
        m.workdir = workdir;
        QString error;
        QVERIFY(!createBackend(m, m_source.path(), m_context, &error));
        QVERIFY2(error.contains(errorContains), qPrintable(error));
    }

    void udpReadyByStayingUp() {
        m_context.udpReadyMs = 600;
        ListenSpec udp;
        udp.port = 5353;
        udp.protocol = Protocol::Udp;
        auto b = make({QStringLiteral("udp-echo")}, {}, {}, {udp});
        QVERIFY(b);
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        // A window that must see nothing: not ready before udpReadyMs (600 ms) of running.
        QVERIFY(!ready.wait(300));
        QVERIFY(ready.count() == 1 || ready.wait(10'000));
        // "Running for 600 ms" is all the readiness a UDP backend has: ask until it answers.
        QUdpSocket s;
        QVERIFY(s.bind(QHostAddress::LocalHost, 0));
        bool answered = false;
        for (int i = 0; i < 10 && !answered; ++i) {
            s.writeDatagram("ping", QHostAddress(b->target().host), b->target().port);
            answered = s.waitForReadyRead(1000);
        }
        QVERIFY(answered);
        QByteArray d(64, '\0');
        const qint64 n = s.readDatagram(d.data(), d.size());
        QCOMPARE(d.left(n), QByteArray("ping"));
        stopAndWait(b.get());

        // A udp backend that exits at once is not ready.
        auto dead = make({QStringLiteral("exit-now"), QStringLiteral("1")}, {}, {}, {udp});
        QSignalSpy failed(dead.get(), &Backend::failed);
        dead->start();
        QVERIFY(failed.wait(5000));
    }

    void portsAreReleased() {
        // A range of one port: a second backend gets none until the first gives it back.
        const quint16 only = m_ports->acquire();
        QVERIFY(only);
        m_ports->release(only);
        PortAllocator one(only, only);
        m_context.ports = &one;
        auto first = make({QStringLiteral("http")});
        auto second = make({QStringLiteral("http")});
        QSignalSpy ready(first.get(), &Backend::ready);
        QSignalSpy secondFailed(second.get(), &Backend::failed);
        QSignalSpy secondReady(second.get(), &Backend::ready);
        first->start();
        QVERIFY(ready.wait(10'000));
        QCOMPARE(first->target().port, only);
        second->start();
        QVERIFY(secondFailed.count() == 1 || secondFailed.wait(5000));
        QVERIFY2(secondFailed.at(0).at(0).toString().contains(QLatin1String("no free backend port")),
                 qPrintable(secondFailed.at(0).at(0).toString()));
        stopAndWait(first.get());
        second->start();
        QVERIFY(secondReady.wait(10'000));
        QCOMPARE(second->target().port, only);
        stopAndWait(second.get());
    }

    // The ring holds the newest lines, in order: 50 numbered lines and the backend's own
    // go through a ring of 3, which ends up with exactly the last 3 that were logged.
    void logRingKeepsTheNewestLines() {
        m_config.logRingLines = 3;
        Manifest m;
        m.name = QStringLiteral("ringer");
        m.runtime = RuntimeKind::Process;
        m.command = {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                     QStringLiteral("i=1; while [ $i -le 50 ]; do echo \"line $i\"; i=$((i+1)); done; "
                                    "exec '%1' http 2>/dev/null")
                         .arg(QStringLiteral(TESTBACKEND_PATH))};
        QString error;
        auto b = createBackend(m, m_source.path(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QStringList all; // every line, in the order the backend logged them
        connect(b.get(), &Backend::logLine, this, [&all](const QString &line) { all.append(line); });
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QVERIFY(ready.wait(10'000));
        QTRY_VERIFY(all.join(QLatin1Char('\n')).contains(QLatin1String("listening on 127.0.0.1")));
        const QStringList ring = b->logTail(100);
        QVERIFY2(all.size() >= 51, qPrintable(all.join(QLatin1Char('\n'))));
        QCOMPARE(ring, all.mid(all.size() - 3));
        QVERIFY(all.contains(QStringLiteral("line 1")) && !ring.contains(QStringLiteral("line 1")));
        QCOMPARE(b->logTail(1), all.mid(all.size() - 1));
        stopAndWait(b.get());
    }

    void childrenDieWithTheDaemon_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("plain") << QStringList{QStringLiteral("spawn-child")};
        // Survives the terminal hangup: only PR_SET_PDEATHSIG ends it.
        QTest::newRow("ignores-sighup")
            << QStringList{QStringLiteral("spawn-child"), QStringLiteral("--ignore-hup")};
        QTest::newRow("ignores-sigterm")
            << QStringList{QStringLiteral("spawn-child"), QStringLiteral("--ignore-term")};
    }
    void childrenDieWithTheDaemon() {
        // The harness runs a process backend with portico_runtime, like porticod does; the
        // backend has a child of its own.
        QFETCH(QStringList, args);
        QProcess harness;
        harness.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        harness.start(QStringLiteral(RUNTIMEHARNESS_PATH),
                      QStringList{QStringLiteral(TESTBACKEND_PATH)} + args);
        QVERIFY(harness.waitForStarted(5000));
        QDeadlineTimer deadline(10'000);
        qint64 child = 0;
        qint64 grandchild = 0;
        QByteArray pending;
        while ((child == 0 || grandchild == 0) && !deadline.hasExpired()) {
            harness.waitForReadyRead(100);
            pending += harness.readAll();
            qsizetype nl;
            while ((nl = pending.indexOf('\n')) >= 0) {
                const QByteArray line = pending.left(nl);
                pending.remove(0, nl + 1);
                if (line.startsWith("child "))
                    child = line.split(' ').value(1).toLongLong();
                else if (line.startsWith("log child "))
                    grandchild = line.split(' ').value(2).toLongLong();
                QVERIFY2(!line.startsWith("failed"), line.constData());
            }
        }
        PidReaper reaper{{child, grandchild}};
        QVERIFY(child > 0);
        QVERIFY(grandchild > 0);
        QVERIFY(processAlive(child));
        QVERIFY(processAlive(grandchild));
        QCOMPARE(::kill(pid_t(harness.processId()), SIGKILL), 0);
        QVERIFY(harness.waitForFinished(5000));
        QTRY_VERIFY_WITH_TIMEOUT(!processAlive(child), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(!processAlive(grandchild), 5000);
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeProcess)
#include "tst_runtimeprocess.moc"

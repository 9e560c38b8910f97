// The dockerfile runtime without a Docker engine (none exists on the build machine): the
// deploy is refused with a clear message, never a silent 503. The build/run orchestration
// is tested against a fake docker CLI (a script that runs portico-testbackend for `run`);
// a real engine is not exercised.
#include "daemonfixture.h"
#include "protocol.h"
#include "runtime/backend.h"
#include "runtime/portallocator.h"
#include "skips.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace portico;

class tst_RuntimeDocker : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    Config m_config;
    RuntimeContext m_context;
    std::unique_ptr<PortAllocator> m_ports;

    QString script(const QString &name, const QByteArray &body) {
        const QString path = m_tmp.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write("#!/bin/sh\n" + body + "\n");
        f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        return path;
    }
    Manifest manifest() const {
        Manifest m;
        m.name = QStringLiteral("boxed");
        m.runtime = RuntimeKind::Dockerfile;
        return m;
    }
    static QString expectedPrefix() {
        return QStringLiteral("the dockerfile runtime needs a Docker engine, none answers at ") +
               qEnvironmentVariable("DOCKER_HOST", QStringLiteral("unix:///var/run/docker.sock"));
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        QFile df(m_tmp.filePath(QStringLiteral("Dockerfile")));
        QVERIFY(df.open(QIODevice::WriteOnly));
        df.write("FROM scratch\n");
        m_ports = std::make_unique<PortAllocator>(m_config.backendPortMin, m_config.backendPortMax);
    }
    void init() {
        m_config = Config();
        m_config.readyTimeoutMs = 500;
        m_context = RuntimeContext();
        m_context.config = &m_config;
        m_context.ports = m_ports.get();
    }

    void noCliRefusedAtCreate() {
        m_config.dockerPath = QStringLiteral("/nonexistent/docker");
        QString error;
        QVERIFY(!createBackend(manifest(), m_tmp.path(), m_context, &error));
        QVERIFY2(error.startsWith(expectedPrefix()), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("/nonexistent/docker")), qPrintable(error));
    }

    void noEngineFailsStart_data() {
        QTest::addColumn<QString>("docker"); // a script body, or "real" for the docker CLI on PATH
        QTest::addColumn<QString>("detail");
        QTest::newRow("engine-refuses")
            << QStringLiteral(
                   "echo 'Cannot connect to the Docker daemon. Is the docker daemon running?' >&2; exit 1")
            << QStringLiteral("Cannot connect to the Docker daemon");
        QTest::newRow("engine-hangs")
            << QStringLiteral("exec sleep 30") << QStringLiteral("no answer within the timeout");
        QTest::newRow("real-cli") << QStringLiteral("real") << QString();
    }
    void noEngineFailsStart() {
        QFETCH(QString, docker);
        QFETCH(QString, detail);
        if (docker == QLatin1String("real")) {
            const QString real = QStandardPaths::findExecutable(QStringLiteral("docker"));
            if (real.isEmpty())
                PORTICO_SKIP_EXPECTED("no Docker engine here (no docker CLI on PATH)");
            QProcess probe;
            probe.start(real, {QStringLiteral("version"), QStringLiteral("--format"),
                               QStringLiteral("{{.Server.Version}}")});
            if (probe.waitForFinished(10'000) && probe.exitCode() == 0)
                PORTICO_SKIP_EXPECTED(
                    "a Docker engine answers here; the refusal without one cannot be tested");
            m_config.dockerPath = real;
            m_config.readyTimeoutMs = 10'000;
        } else {
            m_config.dockerPath =
                script(QStringLiteral("docker-%1").arg(QTest::currentDataTag()), docker.toUtf8());
        }
        QString error;
        auto b = createBackend(manifest(), m_tmp.path(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy failed(b.get(), &Backend::failed);
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QCOMPARE(b->state(), BackendState::Starting); // the engine is asked asynchronously
        QVERIFY(failed.wait(15'000));
        QCOMPARE(ready.count(), 0);
        const QString reason = failed.at(0).at(0).toString();
        QVERIFY2(reason.startsWith(expectedPrefix()), qPrintable(reason));
        QVERIFY2(reason.contains(detail), qPrintable(reason));
        QCOMPARE(b->state(), BackendState::Crashed);
        QCOMPARE(b->target().kind, BackendTarget::Kind::None);
    }

    // Through a real porticod: a CLI that finds no engine refuses the deploy with 1005
    // ("runtime unavailable", as docs/admin-protocol.md says), not 1004 ("the backend did
    // not start"); a missing CLI does the same.
    void deployWithoutEngineIsRuntimeUnavailable_data() {
        QTest::addColumn<QString>("docker");
        QTest::newRow("engine-refuses") << QStringLiteral(
            "echo 'Cannot connect to the Docker daemon. Is the docker daemon running?' >&2; exit 1");
        QTest::newRow("no-cli") << QString();
    }
    void deployWithoutEngineIsRuntimeUnavailable() {
        QFETCH(QString, docker);
        test::DaemonFixture daemon;
        daemon.config.insert(QStringLiteral("docker_path"),
                             docker.isEmpty() ? QStringLiteral("/nonexistent/docker")
                                              : script(QStringLiteral("docker-e2e"), docker.toUtf8()));
        QString why;
        QVERIFY2(daemon.start(&why), qPrintable(why));
        const QJsonObject r = daemon.deploy(R"({"name": "boxed", "runtime": "dockerfile"})", m_tmp.path());
        const QJsonObject error = r.value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toInt(), protocol::error::RuntimeUnavailable);
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(expectedPrefix()),
                 qPrintable(error.value(QStringLiteral("message")).toString()));
        QVERIFY(
            daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("boxed")}})
                .contains(QStringLiteral("error")));
    }

    void stopWhileAskingTheEngine() {
        m_config.dockerPath = script(QStringLiteral("docker-slow"), "exec sleep 30");
        m_config.readyTimeoutMs = 10'000;
        QString error;
        auto b = createBackend(manifest(), m_tmp.path(), m_context, &error);
        QVERIFY(b);
        QSignalSpy stopped(b.get(), &Backend::stopped);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        b->stop();
        QVERIFY(stopped.count() == 1 || stopped.wait(5000));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(b->state(), BackendState::Stopped);
    }

    void buildAndRunWithAFakeCli() {
        const QString dir = m_tmp.path();
        const QString fake =
            script(QStringLiteral("docker-fake"),
                   QStringLiteral(
                       "\n"
                       "case \"$1\" in\n"
                       "version) echo 24.0.0 ;;\n"
                       "build) echo \"$*\" > \"%1/build-args\"; echo \"Successfully built\" ;;\n"
                       "run) echo \"$*\" > \"%1/run-args\"\n"
                       "     for a in \"$@\"; do case \"$a\" in PORT=*) port=\"${a#PORT=}\" ;; esac; done\n"
                       "     PORT=\"$port\" HOST=127.0.0.1 exec \"%2\" http --name container ;;\n"
                       "rm) echo \"$*\" >> \"%1/rm-args\" ;;\n"
                       "*) exit 1 ;;\n"
                       "esac\n")
                       .arg(dir, QStringLiteral(TESTBACKEND_PATH))
                       .toUtf8());
        m_config.dockerPath = fake;
        m_config.readyTimeoutMs = 10'000;
        Manifest m = manifest();
        m.env = {{QStringLiteral("GREETING"), QStringLiteral("hi")}};
        QString error;
        auto b = createBackend(m, dir, m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY2(ready.wait(15'000), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        const BackendTarget t = b->target();
        QCOMPARE(t.kind, BackendTarget::Kind::Tcp);
        QCOMPARE(t.host, QStringLiteral("127.0.0.1"));

        auto read = [&dir](const char *name) {
            QFile f(dir + QLatin1Char('/') + QLatin1String(name));
            return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed() : QByteArray();
        };
        QCOMPARE(read("build-args"), ("build -t portico-boxed -f " + dir + "/Dockerfile " + dir).toUtf8());
        const QByteArray p = QByteArray::number(t.port);
        QCOMPARE(read("run-args"), "run --rm --name portico-boxed -p 127.0.0.1:" + p + ':' + p +
                                       " -e PORT=" + p + " -e HOST=0.0.0.0 -e GREETING=hi portico-boxed");

        QTcpSocket s;
        s.connectToHost(t.host, t.port);
        QVERIFY(s.waitForConnected(3000));
        s.write("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QByteArray response;
        while (s.waitForReadyRead(3000))
            response += s.readAll();
        QVERIFY2(response.endsWith("hello from container"), response.constData());

        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->stop();
        QVERIFY(stopped.wait(10'000));
        QCOMPARE(b->state(), BackendState::Stopped);
        // A leftover container is removed before the run, and the container goes with stop().
        QTRY_COMPARE(read("rm-args"), QByteArray("rm -f portico-boxed\nrm -f portico-boxed"));
    }

    // Several listen entries: each host port gets a backend port of its own, published by
    // transport (a tcp and a udp entry on one number share it) and given as PORT_<n>.
    void runPublishesEachPort() {
        const QString dir = m_tmp.path();
        const QString fake = script(
            QStringLiteral("docker-fake-ports"),
            QStringLiteral("\n"
                           "case \"$1\" in\n"
                           "version) echo 24.0.0 ;;\n"
                           "build) echo \"Successfully built\" ;;\n"
                           "run) echo \"$*\" > \"%1/run-ports-args\"\n"
                           "     for a in \"$@\"; do case \"$a\" in PORT*=*) export \"$a\" ;; esac; done\n"
                           "     HOST=127.0.0.1 exec \"%2\" every-port --name container ;;\n"
                           "rm) ;;\n"
                           "*) exit 1 ;;\n"
                           "esac\n")
                .arg(dir, QStringLiteral(TESTBACKEND_PATH))
                .toUtf8());
        m_config.dockerPath = fake;
        m_config.readyTimeoutMs = 10'000;
        Manifest m = manifest();
        m.listen = {ListenSpec{3000, Protocol::Http}, ListenSpec{5353, Protocol::Tcp},
                    ListenSpec{5353, Protocol::Udp}};
        QString error;
        auto b = createBackend(m, dir, m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY2(ready.wait(15'000), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        const QHash<quint16, quint16> ports = b->backendPorts();
        QCOMPARE(ports.size(), 2);
        const QByteArray web = QByteArray::number(ports.value(3000));
        const QByteArray dns = QByteArray::number(ports.value(5353));
        QCOMPARE(web, QByteArray::number(b->target().port));
        QVERIFY(web != dns);
        QFile args(dir + QStringLiteral("/run-ports-args"));
        QVERIFY(args.open(QIODevice::ReadOnly));
        QCOMPARE(args.readAll().trimmed(), "run --rm --name portico-boxed -p 127.0.0.1:" + web + ':' + web +
                                               " -p 127.0.0.1:" + dns + ':' + dns + " -p 127.0.0.1:" + dns +
                                               ':' + dns + "/udp -e PORT=" + web + " -e PORT_3000=" + web +
                                               " -e PORT_5353=" + dns + " -e HOST=0.0.0.0 portico-boxed");
        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->stop();
        QVERIFY(stopped.wait(10'000));
    }

    void buildFails() {
        m_config.dockerPath = script(
            QStringLiteral("docker-badbuild"),
            "\n"
            "case \"$1\" in\n"
            "version) echo 24.0.0 ;;\n"
            "build) echo \"Step 1/1 : FROM nothing-here\" ; echo \"pull access denied\" >&2; exit 1 ;;\n"
            "*) exit 1 ;;\n"
            "esac\n");
        m_config.readyTimeoutMs = 10'000;
        QString error;
        auto b = createBackend(manifest(), m_tmp.path(), m_context, &error);
        QVERIFY(b);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY(failed.wait(10'000));
        const QString reason = failed.at(0).at(0).toString();
        QVERIFY2(reason.startsWith(QLatin1String("docker build failed")), qPrintable(reason));
        QVERIFY2(reason.contains(QLatin1String("pull access denied")), qPrintable(reason));
    }

    void missingDockerfileRefused() {
        m_config.dockerPath = script(QStringLiteral("docker-ok"), "exit 0");
        Manifest m = manifest();
        m.entry = QStringLiteral("nope/Dockerfile");
        QString error;
        QVERIFY(!createBackend(m, m_tmp.path(), m_context, &error));
        QVERIFY2(error.contains(QLatin1String("does not exist")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeDocker)
#include "tst_runtimedocker.moc"

// The dockerfile runtime without a Docker engine (none exists on the build machine): the
// deploy is refused with a clear message, never a silent 503. The build/run path needs an
// engine and is not tested here.
#include "runtime/backend.h"
#include "runtime/portallocator.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
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
                QSKIP("no docker CLI on PATH");
            QProcess probe;
            probe.start(real, {QStringLiteral("version"), QStringLiteral("--format"),
                               QStringLiteral("{{.Server.Version}}")});
            if (probe.waitForFinished(10'000) && probe.exitCode() == 0)
                QSKIP("a Docker engine answers here; the refusal cannot be tested");
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

// The quickstart's example apps (resources/examples) run under their runtimes and answer.
#include "runtime/backend.h"
#include "runtime/portallocator.h"
#include "runtime/staticfiles.h"
#include "runtimeutil.h"
#include "skips.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace portico;
using portico::test::findDeno;

namespace {

// Sends request bytes, reads until the peer closes or expected shows up.
QByteArray exchange(const BackendTarget &t, const QByteArray &request, const QByteArray &expected) {
    QTcpSocket s;
    s.connectToHost(t.host, t.port);
    if (!s.waitForConnected(3000))
        return "ERROR connect: " + s.errorString().toUtf8();
    s.write(request);
    QByteArray got;
    QDeadlineTimer deadline(5000);
    while (!deadline.hasExpired() && !got.contains(expected) &&
           s.state() == QAbstractSocket::ConnectedState) {
        s.waitForReadyRead(100);
        got += s.readAll();
    }
    return got + s.readAll();
}

} // namespace

class tst_RuntimeExamples : public QObject {
    Q_OBJECT

private:
    Config m_config;
    std::unique_ptr<PortAllocator> m_ports;
    RuntimeContext m_context;
    QTemporaryDir m_logs;
    const QString m_examples = QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples");

private Q_SLOTS:
    void initTestCase() {
        m_config.readyTimeoutMs = 20'000;
        m_config.denoPath = findDeno();
        m_ports = std::make_unique<PortAllocator>(m_config.backendPortMin, m_config.backendPortMax);
        m_context.config = &m_config;
        m_context.ports = m_ports.get();
        m_context.logDir = m_logs.path();
    }

    void examplesAnswer_data() {
        QTest::addColumn<QString>("dir");
        QTest::addColumn<QString>("runtime");
        QTest::addColumn<QStringList>("command");
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray get = "GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n";
        QTest::newRow("hello-process") << QStringLiteral("hello-process") << QStringLiteral("process")
                                       << QStringList{QStringLiteral("python3"), QStringLiteral("app.py")}
                                       << get << QByteArray("hello from a process");
        QTest::newRow("tcp-echo") << QStringLiteral("tcp-echo") << QStringLiteral("process")
                                  << QStringList{QStringLiteral("python3"), QStringLiteral("echo.py")}
                                  << QByteArray("ping over tcp\n") << QByteArray("ping over tcp\n");
        QTest::newRow("hello-deno") << QStringLiteral("hello-deno") << QStringLiteral("deno") << QStringList{}
                                    << get << QByteArray("hello from deno");
    }
    void examplesAnswer() {
        QFETCH(QString, dir);
        QFETCH(QString, runtime);
        QFETCH(QStringList, command);
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, expected);
        if (runtime == QLatin1String("deno") && m_config.denoPath.isEmpty())
            PORTICO_REQUIRE(false, "deno on PATH or in .tools/deno (installer/deps.sh)");
        if (runtime == QLatin1String("process") &&
            QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty())
            PORTICO_REQUIRE(false, "python3 (installer/deps.sh)");
        Manifest m;
        m.name = dir;
        m.runtime = *runtimeFromName(runtime);
        m.command = command;
        QString error;
        auto b = createBackend(m, m_examples + QLatin1Char('/') + dir, m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY2(ready.wait(25'000), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        const QByteArray got = exchange(b->target(), request, expected);
        QVERIFY2(got.contains(expected), got.constData());
        QSignalSpy stopped(b.get(), &Backend::stopped);
        b->stop();
        QVERIFY(stopped.wait(10'000));
    }

    void staticSite() {
        Manifest m;
        m.name = QStringLiteral("site");
        m.runtime = RuntimeKind::Static;
        m.entry = QStringLiteral("public");
        QString error;
        auto b = createBackend(m, m_examples + QStringLiteral("/site"), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy ready(b.get(), &Backend::ready);
        b->start();
        QCOMPARE(ready.count(), 1);
        const BackendTarget t = b->target();
        QCOMPARE(t.kind, BackendTarget::Kind::Static);
        QVERIFY(QFileInfo(t.staticRoot).isAbsolute());
        StaticRequest req;
        req.method = "GET";
        req.path = "/";
        const StaticReply r = resolveStatic(t.staticRoot, req);
        QCOMPARE(r.status, 200);
        QFile f(r.filePath);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains("Served by Portico"));

        m.entry = QStringLiteral("no-such-dir");
        QVERIFY(!createBackend(m, m_examples + QStringLiteral("/site"), m_context, &error));
        QVERIFY2(error.contains(QLatin1String("is not a directory")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeExamples)
#include "tst_runtimeexamples.moc"

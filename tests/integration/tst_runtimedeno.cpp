// The deno runtime with the real deno (PATH or <source>/.tools/deno from installer/deps.sh):
// both entry styles answer over HTTP through the embedded bootstrap.
#include "runtime/backend.h"
#include "runtime/portallocator.h"
#include "runtimeutil.h"
#include "skips.h"

#include <QFile>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace portico;
using portico::test::findDeno;
using portico::test::httpGet;

class tst_RuntimeDeno : public QObject {
    Q_OBJECT

private:
    QString m_deno;
    QTemporaryDir m_source;
    QTemporaryDir m_logs;
    Config m_config;
    std::unique_ptr<PortAllocator> m_ports;
    RuntimeContext m_context;

    void write(const QString &rel, const QByteArray &content) {
        QFile f(m_source.filePath(rel));
        QVERIFY(QDir().mkpath(QFileInfo(f.fileName()).absolutePath()));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }

    Manifest manifest(const QString &entry) const {
        Manifest m;
        m.name = QStringLiteral("denoapp");
        m.runtime = RuntimeKind::Deno;
        m.entry = entry;
        m.env = {{QStringLiteral("GREETING"), QStringLiteral("hello deno")}};
        return m;
    }

private Q_SLOTS:
    void initTestCase() {
        m_deno = findDeno();
        PORTICO_REQUIRE(!m_deno.isEmpty(), "deno on PATH or in .tools/deno (installer/deps.sh)");
        QVERIFY(m_source.isValid());
        m_ports = std::make_unique<PortAllocator>(m_config.backendPortMin, m_config.backendPortMax);
        m_config.denoPath = m_deno;
        m_config.readyTimeoutMs = 30'000; // the first run compiles TypeScript
        m_context.config = &m_config;
        m_context.ports = m_ports.get();
        m_context.logDir = m_logs.path();

        // The original daemon's style: only a default export.
        write(QStringLiteral("handler.ts"), R"(
export default (req: Request, ctx: { env: Record<string, string> }) =>
  new Response(`handler ${new URL(req.url).pathname} ${ctx.env.GREETING} ${ctx.env.PORT ?? "no-port-in-ctx"}`);
)");
        // An object with fetch().
        write(QStringLiteral("fetcher.ts"), R"(
export default { fetch: (req: Request, ctx: { env: Record<string, string> }) => new Response(`fetch ${new URL(req.url).pathname} ${ctx.env.GREETING}`) };
)");
        // Serves itself on PORT.
        write(QStringLiteral("server.ts"), R"(
const text = await Deno.readTextFile(new URL("./data/word.txt", import.meta.url));
Deno.serve({ port: Number(Deno.env.get("PORT")), hostname: Deno.env.get("HOST") },
  (req) => new Response(`self ${new URL(req.url).pathname} ${Deno.env.get("GREETING")} ${text.trim()}`));
)");
        write(QStringLiteral("data/word.txt"), "readable\n");
        write(QStringLiteral("broken.ts"), "export default (req: Request) => { this is not typescript");
        write(QStringLiteral("quits.ts"), "console.error('giving up'); Deno.exit(5);");
    }

    void bothStylesAnswer_data() {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("export-default-handler")
            << QStringLiteral("handler.ts") << QByteArray("handler /x hello deno no-port-in-ctx");
        QTest::newRow("export-default-fetch-object")
            << QStringLiteral("fetcher.ts") << QByteArray("fetch /x hello deno");
        QTest::newRow("own-deno-serve-default-entry")
            << QString() << QByteArray("self /x hello deno readable");
    }
    void bothStylesAnswer() {
        QFETCH(QString, entry);
        QFETCH(QByteArray, expected);
        QString error;
        auto b = createBackend(manifest(entry), m_source.path(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy ready(b.get(), &Backend::ready);
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY2(ready.wait(40'000), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
        QCOMPARE(b->target().kind, BackendTarget::Kind::Tcp);
        QCOMPARE(httpGet(b->target(), "/x"), expected);
        QSignalSpy stopped(b.get(), &Backend::stopped);
        const qint64 pid = b->pid();
        b->stop();
        QVERIFY(stopped.wait(10'000));
        QTRY_VERIFY(!QFile::exists(QStringLiteral("/proc/%1/cmdline").arg(pid)) ||
                    QFile(QStringLiteral("/proc/%1/cmdline").arg(pid)).size() == 0);
    }

    void brokenEntriesFail_data() {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<QString>("reasonContains");
        QTest::newRow("syntax-error") << QStringLiteral("broken.ts") << QStringLiteral("exited with code 1");
        QTest::newRow("exits") << QStringLiteral("quits.ts") << QStringLiteral("giving up");
    }
    void brokenEntriesFail() {
        QFETCH(QString, entry);
        QFETCH(QString, reasonContains);
        QString error;
        auto b = createBackend(manifest(entry), m_source.path(), m_context, &error);
        QVERIFY2(b, qPrintable(error));
        QSignalSpy failed(b.get(), &Backend::failed);
        b->start();
        QVERIFY(failed.wait(40'000));
        QVERIFY2(failed.at(0).at(0).toString().contains(reasonContains),
                 qPrintable(failed.at(0).at(0).toString()));
    }

    void refused_data() {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<QString>("denoPath");
        QTest::addColumn<QString>("errorContains");
        QTest::newRow("missing-entry")
            << QStringLiteral("nope.ts") << QString() << QStringLiteral("does not exist");
        QTest::newRow("no-deno") << QStringLiteral("handler.ts") << QStringLiteral("/nonexistent/deno")
                                 << QStringLiteral("needs deno");
    }
    void refused() {
        QFETCH(QString, entry);
        QFETCH(QString, denoPath);
        QFETCH(QString, errorContains);
        Config config = m_config;
        if (!denoPath.isEmpty())
            config.denoPath = denoPath;
        RuntimeContext context = m_context;
        context.config = &config;
        QString error;
        QVERIFY(!createBackend(manifest(entry), m_source.path(), context, &error));
        QVERIFY2(error.contains(errorContains), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeDeno)
#include "tst_runtimedeno.moc"

// 256 MiB bodies through the ingress in both directions, sized and chunked, with
// checksums, while the process's peak RSS stays flat: the proxy streams, it never
// collects a body. Generator and consumer stream too, so the growth measured is ours.
#include "httpbackend.h"
#include "httpclient.h"
#include "httpharness.h"
#include "testutil.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTest>

using namespace portico;
using namespace portico::test;

class TestIngressStream final : public QObject {
    Q_OBJECT

private:
    static constexpr qint64 kSize = 256LL * 1024 * 1024;
    std::unique_ptr<HttpTestBackend> m_backend;
    std::unique_ptr<HttpProxyHarness> m_proxy;
    QByteArray m_expectedSha;
    qint64 m_baselineKiB = 0;

private Q_SLOTS:
    void initTestCase() {
        QLoggingCategory::setFilterRules(QStringLiteral("portico.access.info=false"));
        m_backend = std::make_unique<HttpTestBackend>();
        Config config;
        config.relayBufferBytes = 256 * 1024;
        m_proxy = std::make_unique<HttpProxyHarness>(config);
        m_proxy->publish({{QStringLiteral("big"), HttpProxyHarness::tcp(m_backend->port())}});
        m_expectedSha = httpPatternSha256(kSize);
        // Warm up every path once so that one-time allocations are in the baseline.
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        QVERIFY(c.send("GET /big/download?size=4194304&mode=chunked HTTP/1.1\r\nHost: x\r\n\r\n"));
        QCOMPARE(c.read(false, 10000, false).status, 200);
        QVERIFY(c.send("POST /big/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n"));
        QVERIFY(c.sendPattern(4 * 1024 * 1024, false));
        QCOMPARE(c.read().status, 200);
        m_baselineKiB = peakRssKiB(QCoreApplication::applicationPid());
        QVERIFY(m_baselineKiB > 0);
    }
    void cleanupTestCase() {
        m_proxy.reset();
        m_backend.reset();
    }

    void transfer_data() {
        QTest::addColumn<bool>("upload");
        QTest::addColumn<bool>("chunked");
        QTest::newRow("upload sized") << true << false;
        QTest::newRow("upload chunked") << true << true;
        QTest::newRow("download sized") << false << false;
        QTest::newRow("download chunked") << false << true;
    }
    void transfer() {
        QFETCH(bool, upload);
        QFETCH(bool, chunked);
        HttpTestClient c;
        QVERIFY(c.connectTo(m_proxy->port()));
        if (upload) {
            const QByteArray framing = chunked ? QByteArray("Transfer-Encoding: chunked\r\n")
                                               : "Content-Length: " + QByteArray::number(kSize) + "\r\n";
            QVERIFY(c.send("PUT /big/echo HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n"));
            QVERIFY(c.sendPattern(kSize, chunked, 50000));
            const HttpTestResponse r = c.read(false, 20000);
            QCOMPARE(r.status, 200);
            const QJsonObject o = QJsonDocument::fromJson(r.body).object();
            QCOMPARE(qint64(o.value(QStringLiteral("body_length")).toDouble()), kSize);
            QCOMPARE(o.value(QStringLiteral("body_sha256")).toString().toLatin1(), m_expectedSha);
        } else {
            QVERIFY(c.send("GET /big/download?size=" + QByteArray::number(kSize) +
                           (chunked ? "&mode=chunked" : "&mode=sized") + " HTTP/1.1\r\nHost: x\r\n\r\n"));
            const HttpTestResponse r = c.read(false, 50000, false);
            QVERIFY2(r.ok, qPrintable(r.error));
            QCOMPARE(r.status, 200);
            QCOMPARE(r.chunked, chunked);
            QCOMPARE(r.bodyLength, kSize);
            QCOMPARE(r.bodySha256, m_expectedSha);
        }
        const qint64 growthKiB = peakRssKiB(QCoreApplication::applicationPid()) - m_baselineKiB;
        // (Throughput is measured in tests/bench, not here.)
        qInfo("%s: 256 MiB through, peak RSS growth since start %lld KiB", QTest::currentDataTag(),
              growthKiB);
        QVERIFY2(growthKiB < 64 * 1024, qPrintable(QStringLiteral("peak RSS grew by %1 KiB").arg(growthKiB)));
    }
};

QTEST_GUILESS_MAIN(TestIngressStream)
#include "tst_ingressstream.moc"

// 256 MiB up and down through a real porticod's ingress, sized and chunked, checked by
// SHA-256, with the daemon's own peak RSS growth measured (from /proc) and bounded after
// every row.
#include "daemonfixture.h"
#include "httpbackend.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

using namespace portico::test;

namespace {

constexpr qint64 kSize = 256LL * 1024 * 1024;
constexpr qint64 kRssBoundKiB = 64 * 1024;

bool writeAll(QTcpSocket &s, const QByteArray &data) {
    s.write(data);
    while (s.bytesToWrite() > 4 * 1024 * 1024) {
        if (!s.waitForBytesWritten(30000))
            return false;
    }
    return true;
}

// Reads one response head; returns the status and leaves the body bytes already read in *rest.
int readHead(QTcpSocket &s, QByteArray *head, QByteArray *rest) {
    QByteArray buf;
    while (!buf.contains("\r\n\r\n")) {
        if (!s.waitForReadyRead(60000))
            return 0;
        buf += s.readAll();
    }
    const qsizetype end = buf.indexOf("\r\n\r\n");
    *head = buf.left(end);
    *rest = buf.mid(end + 4);
    return head->split(' ').value(1).toInt();
}

QByteArray upload(QTcpSocket &s, quint16 port, bool chunked) {
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(5000))
        return {};
    QByteArray head = "POST /big/echo HTTP/1.1\r\nHost: localhost\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + QByteArray::number(kSize) + "\r\n\r\n";
    s.write(head);
    const QByteArray &block = httpPatternBlock();
    for (qint64 sent = 0; sent < kSize; sent += block.size()) {
        const QByteArray piece = block.left(int(qMin<qint64>(block.size(), kSize - sent)));
        const QByteArray framed =
            chunked ? QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n" : piece;
        if (!writeAll(s, framed))
            return {};
    }
    if (chunked)
        s.write("0\r\n\r\n");
    QByteArray responseHead;
    QByteArray body;
    if (readHead(s, &responseHead, &body) != 200)
        return {};
    while (!QJsonDocument::fromJson(body).isObject() && s.waitForReadyRead(30000))
        body += s.readAll();
    return QJsonDocument::fromJson(body).object().value(QStringLiteral("body_sha256")).toString().toLatin1();
}

QByteArray download(QTcpSocket &s, quint16 port, const char *mode, qint64 *received) {
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(5000))
        return {};
    s.write("GET /big/download?size=" + QByteArray::number(kSize) + "&mode=" + mode +
            " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    QByteArray head;
    QByteArray pending;
    if (readHead(s, &head, &pending) != 200)
        return {};
    const bool chunked = head.toLower().contains("transfer-encoding: chunked");
    QCryptographicHash hash(QCryptographicHash::Sha256);
    *received = 0;
    qint64 chunkLeft = 0;
    bool done = false;
    // De-chunks as it goes; never holds more than what one read returned.
    const auto consume = [&] {
        while (!pending.isEmpty() && !done) {
            if (!chunked) {
                hash.addData(pending);
                *received += pending.size();
                pending.clear();
                return;
            }
            if (chunkLeft > 0) {
                const qint64 n = qMin<qint64>(chunkLeft, pending.size());
                hash.addData(QByteArrayView(pending.constData(), n));
                *received += n;
                pending.remove(0, n);
                chunkLeft -= n;
                if (chunkLeft == 0)
                    chunkLeft = -2; // the CRLF after the data
                continue;
            }
            if (chunkLeft == -2) {
                if (pending.size() < 2)
                    return;
                pending.remove(0, 2);
                chunkLeft = 0;
                continue;
            }
            const qsizetype nl = pending.indexOf("\r\n");
            if (nl < 0)
                return;
            chunkLeft = pending.left(nl).toLongLong(nullptr, 16);
            pending.remove(0, nl + 2);
            if (chunkLeft == 0)
                done = true;
        }
    };
    consume();
    while (!done && *received < kSize + 1) {
        if (!s.waitForReadyRead(30000))
            break;
        pending += s.readAll();
        consume();
    }
    return hash.result().toHex();
}

} // namespace

class TestDaemonStreaming : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void bodies_data();
    void bodies();

private:
    DaemonFixture m_daemon;
    std::unique_ptr<HttpTestBackend> m_backend;
    qint64 m_rssBeforeKiB = 0;
};

void TestDaemonStreaming::initTestCase() {
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    m_backend = std::make_unique<HttpTestBackend>();
    const QByteArray manifest =
        QStringLiteral(R"({"name":"big","runtime":"upstream","upstream":"127.0.0.1:%1"})")
            .arg(m_backend->port())
            .toUtf8();
    const QJsonObject r = m_daemon.deploy(manifest);
    QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson());
    QCOMPARE(DaemonFixture::httpGet(m_daemon.ingressPort(), "/big/head").status, 200);
    m_rssBeforeKiB = peakRssKiB(m_daemon.pid());
    QVERIFY(m_rssBeforeKiB > 0);
}

void TestDaemonStreaming::bodies_data() {
    QTest::addColumn<bool>("isUpload");
    QTest::addColumn<QByteArray>("mode");
    QTest::newRow("upload sized") << true << QByteArray("sized");
    QTest::newRow("upload chunked") << true << QByteArray("chunked");
    QTest::newRow("download sized") << false << QByteArray("sized");
    QTest::newRow("download chunked") << false << QByteArray("chunked");
}

void TestDaemonStreaming::bodies() {
    QFETCH(bool, isUpload);
    QFETCH(QByteArray, mode);
    QTcpSocket s;
    s.setReadBufferSize(1024 * 1024);
    if (isUpload) {
        QCOMPARE(upload(s, m_daemon.ingressPort(), mode == "chunked"), httpPatternSha256(kSize));
    } else {
        qint64 received = 0;
        const QByteArray sum = download(s, m_daemon.ingressPort(), mode.constData(), &received);
        QCOMPARE(received, kSize);
        QCOMPARE(sum, httpPatternSha256(kSize));
    }
    // Each row on its own (run alone or after the others): 256 MiB went through, and the
    // daemon's peak RSS since start-up stayed within a bound far below the body size.
    const qint64 after = peakRssKiB(m_daemon.pid());
    qInfo("porticod peak RSS: %lld KiB at start, %lld KiB after this row", m_rssBeforeKiB, after);
    QVERIFY2(after - m_rssBeforeKiB < kRssBoundKiB,
             qPrintable(QStringLiteral("peak RSS grew by %1 KiB").arg(after - m_rssBeforeKiB)));
}

QTEST_GUILESS_MAIN(TestDaemonStreaming)
#include "tst_daemon_streaming.moc"

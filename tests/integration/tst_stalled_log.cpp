// A log reader that stops reading must not stall the daemon: with the access log on and
// its output in a pipe nobody reads, thousands of requests are still served, and the
// admin socket still answers.
#include "daemonfixture.h"
#include "threadedbackend.h"

#include <QTcpSocket>
#include <QTest>

using namespace portico::test;

class TestStalledLog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void servesWhileNobodyReadsTheLog();
};

void TestStalledLog::servesWhileNobodyReadsTheLog() {
    DaemonFixture d;
    d.logToUnreadPipe = true;
    d.config.insert(QStringLiteral("access_log"), true);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    ThreadedBackend backend(ThreadedBackend::Mode::Http, "log");
    QVERIFY(d.deploy(QStringLiteral(R"({"name":"log","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                         .arg(backend.port())
                         .toUtf8())
                .contains(QStringLiteral("result")));

    // 40 batches of 100 pipelined requests: about 4000 access-log lines (~800 KiB), far
    // more than a pipe holds.
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, d.ingressPort());
    QVERIFY(s.waitForConnected(5000));
    const QByteArray request = "GET /log/x HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (int batch = 0; batch < 40; ++batch) {
        s.write(request.repeated(100));
        QByteArray got;
        QDeadlineTimer deadline(15000);
        while (got.count("hello from log GET /x") < 100 && !deadline.hasExpired() && s.waitForReadyRead(5000))
            got += s.readAll();
        QVERIFY2(
            got.count("hello from log GET /x") == 100,
            qPrintable(
                QStringLiteral("batch %1: %2 answers").arg(batch).arg(got.count("hello from log GET /x"))));
    }
    QVERIFY(d.call(QStringLiteral("daemon.info"), {}, 5000).contains(QStringLiteral("result")));
}

QTEST_GUILESS_MAIN(TestStalledLog)
#include "tst_stalled_log.moc"

#include "relayfixture.h"
#include "relayutil.h"

#include <QAbstractEventDispatcher>
#include <QElapsedTimer>
#include <QTest>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace portico;
using namespace portico::test;

// Relay throughput, measured and printed, never asserted (the box is shared). Compares a
// direct loopback connection with the same transfer through the relay.
class TestTcpRelayBench final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void throughput_data();
    void throughput();
};

namespace {

// Sends `total` bytes to port and returns MiB/s as seen by the receiver, -1 on failure.
double transfer(quint16 connectPort, int backendListen, qint64 total) {
    std::atomic<qint64> received{0};
    std::atomic<bool> done{false};
    QElapsedTimer clock;
    clock.start();
    std::thread backend([&] {
        const int fd = acceptWithin(backendListen, 10000);
        timeval tv{20, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        QByteArray buf(1024 * 1024, Qt::Uninitialized);
        for (;;) {
            const ssize_t n = ::recv(fd, buf.data(), size_t(buf.size()), 0);
            if (n <= 0)
                break;
            received += n;
        }
        closeFd(fd);
        done = true;
    });
    const int fd = tcpConnect(QHostAddress::LocalHost, connectPort);
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const QByteArray block(1024 * 1024, 'x');
    for (qint64 sent = 0; sent < total;) {
        const ssize_t n =
            ::send(fd, block.constData(), size_t(qMin<qint64>(block.size(), total - sent)), MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += n;
    }
    closeFd(fd);
    backend.join();
    const double secs = double(clock.nsecsElapsed()) / 1e9;
    return received == total ? double(total) / (1024.0 * 1024.0) / secs : -1;
}

} // namespace

void TestTcpRelayBench::throughput_data() {
    QTest::addColumn<bool>("throughRelay");
    QTest::newRow("direct loopback (baseline)") << false;
    QTest::newRow("through the relay") << true;
}

void TestTcpRelayBench::throughput() {
    QFETCH(bool, throughRelay);
    constexpr qint64 total = 512LL * 1024 * 1024;
    constexpr int runs = 5;
    RelayFixture fx;
    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    QVERIFY(backendListen >= 0);
    quint16 port = backendPort;
    if (throughRelay) {
        fx.setTarget(QStringLiteral("bench"), tcpTarget(QStringLiteral("127.0.0.1"), backendPort));
        ListenerManager *m = fx.manager();
        QString error;
        const ListenerId id = m->open(RelayFixture::options(Protocol::Tcp, QStringLiteral("bench")), &error);
        QVERIFY2(id, qPrintable(error));
        port = m->boundPort(id);
        QString dispatcher;
        QMetaObject::invokeMethod(
            fx.workers()->context(0),
            [&dispatcher] {
                dispatcher =
                    QString::fromLatin1(QAbstractEventDispatcher::instance()->metaObject()->className());
            },
            Qt::BlockingQueuedConnection);
        qInfo("worker event dispatcher: %s", qPrintable(dispatcher));
    }
    QList<double> rates;
    for (int i = 0; i < runs; ++i) {
        const double r = transfer(port, backendListen, total);
        QVERIFY(r > 0);
        rates.append(r);
    }
    std::sort(rates.begin(), rates.end());
    qInfo("%s: median %.0f MiB/s over %d runs of 512 MiB (min %.0f, max %.0f)", QTest::currentDataTag(),
          rates.at(runs / 2), runs, rates.first(), rates.last());
    closeFd(backendListen);
}

QTEST_GUILESS_MAIN(TestTcpRelayBench)
#include "tst_tcprelaybench.moc"

// tcprelaybench: the TCP relay's throughput in-process, next to a direct loopback
// transfer as the baseline. A measuring tool run by hand, not a test: it asserts nothing
// and is not registered with ctest (it moved here from tests/integration, where 5 GiB
// through ctest checked only that a rate was positive).
//
//   build/tests/tcprelaybench [MiB per run, default 512] [runs, default 5]
//
// It runs the same ListenerManager + WorkerPool as porticod (through the tests'
// RelayFixture), one connection at a time, and prints the median rate of each setup.
#include "relayfixture.h"
#include "relayutil.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QElapsedTimer>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

using namespace portico;
using namespace portico::test;

namespace {

// Sends `total` bytes to port and returns MiB/s as seen by the receiver, -1 on failure.
double transfer(quint16 connectPort, int backendListen, qint64 total) {
    std::atomic<qint64> received{0};
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
    });
    const int fd = tcpConnect(QHostAddress::LocalHost, connectPort);
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const QByteArray block(1024 * 1024, 'x');
    for (qint64 sent = 0; fd >= 0 && sent < total;) {
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

// Median, min and max MiB/s of `runs` transfers to port; false when one failed.
bool measure(const char *label, quint16 port, int backendListen, qint64 total, int runs) {
    QList<double> rates;
    for (int i = 0; i < runs; ++i) {
        const double r = transfer(port, backendListen, total);
        if (r <= 0) {
            std::fprintf(stderr, "%s: transfer %d failed\n", label, i + 1);
            return false;
        }
        rates.append(r);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%-28s median %6.0f MiB/s over %d runs of %lld MiB (min %.0f, max %.0f)\n", label,
                rates.at(runs / 2), runs, total / (1024 * 1024), rates.first(), rates.last());
    return true;
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const qint64 mib = args.size() > 1 ? args.at(1).toLongLong() : 512;
    const int runs = args.size() > 2 ? args.at(2).toInt() : 5;
    if (mib <= 0 || runs <= 0) {
        std::fprintf(stderr, "usage: tcprelaybench [MiB per run] [runs]\n");
        return 2;
    }
    const qint64 total = mib * 1024 * 1024;

    quint16 backendPort = 0;
    const int backendListen = tcpListen(QHostAddress::LocalHost, &backendPort);
    if (backendListen < 0) {
        std::fprintf(stderr, "tcprelaybench: cannot listen on 127.0.0.1\n");
        return 1;
    }
    RelayFixture fx;
    fx.setTarget(QStringLiteral("bench"), tcpTarget(QStringLiteral("127.0.0.1"), backendPort));
    ListenerManager *m = fx.manager();
    QString error;
    const ListenerId id = m->open(RelayFixture::options(Protocol::Tcp, QStringLiteral("bench")), &error);
    if (!id) {
        std::fprintf(stderr, "tcprelaybench: %s\n", qPrintable(error));
        return 1;
    }
    QString dispatcher;
    QMetaObject::invokeMethod(
        fx.workers()->context(0),
        [&dispatcher] {
            dispatcher = QString::fromLatin1(QAbstractEventDispatcher::instance()->metaObject()->className());
        },
        Qt::BlockingQueuedConnection);
    std::printf("worker event dispatcher: %s\n", qPrintable(dispatcher));

    const bool ok = measure("direct loopback (baseline)", backendPort, backendListen, total, runs) &&
                    measure("through the relay", m->boundPort(id), backendListen, total, runs);
    closeFd(backendListen);
    return ok ? 0 : 1;
}

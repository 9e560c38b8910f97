// The workers' epoll event loop: Qt's timers, socket notifiers and queued calls work on it
// as on Qt's own dispatchers, and its own pieces (deadline lists, deferred deletion,
// direct handlers, the buffer pool) do what the data plane relies on.
#include "net/conn/bytequeue.h"
#include "net/loop/bufferpool.h"
#include "net/loop/deadlines.h"
#include "net/loop/eventloop.h"
#include <algorithm>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

using namespace portico;

namespace {

// A thread running an EventLoop, with a context object living in it.
class LoopThread {
public:
    LoopThread() {
        m_thread.setEventDispatcher(new EventLoop);
        m_thread.start();
        m_context.moveToThread(&m_thread);
    }
    ~LoopThread() {
        run([this] { m_context.moveToThread(nullptr); });
        m_thread.quit();
        m_thread.wait();
    }
    template <typename Fn> void run(Fn fn) {
        QMetaObject::invokeMethod(&m_context, fn, Qt::BlockingQueuedConnection);
    }
    template <typename Fn> void post(Fn fn) {
        QMetaObject::invokeMethod(&m_context, fn, Qt::QueuedConnection);
    }
    QObject *context() { return &m_context; }
    EventLoop *loop() { return static_cast<EventLoop *>(m_thread.eventDispatcher()); }

private:
    QThread m_thread;
    QObject m_context;
};

struct Recorder final : Deadline {
    std::vector<int> *log = nullptr;
    int id = 0;
    DeadlineLists *lists = nullptr;
    int rearmMs = 0; // re-arms itself once from its own callback
    qint64 now = 0;
    void expired() override {
        log->push_back(id);
        if (rearmMs > 0) {
            const int ms = std::exchange(rearmMs, 0);
            lists->arm(*this, now, ms);
        }
    }
};

struct Counted final : Retirable {
    std::atomic<int> *alive;
    explicit Counted(std::atomic<int> *a) : alive(a) { ++*alive; }
    ~Counted() override { --*alive; }
};

} // namespace

class TestEventLoop final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void installedAndCurrent() {
        LoopThread t;
        EventLoop *inThread = nullptr;
        t.run([&] { inThread = EventLoop::current(); });
        QVERIFY(inThread);
        QCOMPARE(inThread, t.loop());
        QCOMPARE(EventLoop::current(), nullptr); // the test's main thread runs Qt's own
    }

    void singleShotAndRepeatingTimers() {
        LoopThread t;
        std::atomic<int> single{0};
        std::atomic<int> repeating{0};
        t.run([&] {
            QTimer::singleShot(20, t.context(), [&] { ++single; });
            auto *timer = new QTimer(t.context());
            QObject::connect(timer, &QTimer::timeout, timer, [&, timer] {
                if (++repeating == 5)
                    timer->stop();
            });
            timer->start(5);
        });
        QTRY_COMPARE(single.load(), 1);
        QTRY_COMPARE(repeating.load(), 5);
        // Stopped means stopped: no sixth timeout however long we look (a window, by design).
        QTest::qWait(50);
        QCOMPARE(repeating.load(), 5);
        QCOMPARE(single.load(), 1);
    }

    void timerBookkeeping() {
        LoopThread t;
        t.run([&] {
            auto *timer = new QTimer(t.context());
            timer->start(10'000);
            auto *dispatcher = QAbstractEventDispatcher::instance();
            const auto infos = dispatcher->registeredTimers(timer);
            QCOMPARE(infos.size(), 1);
            QCOMPARE(infos.first().interval, 10'000);
            const int remaining = dispatcher->remainingTime(timer->timerId());
            QVERIFY(remaining > 9'000 && remaining <= 10'000);
            timer->stop();
            QCOMPARE(dispatcher->registeredTimers(timer).size(), 0);
            QCOMPARE(dispatcher->remainingTime(12345), -1);
            delete timer;
        });
    }

    void socketNotifierAndQueuedCalls() {
        int sv[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        LoopThread t;
        std::atomic<int> reads{0};
        QByteArray got;
        t.run([&] {
            auto *n = new QSocketNotifier(sv[0], QSocketNotifier::Read, t.context());
            QObject::connect(n, &QSocketNotifier::activated, n, [&, n] {
                char buf[64];
                const ssize_t r = ::read(sv[0], buf, sizeof buf);
                if (r > 0)
                    got.append(buf, r);
                if (++reads == 2)
                    n->setEnabled(false);
            });
        });
        QCOMPARE(::write(sv[1], "ab", 2), 2);
        QTRY_COMPARE(reads.load(), 1);
        QCOMPARE(::write(sv[1], "cd", 2), 2);
        QTRY_COMPARE(reads.load(), 2);
        // Disabled: more bytes wake nobody.
        QCOMPARE(::write(sv[1], "ef", 2), 2);
        std::atomic<bool> queued{false};
        t.post([&] { queued = true; }); // a queued call from another thread wakes the loop
        QTRY_VERIFY(queued.load());
        QCOMPARE(reads.load(), 2);
        t.run([&] { QCOMPARE(got, QByteArray("abcd")); });
        ::close(sv[0]);
        ::close(sv[1]);
    }

    // Level-triggered as Qt expects: a notifier whose bytes are not read fires again.
    void notifierIsLevelTriggered() {
        int sv[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        LoopThread t;
        std::atomic<int> fired{0};
        t.run([&] {
            auto *n = new QSocketNotifier(sv[0], QSocketNotifier::Read, t.context());
            QObject::connect(n, &QSocketNotifier::activated, n, [&, n] {
                if (++fired == 3)
                    n->setEnabled(false);
            });
        });
        QCOMPARE(::write(sv[1], "x", 1), 1);
        QTRY_COMPARE(fired.load(), 3);
        ::close(sv[0]);
        ::close(sv[1]);
    }

    // Direct handlers: registered once, edge-triggered, told of each new arrival.
    void directHandlerEdgeTriggered() {
        int sv[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        struct H final : IoHandler {
            std::atomic<int> events{0};
            void onIo(quint32) override { ++events; }
        } handler;
        LoopThread t;
        t.run([&] { QVERIFY(t.loop()->add(sv[0], EPOLLIN | EPOLLET, &handler)); });
        QCOMPARE(::write(sv[1], "x", 1), 1);
        QTRY_COMPARE(handler.events.load(), 1);
        // Nothing was read, and no new bytes came: edge-triggered, so no second event.
        QTest::qWait(30);
        QCOMPARE(handler.events.load(), 1);
        QCOMPARE(::write(sv[1], "y", 1), 1);
        QTRY_COMPARE(handler.events.load(), 2);
        t.run([&] { t.loop()->remove(sv[0]); });
        ::close(sv[0]);
        ::close(sv[1]);
    }

    void deadlinesFireInOrder() {
        DeadlineLists lists;
        std::vector<int> log;
        Recorder a, b, c, d;
        for (auto [r, id] : {std::pair{&a, 1}, {&b, 2}, {&c, 3}, {&d, 4}}) {
            r->log = &log;
            r->id = id;
            r->lists = &lists;
        }
        lists.arm(a, 0, 100);  // at 100
        lists.arm(b, 10, 50);  // at 60
        lists.arm(c, 20, 100); // at 120
        lists.arm(d, 30, 50);  // at 80
        QCOMPARE(lists.armedCount(), 4);
        QCOMPARE(lists.next(), qint64(60));
        QCOMPARE(lists.expire(59), 0);
        QCOMPARE(lists.expire(80), 2);
        QCOMPARE(log, (std::vector<int>{2, 4}));
        // Re-arming moves a deadline to the end of its list.
        lists.arm(a, 90, 100); // at 190
        QCOMPARE(lists.next(), qint64(120));
        c.cancel();
        QCOMPARE(lists.next(), qint64(190));
        QCOMPARE(lists.armedCount(), 1);
        QVERIFY(!c.armed());
        // A callback may arm again (later than now): it fires again, not in a loop.
        a.rearmMs = 5;
        a.now = 190;
        QCOMPARE(lists.expire(190), 1);
        QVERIFY(a.armed());
        QCOMPARE(a.at(), qint64(195));
        QCOMPARE(lists.expire(200), 1);
        QCOMPARE(log, (std::vector<int>{2, 4, 1, 1}));
        QCOMPARE(lists.armedCount(), 0);
        QCOMPARE(lists.next(), qint64(-1));
    }

    void deadlinesDriveTheLoop() {
        LoopThread t;
        struct Fire final : Deadline {
            std::atomic<int> fired{0};
            void expired() override { ++fired; }
        } fire;
        t.run([&] { t.loop()->arm(fire, 30); });
        QTRY_COMPARE(fire.fired.load(), 1);
        t.run([&] { QVERIFY(!fire.armed()); });
    }

    // Retired objects outlive the batch that retired them, then go.
    void retiredAfterTheBatch() {
        LoopThread t;
        std::atomic<int> alive{0};
        bool stillThere = false;
        t.run([&] {
            t.loop()->retire(std::make_unique<Counted>(&alive));
            stillThere = alive == 1;
        });
        QVERIFY(stillThere);
        QTRY_COMPARE(alive.load(), 0);
    }

    // Buffers go back to the pool and, past its cache, to the kernel.
    void bufferPool() {
        BufferPool pool(2);
        std::vector<char *> blocks;
        for (int i = 0; i < 5; ++i) {
            blocks.push_back(pool.acquire());
            QVERIFY(blocks.back());
            blocks.back()[0] = char(i);
            blocks.back()[BufferPool::kBlockSize - 1] = char(i);
        }
        QCOMPARE(pool.stats().inUse, qint64(5));
        QCOMPARE(pool.stats().peak, qint64(5));
        for (char *b : blocks)
            pool.release(b);
        QCOMPARE(pool.stats().inUse, qint64(0));
        // Kept while the load may come back: the last period used five at once.
        QCOMPARE(pool.stats().cached, qint64(5));
        QVERIFY(pool.overCache());
        char *again = pool.acquire();
        QVERIFY(std::find(blocks.begin(), blocks.end(), again) != blocks.end()); // reused, not mapped
        pool.release(again);
        // The first trim keeps what the period's peak needed; the next, with no load in
        // between, gives all but the base cache back.
        QVERIFY(pool.trim());
        QCOMPARE(pool.stats().cached, qint64(5));
        QVERIFY(!pool.trim());
        QCOMPARE(pool.stats().cached, qint64(2));
        QCOMPARE(pool.stats().peak, qint64(5));
    }

    // Moving bytes between queues leaves each queue with the pool its owner gave it: the
    // retry of a stale pooled backend connection once left its queue poolless, and the
    // next request on that client crashed in BufferPool::acquire.
    void byteQueuesKeepTheirPool() {
        BufferPool pool(2);
        ByteQueue a(&pool), b(&pool);
        QVERIFY(a.append("head", 4));
        b.swap(a);
        QVERIFY(a.isEmpty());
        QCOMPARE(b.size(), qint64(4));
        QVERIFY(a.append("again", 5)); // a can still take blocks
        QCOMPARE(pool.stats().inUse, qint64(2));
        ByteQueue c(&pool);
        QVERIFY(c.takeAll(a));
        QVERIFY(a.isEmpty());
        QVERIFY(a.append("third", 5));
        QVERIFY(c.takeAll(b)); // appended behind what c holds
        char out[16] = {};
        QCOMPARE(c.take(out, sizeof out), qint64(9));
        QCOMPARE(QByteArray(out, 9), QByteArray("againhead"));
        a.clear();
        QCOMPARE(pool.stats().inUse, qint64(0));
    }

    void buffersBeyondTheCacheGoBackOnTheirOwn() {
        // The loop trims by itself after a burst: nothing but time passes in the thread.
        LoopThread t;
        t.run([&] {
            BufferPool &pool = t.loop()->buffers();
            std::vector<char *> blocks;
            for (int i = 0; i < 400; ++i)
                blocks.push_back(pool.acquire());
            for (char *b : blocks)
                pool.release(b);
        });
        QCOMPARE(t.loop()->bufferStats().cached, qint64(400));
        QTRY_COMPARE_WITH_TIMEOUT(t.loop()->bufferStats().cached, qint64(256), 10000);
    }
};

QTEST_GUILESS_MAIN(TestEventLoop)
#include "tst_eventloop.moc"

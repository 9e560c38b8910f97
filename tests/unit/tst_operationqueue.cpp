// The order of the daemon's changes: one project's operations in order, different
// projects' at once, a reload (exclusive) alone.
#include "core/operationqueue.h"

#include <QTest>

#include <map>

using namespace portico;

namespace {

// Operations that stay running until the test finishes them by name.
struct Recorder {
    OperationQueue queue;
    QStringList started;
    std::map<QString, OperationQueue::Done> running;

    void run(const QString &key, const QString &label) {
        queue.run(key, [this, label](OperationQueue::Done done) {
            started << label;
            running[label] = std::move(done);
        });
    }
    void runExclusive(const QString &label) {
        queue.runExclusive([this, label](OperationQueue::Done done) {
            started << label;
            running[label] = std::move(done);
        });
    }
    void finish(const QString &label) {
        auto done = std::move(running.at(label));
        running.erase(label);
        done();
    }
};

} // namespace

class TestOperationQueue : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void differentKeysRunAtOnce();
    void oneKeyRunsInOrder();
    void exclusiveWaitsForAllAndHoldsLaterOnes();
    void operationsThatFinishAtOnceDrainTheLine();
    void doneTwiceCountsOnce();
};

void TestOperationQueue::differentKeysRunAtOnce() {
    Recorder r;
    r.run(QStringLiteral("a"), QStringLiteral("a1"));
    r.run(QStringLiteral("b"), QStringLiteral("b1"));
    QCOMPARE(r.started, (QStringList{"a1", "b1"}));
    QCOMPARE(r.queue.runningCount(), 2);
    // b finishes first: nothing waits on a for it.
    r.finish(QStringLiteral("b1"));
    QVERIFY(r.queue.isRunning(QStringLiteral("a")));
    QVERIFY(!r.queue.isRunning(QStringLiteral("b")));
}

void TestOperationQueue::oneKeyRunsInOrder() {
    Recorder r;
    r.run(QStringLiteral("a"), QStringLiteral("a1"));
    r.run(QStringLiteral("a"), QStringLiteral("a2"));
    r.run(QStringLiteral("b"), QStringLiteral("b1"));
    r.run(QStringLiteral("a"), QStringLiteral("a3"));
    QCOMPARE(r.started, (QStringList{"a1", "b1"}));
    QCOMPARE(r.queue.waitingCount(), 2);
    r.finish(QStringLiteral("a1"));
    QCOMPARE(r.started, (QStringList{"a1", "b1", "a2"}));
    r.finish(QStringLiteral("a2"));
    QCOMPARE(r.started, (QStringList{"a1", "b1", "a2", "a3"}));
}

void TestOperationQueue::exclusiveWaitsForAllAndHoldsLaterOnes() {
    Recorder r;
    r.run(QStringLiteral("a"), QStringLiteral("a1"));
    r.run(QStringLiteral("b"), QStringLiteral("b1"));
    r.runExclusive(QStringLiteral("reload"));
    r.run(QStringLiteral("c"), QStringLiteral("c1")); // asked after the reload: waits for it
    QCOMPARE(r.started, (QStringList{"a1", "b1"}));
    r.finish(QStringLiteral("a1"));
    QCOMPARE(r.started, (QStringList{"a1", "b1"}));
    r.finish(QStringLiteral("b1"));
    QCOMPARE(r.started, (QStringList{"a1", "b1", "reload"}));
    r.run(QStringLiteral("d"), QStringLiteral("d1"));
    QCOMPARE(r.started.size(), 3);
    r.finish(QStringLiteral("reload"));
    QCOMPARE(r.started, (QStringList{"a1", "b1", "reload", "c1", "d1"}));
}

void TestOperationQueue::operationsThatFinishAtOnceDrainTheLine() {
    OperationQueue q;
    QStringList order;
    // Each finishes inside its own call and asks for the next: no recursion into a
    // half-updated line, nothing lost.
    for (int i = 0; i < 5; ++i) {
        q.run(QStringLiteral("a"), [&q, &order, i](OperationQueue::Done done) {
            order << QStringLiteral("a%1").arg(i);
            if (i == 0)
                q.run(QStringLiteral("b"), [&order](OperationQueue::Done d) {
                    order << QStringLiteral("b");
                    d();
                });
            done();
        });
    }
    QCOMPARE(order, (QStringList{"a0", "b", "a1", "a2", "a3", "a4"}));
    QCOMPARE(q.runningCount(), 0);
    QCOMPARE(q.waitingCount(), 0);
}

void TestOperationQueue::doneTwiceCountsOnce() {
    Recorder r;
    OperationQueue::Done kept;
    r.queue.run(QStringLiteral("a"), [&kept](OperationQueue::Done done) { kept = done; });
    r.run(QStringLiteral("a"), QStringLiteral("a2"));
    r.run(QStringLiteral("a"), QStringLiteral("a3"));
    kept();
    kept(); // a second call must not let a3 run beside a2
    QCOMPARE(r.started, QStringList{QStringLiteral("a2")});
}

QTEST_GUILESS_MAIN(TestOperationQueue)
#include "tst_operationqueue.moc"

// The data plane's descriptor budget: what it leaves for the control plane, so that an
// operator gets in (admin_max_clients of them) while a flood holds every data descriptor.
#include "net/loop/fdbudget.h"

#include <QTest>

using namespace portico;

class TestFdBudget final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sizedFromTheFileLimit_data() {
        QTest::addColumn<qint64>("nofile");
        QTest::addColumn<int>("adminClients");
        QTest::addColumn<qint64>("budget");
        QTest::addColumn<bool>("capped");
        QTest::newRow("the machine's hard limit: an eighth is kept")
            << qint64(20000) << 256 << qint64(17500) << false;
        QTest::newRow("1024: room for 256 admin clients and 64 more")
            << qint64(1024) << 256 << qint64(704) << false;
        QTest::newRow("no admin clients: the eighth") << qint64(1024) << 0 << qint64(896) << false;
        QTest::newRow("small limit: at least 64 kept") << qint64(256) << 0 << qint64(192) << false;
        QTest::newRow("admin clients past half: half is kept, and said")
            << qint64(512) << 256 << qint64(256) << true;
        QTest::newRow("tiny limit: the data plane still gets 16, the reserve does not fit")
            << qint64(40) << 0 << qint64(16) << true;
    }
    void sizedFromTheFileLimit() {
        QFETCH(qint64, nofile);
        QFETCH(int, adminClients);
        QFETCH(qint64, budget);
        QFETCH(bool, capped);
        QCOMPARE(FdBudget::forFileLimit(nofile, adminClients), budget);
        QCOMPARE(FdBudget::reserveCapped(nofile, adminClients), capped);
    }

    void takeNeverGoesOver() {
        FdBudget b(3);
        QVERIFY(b.take(2));
        QVERIFY(!b.take(2)); // all or nothing
        QCOMPARE(b.used(), qint64(2));
        QVERIFY(b.take(1));
        QVERIFY(b.tight(1));
        b.give(3);
        QCOMPARE(b.used(), qint64(0));
        QVERIFY(!b.tight(1));
    }
};

QTEST_GUILESS_MAIN(TestFdBudget)
#include "tst_fdbudget.moc"

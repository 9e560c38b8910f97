// The Prometheus text format writer (daemon/metrics/exposition) and the metrics_listen
// address: label values escaped as the format 0.0.4 says, HELP and TYPE once per family
// with its samples together, values written exactly.
#include "config/config.h"
#include "metrics/exposition.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace portico;

class TestExposition final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void escapesLabelValues_data();
    void escapesLabelValues();
    void escapesHelp();
    void familyOnceWithItsSamplesTogether();
    void values_data();
    void values();
    void emptyLabelsHaveNoBraces();
    void listenAddress_data();
    void listenAddress();
};

void TestExposition::escapesLabelValues_data() {
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("plain") << QByteArray("web") << QByteArray("m{project=\"web\"} 1\n");
    QTest::newRow("backslash") << QByteArray("a\\b") << QByteArray("m{project=\"a\\\\b\"} 1\n");
    QTest::newRow("quote") << QByteArray("say \"hi\"") << QByteArray("m{project=\"say \\\"hi\\\"\"} 1\n");
    QTest::newRow("newline") << QByteArray("two\nlines") << QByteArray("m{project=\"two\\nlines\"} 1\n");
    QTest::newRow("all three") << QByteArray("\\\"\n") << QByteArray("m{project=\"\\\\\\\"\\n\"} 1\n");
    QTest::newRow("utf-8 as is") << QByteArray("caf\xc3\xa9") << QByteArray("m{project=\"caf\xc3\xa9\"} 1\n");
    QTest::newRow("empty") << QByteArray() << QByteArray("m{project=\"\"} 1\n");
}

void TestExposition::escapesLabelValues() {
    QFETCH(QByteArray, raw);
    QFETCH(QByteArray, line);
    Exposition e;
    e.family("m", Exposition::Type::Gauge, "A gauge.");
    e.sample("m", {{"project", raw}}, quint64(1));
    QCOMPARE(e.text(), QByteArray("# HELP m A gauge.\n# TYPE m gauge\n") + line);
}

void TestExposition::escapesHelp() {
    // In HELP only the backslash and the newline are escaped; a quote stays.
    Exposition e;
    e.family("m", Exposition::Type::Gauge, "a\\b \"q\"\nnext");
    e.sample("m", {}, quint64(0));
    QCOMPARE(e.text(), QByteArray("# HELP m a\\\\b \"q\"\\nnext\n# TYPE m gauge\nm 0\n"));
}

void TestExposition::familyOnceWithItsSamplesTogether() {
    Exposition e;
    e.family("a_total", Exposition::Type::Counter, "As.");
    e.family("b", Exposition::Type::Gauge, "Bs.");
    e.sample("a_total", {{"k", "1"}}, quint64(1));
    e.sample("b", {{"k", "1"}}, quint64(10));
    e.family("a_total", Exposition::Type::Counter, "As again."); // the first declaration stays
    e.sample("a_total", {{"k", "2"}}, quint64(2));
    e.sample("b", {{"k", "2"}}, quint64(20));
    QCOMPARE(e.text(), QByteArray("# HELP a_total As.\n# TYPE a_total counter\n"
                                  "a_total{k=\"1\"} 1\na_total{k=\"2\"} 2\n"
                                  "# HELP b Bs.\n# TYPE b gauge\n"
                                  "b{k=\"1\"} 10\nb{k=\"2\"} 20\n"));
    QCOMPARE(e.text().count("# TYPE a_total"), 1);
}

void TestExposition::values_data() {
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("whole") << 42.0 << QByteArray("42");
    QTest::newRow("negative") << -3.0 << QByteArray("-3");
    QTest::newRow("fraction") << 1796013596.016 << QByteArray("1796013596.016");
    QTest::newRow("small") << 0.25 << QByteArray("0.25");
    QTest::newRow("NaN") << std::nan("") << QByteArray("NaN");
    QTest::newRow("+Inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
    QTest::newRow("-Inf") << -std::numeric_limits<double>::infinity() << QByteArray("-Inf");
}

void TestExposition::values() {
    QFETCH(double, value);
    QFETCH(QByteArray, text);
    QCOMPARE(Exposition::formatValue(value), text);
}

void TestExposition::emptyLabelsHaveNoBraces() {
    Exposition e;
    e.family("c_total", Exposition::Type::Counter, "Cs.");
    // Past 2^53 a counter stays exact.
    e.sample("c_total", {}, quint64(18446744073709551615ULL));
    QVERIFY(e.text().endsWith("\nc_total 18446744073709551615\n"));
}

void TestExposition::listenAddress_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("IPv4") << QStringLiteral("127.0.0.1:9464") << true << QStringLiteral("127.0.0.1") << 9464;
    QTest::newRow("any") << QStringLiteral("0.0.0.0:80") << true << QStringLiteral("0.0.0.0") << 80;
    QTest::newRow("port 0") << QStringLiteral("127.0.0.1:0") << true << QStringLiteral("127.0.0.1") << 0;
    QTest::newRow("IPv6") << QStringLiteral("[::1]:9464") << true << QStringLiteral("::1") << 9464;
    QTest::newRow("IPv6 unbracketed") << QStringLiteral("::1:9464") << false << QString() << 0;
    QTest::newRow("IPv4 bracketed") << QStringLiteral("[127.0.0.1]:1") << false << QString() << 0;
    QTest::newRow("no port") << QStringLiteral("127.0.0.1") << false << QString() << 0;
    QTest::newRow("empty port") << QStringLiteral("127.0.0.1:") << false << QString() << 0;
    QTest::newRow("no host") << QStringLiteral(":9464") << false << QString() << 0;
    QTest::newRow("name") << QStringLiteral("localhost:9464") << false << QString() << 0;
    QTest::newRow("port too big") << QStringLiteral("127.0.0.1:65536") << false << QString() << 0;
    QTest::newRow("negative port") << QStringLiteral("127.0.0.1:-1") << false << QString() << 0;
    QTest::newRow("plus port") << QStringLiteral("127.0.0.1:+1") << false << QString() << 0;
}

void TestExposition::listenAddress() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, host);
    QFETCH(int, port);
    QHostAddress a;
    quint16 p = 1;
    QString error;
    QCOMPARE(parseListenAddress(text, &a, &p, &error), ok);
    if (ok) {
        QCOMPARE(a, QHostAddress(host));
        QCOMPARE(int(p), port);
    } else {
        QVERIFY(error.contains(text));
    }
    // The config key says the same, naming itself.
    Config c;
    QStringList errors;
    QCOMPARE(c.apply({{QStringLiteral("metrics_listen"), text}}, &errors), ok);
    if (!ok)
        QVERIFY2(errors.value(0).startsWith(QStringLiteral("metrics_listen: ")),
                 qPrintable(errors.join(';')));
}

QTEST_MAIN(TestExposition)
#include "tst_exposition.moc"

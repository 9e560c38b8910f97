// How the daemon's log lines are dressed: syslog priority prefixes for journald, an ISO
// time and a level elsewhere, nothing added under QT_MESSAGE_PATTERN.
#include "core/logsink.h"

#include <QTemporaryFile>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace portico;

class TestLogSink : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cleanup() {
        qunsetenv("JOURNAL_STREAM");
        qunsetenv("QT_MESSAGE_PATTERN");
    }
    void format_data();
    void format();
    void detect_data();
    void detect();
};

void TestLogSink::format_data() {
    QTest::addColumn<int>("style");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("expected");
    const auto J = int(logsink::Style::Journal);
    const auto P = int(logsink::Style::Plain);
    QTest::newRow("journal debug") << J << int(QtDebugMsg) << "portico.http: x"
                                   << QByteArray("<7>portico.http: x\n");
    QTest::newRow("journal info") << J << int(QtInfoMsg) << "portico.daemon: up"
                                  << QByteArray("<6>portico.daemon: up\n");
    QTest::newRow("journal warning") << J << int(QtWarningMsg) << "w" << QByteArray("<4>w\n");
    QTest::newRow("journal critical") << J << int(QtCriticalMsg) << "c" << QByteArray("<3>c\n");
    QTest::newRow("journal: every line of a message")
        << J << int(QtWarningMsg) << "first\nsecond" << QByteArray("<4>first\n<4>second\n");
    QTest::newRow("plain info") << P << int(QtInfoMsg) << "portico.daemon: up"
                                << QByteArray("2025-01-02T03:04:05.678Z info portico.daemon: up\n");
    QTest::newRow("plain warning") << P << int(QtWarningMsg) << "w"
                                   << QByteArray("2025-01-02T03:04:05.678Z warning w\n");
    QTest::newRow("plain critical, two lines")
        << P << int(QtCriticalMsg) << "a\nb"
        << QByteArray("2025-01-02T03:04:05.678Z critical a\n2025-01-02T03:04:05.678Z critical b\n");
    QTest::newRow("QT_MESSAGE_PATTERN: as formatted")
        << int(logsink::Style::Pattern) << int(QtWarningMsg) << "12:00 w" << QByteArray("12:00 w\n");
}

void TestLogSink::format() {
    QFETCH(int, style);
    QFETCH(int, type);
    QFETCH(QString, text);
    QFETCH(QByteArray, expected);
    const QDateTime when(QDate(2025, 1, 2), QTime(3, 4, 5, 678), Qt::UTC);
    QCOMPARE(logsink::formatLine(logsink::Style(style), QtMsgType(type), text, when), expected);
}

void TestLogSink::detect_data() {
    QTest::addColumn<QString>("journalStream"); // "%1": stderr's own device:inode
    QTest::addColumn<QByteArray>("pattern");
    QTest::addColumn<int>("expected");
    QTest::newRow("stderr is the journal") << "%1" << QByteArray() << int(logsink::Style::Journal);
    QTest::newRow("another stream (stderr redirected)")
        << "1:2" << QByteArray() << int(logsink::Style::Plain);
    QTest::newRow("garbage") << "journal" << QByteArray() << int(logsink::Style::Plain);
    QTest::newRow("no JOURNAL_STREAM") << "" << QByteArray() << int(logsink::Style::Plain);
    QTest::newRow("QT_MESSAGE_PATTERN wins")
        << "%1" << QByteArray("%{message}") << int(logsink::Style::Pattern);
}

void TestLogSink::detect() {
    QFETCH(QString, journalStream);
    QFETCH(QByteArray, pattern);
    QFETCH(int, expected);
    struct stat st {};
    QVERIFY(::fstat(STDERR_FILENO, &st) == 0);
    const QString own = QStringLiteral("%1:%2").arg(qulonglong(st.st_dev)).arg(qulonglong(st.st_ino));
    if (!journalStream.isEmpty())
        qputenv("JOURNAL_STREAM", journalStream.arg(own).toLatin1());
    if (!pattern.isEmpty())
        qputenv("QT_MESSAGE_PATTERN", pattern);
    QCOMPARE(int(logsink::detectStyle()), expected);
}

QTEST_GUILESS_MAIN(TestLogSink)
#include "tst_logsink.moc"

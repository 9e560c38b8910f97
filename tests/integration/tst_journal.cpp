// A real porticod's stderr as journald and a terminal see it, and a persisted project
// whose source folder is gone (a moved or re-cloned checkout): reported once, by name and
// path, holding no port.
#include "daemonfixture.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTest>

#include <sys/stat.h>

using namespace portico::test;

namespace {

// The device:inode of the fixture's log file, as systemd sets JOURNAL_STREAM for the stream
// it connects to a service's stderr.
QByteArray streamId(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::Append))
        return {};
    f.close();
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return {};
    return QByteArray::number(qulonglong(st.st_dev)) + ':' + QByteArray::number(qulonglong(st.st_ino));
}

QList<QByteArray> lines(const QByteArray &output) {
    QList<QByteArray> out;
    for (const QByteArray &l : output.split('\n'))
        if (!l.isEmpty())
            out << l;
    return out;
}

} // namespace

class TestJournal : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cleanup() { qunsetenv("JOURNAL_STREAM"); }
    void prioritiesForJournald();
    void timeAndLevelElsewhere();
};

void TestJournal::prioritiesForJournald() {
    // First run: persist a static project from a folder of its own, on a port of its own.
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QString site = d.dir() + QStringLiteral("/checkout");
    QVERIFY(QDir().mkpath(site + QStringLiteral("/public")));
    writeFile(site + QStringLiteral("/public"), QStringLiteral("index.html"), "hi");
    const quint16 port = freePort();
    const QJsonObject deployed =
        d.deploy(QStringLiteral(R"({"name":"gone","runtime":"static","entry":"public","listen":{"port":%1}})")
                     .arg(port)
                     .toUtf8(),
                 site);
    QVERIFY2(deployed.contains(QStringLiteral("result")), qPrintable(QJsonDocument(deployed).toJson()));
    d.stop();
    QVERIFY(QDir(site).removeRecursively()); // the checkout moved away

    // Second run under "systemd": stderr is the journal stream.
    const QString log = d.dir() + QStringLiteral("/porticod.log");
    QFile::remove(log);
    qputenv("JOURNAL_STREAM", streamId(log));
    QVERIFY2(d.start(&why), qPrintable(why));
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains("no longer exists"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains("<6>portico.daemon: porticod "), 10000);

    // Every line carries a priority; the start-up line is info, the lost folder a warning,
    // named once with its name and path.
    const auto all = lines(d.output());
    QVERIFY(!all.isEmpty());
    static const QRegularExpression prefixed(QStringLiteral("^<[2-7]>"));
    for (const QByteArray &l : all)
        QVERIFY2(prefixed.match(QString::fromUtf8(l)).hasMatch(), l.constData());
    QVERIFY2(d.output().contains("<6>portico.daemon: porticod "), d.output().constData());
    int reports = 0;
    for (const QByteArray &l : all) {
        if (!l.contains("no longer exists"))
            continue;
        ++reports;
        QVERIFY2(l.startsWith("<4>portico.daemon: project 'gone': its source folder " +
                              QFile::encodeName(site) + " no longer exists"),
                 l.constData());
    }
    QCOMPARE(reports, 1);

    // It holds no port: another program may take it.
    QTcpServer other;
    QVERIFY2(other.listen(QHostAddress::LocalHost, port), qPrintable(other.errorString()));
    // And it is listed, failed, with the reason, until it is deployed again or undeployed.
    const QJsonObject project =
        d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("gone")}})
            .value(QStringLiteral("result"))
            .toObject();
    QCOMPARE(project.value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
    QVERIFY(project.value(QStringLiteral("reason")).toString().contains(site));
    QVERIFY(d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("gone")}})
                .contains(QStringLiteral("result")));
}

void TestJournal::timeAndLevelElsewhere() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    // The log writer thread may still hold the start-up line when the socket answers.
    QTRY_VERIFY_WITH_TIMEOUT(d.output().contains(" info portico.daemon: porticod "), 10000);
    const auto all = lines(d.output());
    QVERIFY(!all.isEmpty());
    static const QRegularExpression stamped(
        QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warning|critical|fatal) )"));
    for (const QByteArray &l : all)
        QVERIFY2(stamped.match(QString::fromUtf8(l)).hasMatch(), l.constData());
}

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"

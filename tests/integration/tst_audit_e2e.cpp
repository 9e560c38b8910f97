// The audit log of a real porticod, as docs/admin-protocol.md describes it: one JSON line
// per state-changing call in <state_dir>/audit.log (mode 0600), rotated to audit.log.1
// past 16 MiB with nothing lost; audit.list's limit (default 100, at most 100000).
#include "daemonfixture.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <sys/stat.h>

using namespace portico::test;

namespace {

constexpr qint64 kRotateBytes = 16 * 1024 * 1024;

mode_t modeOf(const QString &path) {
    struct stat st {};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? (st.st_mode & 07777) : mode_t(0);
}

QByteArray readAll(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The audit lines of a file, parsed.
QList<QJsonObject> entries(const QByteArray &text) {
    QList<QJsonObject> out;
    for (const QByteArray &line : text.split('\n')) {
        if (!line.isEmpty())
            out.append(QJsonDocument::fromJson(line).object());
    }
    return out;
}

QJsonObject undeployNobody(const DaemonFixture &d, const QString &name) {
    return d.call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), name}});
}

} // namespace

class TestAuditE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rotatesPast16MiBAndLosesNothing();
    void listLimitDefaultAndCap();
};

void TestAuditE2e::rotatesPast16MiBAndLosesNothing() {
    DaemonFixture d;
    // A log that already holds 16 MiB of earlier entries when the daemon starts.
    QVERIFY(QDir().mkpath(d.stateDir()));
    const QString path = d.stateDir() + QStringLiteral("/audit.log");
    const QByteArray old =
        R"({"method":"projects.deploy","outcome":"ok","pid":1,"project":"old","time":"2026-01-01T00:00:00.000Z","uid":0})"
        "\n";
    QByteArray prefill;
    prefill.reserve(kRotateBytes);
    while (prefill.size() + old.size() <= kRotateBytes)
        prefill += old;
    prefill += QByteArray(kRotateBytes - prefill.size() - 1, ' ') + '\n'; // exactly 16 MiB
    QCOMPARE(prefill.size(), kRotateBytes);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(prefill), kRotateBytes);
    f.close();
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));

    // Three audited calls (refusals are audited too).
    for (const QString &name : {QStringLiteral("first"), QStringLiteral("second"), QStringLiteral("third")})
        QCOMPARE(undeployNobody(d, name)
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toInt(),
                 1003);

    // Rotated: the earlier 16 MiB moved to audit.log.1, whole; the current file is small.
    const QByteArray rotated = readAll(path + QStringLiteral(".1"));
    QVERIFY2(rotated.startsWith(prefill),
             qPrintable(QStringLiteral("audit.log.1: %1 bytes").arg(rotated.size())));
    const QByteArray current = readAll(path);
    QVERIFY2(!current.isEmpty() && current.size() < 64 * 1024, qPrintable(QString::number(current.size())));
    // Nothing lost and nothing twice: the new entries, in order, across the two files.
    QStringList projects;
    for (const QJsonObject &e : entries(rotated.mid(prefill.size())) + entries(current)) {
        QCOMPARE(e.value(QStringLiteral("method")).toString(), QStringLiteral("projects.undeploy"));
        QCOMPARE(e.value(QStringLiteral("outcome")).toString(), QStringLiteral("refused"));
        QCOMPARE(e.value(QStringLiteral("code")).toInt(), 1003);
        projects.append(e.value(QStringLiteral("project")).toString());
    }
    QCOMPARE(projects,
             (QStringList{QStringLiteral("first"), QStringLiteral("second"), QStringLiteral("third")}));
    // Owner-only, both generations.
    QCOMPARE(modeOf(path), mode_t(0600));
    QCOMPARE(modeOf(path + QStringLiteral(".1")), mode_t(0600));
}

// audit.list: the newest 100 by default, up to 100000 when asked, oldest first; more is
// refused with the parameter named.
void TestAuditE2e::listLimitDefaultAndCap() {
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    constexpr int kCalls = 130;
    for (int i = 0; i < kCalls; ++i)
        QVERIFY(undeployNobody(d, QStringLiteral("p%1").arg(i)).contains(QStringLiteral("error")));
    const auto list = [&](const QJsonObject &params) { return d.call(QStringLiteral("audit.list"), params); };
    const auto projectsOf = [](const QJsonObject &reply) {
        QStringList out;
        for (const QJsonValue &v :
             reply.value(QStringLiteral("result")).toObject().value(QStringLiteral("entries")).toArray())
            out.append(v.toObject().value(QStringLiteral("project")).toString());
        return out;
    };
    const QStringList byDefault = projectsOf(list({}));
    QCOMPARE(byDefault.size(), 100);
    QCOMPARE(byDefault.first(), QStringLiteral("p%1").arg(kCalls - 100));
    QCOMPARE(byDefault.last(), QStringLiteral("p%1").arg(kCalls - 1));
    QCOMPARE(projectsOf(list({{QStringLiteral("limit"), 100000}})).size(), kCalls);
    QCOMPARE(projectsOf(list({{QStringLiteral("limit"), 3}})),
             (QStringList{QStringLiteral("p127"), QStringLiteral("p128"), QStringLiteral("p129")}));
    const QJsonObject tooMany =
        list({{QStringLiteral("limit"), 100001}}).value(QStringLiteral("error")).toObject();
    QCOMPARE(tooMany.value(QStringLiteral("code")).toInt(), -32602);
    QCOMPARE(tooMany.value(QStringLiteral("data")).toObject().value(QStringLiteral("param")).toString(),
             QStringLiteral("limit"));
}

QTEST_GUILESS_MAIN(TestAuditE2e)
#include "tst_audit_e2e.moc"

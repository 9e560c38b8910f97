// projects.validate against a real porticod runs every check the deploy runs short of
// binding and starting: for each manifest the deploy refuses, the dry run refuses it
// too, with the same code, naming the same problem; what it calls valid deploys. The
// dashboard's Deploy button and `porticoctl deploy --dry-run` depend on it.
#include "daemonfixture.h"
#include "protocol.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace portico::test;

namespace {

QJsonObject callWith(const DaemonFixture &d, const QString &method, const QJsonObject &manifest,
                     const QString &sourceDir) {
    return d.call(method, {{QStringLiteral("manifest"), manifest}, {QStringLiteral("source_dir"), sourceDir}},
                  60000);
}

} // namespace

class TestValidateE2e : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void dryRunRefusesWhatTheDeployRefuses_data();
    void dryRunRefusesWhatTheDeployRefuses();

private:
    QTemporaryDir m_dir;
    QString m_fakeDocker;
};

void TestValidateE2e::initTestCase() {
    QVERIFY(m_dir.isValid());
    // The deploy's own refusal must come from the program, not from a root porticod's
    // backend user finding the sources' folder closed.
    QVERIFY(shareWithBackends(m_dir.path()));
    QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("site")));
    writeFile(m_dir.path(), QStringLiteral("site/index.html"), "<p>hi</p>");
    writeFile(m_dir.path(), QStringLiteral("Dockerfile"), "FROM scratch\n");
    writeFile(m_dir.path(), QStringLiteral("not-executable.sh"), "#!/bin/sh\nexit 0\n");
    // A docker CLI whose engine never answers.
    m_fakeDocker = writeFile(m_dir.path(), QStringLiteral("docker"),
                             "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n");
    QVERIFY(QFile::setPermissions(m_fakeDocker, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
}

void TestValidateE2e::dryRunRefusesWhatTheDeployRefuses_data() {
    QTest::addColumn<QByteArray>("manifest");
    QTest::addColumn<int>("code");      // 0: valid, and it deploys
    QTest::addColumn<QString>("names"); // what both sentences name
    QTest::newRow("process: program not on PATH")
        << QByteArray(R"({"name":"p1","runtime":"process","command":["portico-no-such-program"]})")
        << int(portico::protocol::error::BackendFailed) << "portico-no-such-program";
    QTest::newRow("process: path that does not exist")
        << QByteArray(R"({"name":"p2","runtime":"process","command":["./missing-app"]})")
        << int(portico::protocol::error::BackendFailed) << "missing-app";
    QTest::newRow("process: file that is not executable")
        << QByteArray(R"({"name":"p3","runtime":"process","command":["./not-executable.sh"]})")
        << int(portico::protocol::error::BackendFailed) << "not-executable.sh";
    QTest::newRow("process: workdir that does not exist")
        << QByteArray(R"({"name":"p4","runtime":"process","command":["true"],"workdir":"nowhere"})")
        << int(portico::protocol::error::BackendFailed) << "nowhere";
    QTest::newRow("deno: entry that does not exist")
        << QByteArray(R"({"name":"d1","runtime":"deno","entry":"missing.ts"})")
        << int(portico::protocol::error::BackendFailed) << "missing.ts";
    QTest::newRow("static: folder that does not exist")
        << QByteArray(R"({"name":"s1","runtime":"static","entry":"no-site"})")
        << int(portico::protocol::error::BackendFailed) << "no-site";
    QTest::newRow("dockerfile: no engine answers")
        << QByteArray(R"({"name":"k1","runtime":"dockerfile"})")
        << int(portico::protocol::error::RuntimeUnavailable) << "Docker engine";
    QTest::newRow("dockerfile: no Dockerfile")
        << QByteArray(R"({"name":"k2","runtime":"dockerfile","entry":"Nope"})")
        << int(portico::protocol::error::BackendFailed) << "Nope";
    QTest::newRow("upstream: valid") << QByteArray(
                                            R"({"name":"u1","runtime":"upstream","upstream":"127.0.0.1:1"})")
                                     << 0 << QString();
    QTest::newRow("static: valid") << QByteArray(R"({"name":"s2","runtime":"static","entry":"site"})") << 0
                                   << QString();
}

void TestValidateE2e::dryRunRefusesWhatTheDeployRefuses() {
    QFETCH(QByteArray, manifest);
    QFETCH(int, code);
    QFETCH(QString, names);
    DaemonFixture d;
    d.config.insert(QStringLiteral("docker_path"), m_fakeDocker);
    d.config.insert(QStringLiteral("ready_timeout_ms"), 10000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const QJsonObject m = QJsonDocument::fromJson(manifest).object();

    const QJsonObject dry = callWith(d, QStringLiteral("projects.validate"), m, m_dir.path());
    const QJsonObject real = callWith(d, QStringLiteral("projects.deploy"), m, m_dir.path());
    if (code == 0) {
        QVERIFY2(dry.value(QStringLiteral("result")).toObject().value(QStringLiteral("ok")).toBool(),
                 QJsonDocument(dry).toJson().constData());
        QVERIFY2(real.contains(QStringLiteral("result")), QJsonDocument(real).toJson().constData());
        return;
    }
    const QJsonObject dryError = dry.value(QStringLiteral("error")).toObject();
    const QJsonObject realError = real.value(QStringLiteral("error")).toObject();
    QCOMPARE(realError.value(QStringLiteral("code")).toInt(), code); // the deploy refuses ...
    QCOMPARE(dryError.value(QStringLiteral("code")).toInt(), code);  // ... and so does the dry run
    const QString dryMessage = dryError.value(QStringLiteral("message")).toString();
    QVERIFY2(dryMessage.contains(names), qPrintable(dryMessage));
    QVERIFY2(realError.value(QStringLiteral("message")).toString().contains(names),
             qPrintable(realError.value(QStringLiteral("message")).toString()));
    QCOMPARE(dryError.value(QStringLiteral("data")).toObject().value(QStringLiteral("project")),
             m.value(QStringLiteral("name")));
    // The dry run changed nothing.
    QVERIFY(d.call(QStringLiteral("projects.list"))
                .value(QStringLiteral("result"))
                .toObject()
                .value(QStringLiteral("projects"))
                .toArray()
                .isEmpty());
}

QTEST_GUILESS_MAIN(TestValidateE2e)
#include "tst_validate_e2e.moc"

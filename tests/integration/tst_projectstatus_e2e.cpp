// What projects.list / projects.get / projects.logs tell about a project (protocol 2),
// against a real porticod and real backend processes: pid, started_at, uptime, restarts,
// last exit, env names; log lines with time and stream; the output of a refused deploy
// readable by name afterwards; an identical redeploy that changes nothing; daemon.info's
// listener counters equal to routes.list's.
#include "daemonfixture.h"
#include "eventsubscriber.h"
#include "testutil.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <csignal>

using namespace portico::test;

namespace {

QJsonObject result(const QJsonObject &response) {
    return response.value(QStringLiteral("result")).toObject();
}

int errorCode(const QJsonObject &response) {
    return response.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toInt();
}

QByteArray processManifest(const QString &name, const QStringList &args, const QJsonObject &env = {}) {
    QJsonObject m{{QStringLiteral("name"), name},
                  {QStringLiteral("runtime"), QStringLiteral("process")},
                  {QStringLiteral("command"),
                   QJsonArray::fromStringList(QStringList{QStringLiteral(TESTBACKEND_PATH)} + args)}};
    if (!env.isEmpty())
        m.insert(QStringLiteral("env"), env);
    return QJsonDocument(m).toJson(QJsonDocument::Compact);
}

bool isUtcTime(const QJsonValue &v) {
    const QString s = v.toString();
    return s.endsWith(QLatin1Char('Z')) && QDateTime::fromString(s, Qt::ISODateWithMs).isValid();
}

} // namespace

class TestProjectStatusE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void processFields();
    void restartCountsAndRecordsTheSignal();
    void crashRecordsTheExitCode();
    void noProcessNoPid();
    void logLinesHaveTimeAndStream();
    void refusedDeployKeepsItsOutput();
    void identicalRedeployIsUnchanged();
    void statusCountersAreTheRoutesCounters();

private:
    QJsonObject get(const QString &name) const {
        return result(m_daemon.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), name}}));
    }
    QJsonArray logLines(const QString &name, QJsonObject *whole = nullptr) const {
        const QJsonObject r =
            m_daemon.call(QStringLiteral("projects.logs"),
                          {{QStringLiteral("name"), name}, {QStringLiteral("lines"), 1000}});
        if (whole)
            *whole = r;
        return result(r).value(QStringLiteral("lines")).toArray();
    }
    static QString texts(const QJsonArray &lines) {
        QStringList out;
        for (const auto &l : lines)
            out << l.toObject().value(QStringLiteral("text")).toString();
        return out.join(QLatin1Char('\n'));
    }

    DaemonFixture m_daemon;
};

void TestProjectStatusE2e::initTestCase() {
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
}

void TestProjectStatusE2e::cleanupTestCase() {
    m_daemon.stop();
}

void TestProjectStatusE2e::processFields() {
    const QJsonObject deployed =
        m_daemon.deploy(processManifest(QStringLiteral("fields"), {QStringLiteral("http")},
                                        {{QStringLiteral("SECRET_TOKEN"), QStringLiteral("hunter2")},
                                         {QStringLiteral("A"), QStringLiteral("1")}}));
    QVERIFY2(deployed.contains(QStringLiteral("result")), QJsonDocument(deployed).toJson().constData());

    const QJsonObject p = get(QStringLiteral("fields"));
    // The pid is the backend's own: it answers /pid through the ingress.
    const auto reply = DaemonFixture::httpGet(m_daemon.ingressPort(), "/fields/pid");
    QCOMPARE(reply.status, 200);
    QCOMPARE(qint64(p.value(QStringLiteral("pid")).toDouble()), reply.body.trimmed().toLongLong());
    QVERIFY2(isUtcTime(p.value(QStringLiteral("started_at"))), qPrintable(p.value("started_at").toString()));
    QVERIFY(p.value(QStringLiteral("uptime_ms")).isDouble());
    QVERIFY(p.value(QStringLiteral("uptime_ms")).toDouble() >= 0);
    QCOMPARE(p.value(QStringLiteral("restarts")).toInt(-1), 0);
    QVERIFY(p.value(QStringLiteral("last_exit")).isNull());
    QCOMPARE(p.value(QStringLiteral("env_names")).toArray(),
             (QJsonArray{QStringLiteral("A"), QStringLiteral("SECRET_TOKEN")}));
    QVERIFY(!QJsonDocument(p.value(QStringLiteral("env_names")).toArray()).toJson().contains("hunter2"));

    // projects.list carries the same fields.
    const QJsonArray all =
        result(m_daemon.call(QStringLiteral("projects.list"))).value(QStringLiteral("projects")).toArray();
    bool found = false;
    for (const auto &v : all) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("name")).toString() != QLatin1String("fields"))
            continue;
        found = true;
        for (const char *key : {"pid", "started_at", "restarts", "last_exit", "env_names"})
            QCOMPARE(o.value(QLatin1String(key)), p.value(QLatin1String(key)));
        QVERIFY(o.value(QStringLiteral("uptime_ms")).isDouble());
    }
    QVERIFY(found);
}

void TestProjectStatusE2e::restartCountsAndRecordsTheSignal() {
    QVERIFY(m_daemon.deploy(processManifest(QStringLiteral("again"), {QStringLiteral("http")}))
                .contains(QStringLiteral("result")));
    const qint64 before = qint64(get(QStringLiteral("again")).value(QStringLiteral("pid")).toDouble());
    QVERIFY(before > 0);
    QVERIFY(
        m_daemon.call(QStringLiteral("projects.restart"), {{QStringLiteral("name"), QStringLiteral("again")}})
            .contains(QStringLiteral("result")));
    // The restart sends SIGTERM, which ends the test backend.
    QTRY_VERIFY_WITH_TIMEOUT(
        get(QStringLiteral("again")).value(QStringLiteral("pid")).toDouble() > 0 &&
            qint64(get(QStringLiteral("again")).value(QStringLiteral("pid")).toDouble()) != before,
        15000);
    const QJsonObject p = get(QStringLiteral("again"));
    QCOMPARE(p.value(QStringLiteral("restarts")).toInt(), 1);
    const QJsonObject exit = p.value(QStringLiteral("last_exit")).toObject();
    QCOMPARE(exit.value(QStringLiteral("signal")).toInt(), int(SIGTERM));
    QCOMPARE(exit.value(QStringLiteral("signal_name")).toString(), QStringLiteral("SIGTERM"));
    QVERIFY(!exit.contains(QStringLiteral("code")));
    QVERIFY(isUtcTime(exit.value(QStringLiteral("at"))));
}

void TestProjectStatusE2e::crashRecordsTheExitCode() {
    // Ready, then exits with code 3 after 300 ms; the daemon restarts it after its backoff.
    QVERIFY(m_daemon
                .deploy(processManifest(QStringLiteral("crashy"),
                                        {QStringLiteral("crash-after"), QStringLiteral("300")}))
                .contains(QStringLiteral("result")));
    QTRY_VERIFY_WITH_TIMEOUT(!get(QStringLiteral("crashy")).value(QStringLiteral("last_exit")).isNull(),
                             15000);
    const QJsonObject exit = get(QStringLiteral("crashy")).value(QStringLiteral("last_exit")).toObject();
    QCOMPARE(exit.value(QStringLiteral("code")).toInt(-1), 3);
    QVERIFY(!exit.contains(QStringLiteral("signal")));
    QTRY_VERIFY_WITH_TIMEOUT(get(QStringLiteral("crashy")).value(QStringLiteral("restarts")).toInt() >= 1,
                             15000);
    QVERIFY(
        m_daemon
            .call(QStringLiteral("projects.undeploy"), {{QStringLiteral("name"), QStringLiteral("crashy")}})
            .contains(QStringLiteral("result")));
}

void TestProjectStatusE2e::noProcessNoPid() {
    const quint16 port = freePort();
    QVERIFY(m_daemon
                .deploy(QStringLiteral(R"({"name":"remote","runtime":"upstream","upstream":"127.0.0.1:%1"})")
                            .arg(port)
                            .toUtf8())
                .contains(QStringLiteral("result")));
    const QJsonObject p = get(QStringLiteral("remote"));
    for (const char *key : {"pid", "started_at", "uptime_ms", "last_exit"})
        QVERIFY2(p.value(QLatin1String(key)).isNull(), key);
    QCOMPARE(p.value(QStringLiteral("restarts")).toInt(-1), 0);
    QCOMPARE(p.value(QStringLiteral("env_names")).toArray(), QJsonArray());
}

void TestProjectStatusE2e::logLinesHaveTimeAndStream() {
    EventSubscriber events(m_daemon.socketPath(), {QStringLiteral("project.log")});
    QVERIFY(events.isSubscribed());
    QVERIFY(m_daemon.deploy(processManifest(QStringLiteral("talk"), {QStringLiteral("http")}))
                .contains(QStringLiteral("result")));
    // The test backend prints "testbackend http pid N" on stderr and "listening on ..." on
    // stdout; the daemon adds its own lines.
    QHash<QString, QString> streamOf;
    for (const auto &v : logLines(QStringLiteral("talk"))) {
        const QJsonObject l = v.toObject();
        QVERIFY2(isUtcTime(l.value(QStringLiteral("time"))), QJsonDocument(l).toJson().constData());
        const QString text = l.value(QStringLiteral("text")).toString();
        streamOf.insert(text.section(QLatin1Char(' '), 0, 1), l.value(QStringLiteral("stream")).toString());
    }
    QCOMPARE(streamOf.value(QStringLiteral("testbackend http")), QStringLiteral("stderr"));
    QCOMPARE(streamOf.value(QStringLiteral("listening on")), QStringLiteral("stdout"));
    QCOMPARE(streamOf.value(QStringLiteral("portico: started")), QStringLiteral("portico"));

    // The same lines came as events, from the first one on (before the backend was ready).
    QJsonObject started;
    while (started.isEmpty()) {
        const QJsonObject e = events.waitFor(QStringLiteral("project.log"), QStringLiteral("talk"));
        QVERIFY2(!e.isEmpty(), "no project.log event with the daemon's start line");
        const QJsonObject data = e.value(QStringLiteral("data")).toObject();
        QVERIFY(isUtcTime(data.value(QStringLiteral("time"))));
        QVERIFY(!data.contains(QStringLiteral("line")));
        if (data.value(QStringLiteral("text")).toString().startsWith(QStringLiteral("portico: started")))
            started = data;
    }
    QCOMPARE(started.value(QStringLiteral("stream")).toString(), QStringLiteral("portico"));
}

void TestProjectStatusE2e::refusedDeployKeepsItsOutput() {
    // The backend says why on stderr and exits with 7 before it listens: the deploy is refused.
    const QJsonObject refused = m_daemon.deploy(
        processManifest(QStringLiteral("broken"), {QStringLiteral("exit-now"), QStringLiteral("7")}));
    QCOMPARE(errorCode(refused), 1004);
    QCOMPARE(errorCode(m_daemon.call(QStringLiteral("projects.get"),
                                     {{QStringLiteral("name"), QStringLiteral("broken")}})),
             1003);

    // ...and yet its output is readable by its name.
    QJsonObject whole;
    const QString out = texts(logLines(QStringLiteral("broken"), &whole));
    QVERIFY2(result(whole).value(QStringLiteral("deployed")) == QJsonValue(false),
             QJsonDocument(whole).toJson().constData());
    QVERIFY2(out.contains(QStringLiteral("testbackend exit-now pid")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("exited with code 7")), qPrintable(out));

    // Until the next deploy of that name: then only the new output is there.
    QVERIFY(m_daemon.deploy(processManifest(QStringLiteral("broken"), {QStringLiteral("http")}))
                .contains(QStringLiteral("result")));
    const QString now = texts(logLines(QStringLiteral("broken"), &whole));
    QVERIFY(result(whole).value(QStringLiteral("deployed")).toBool());
    QVERIFY2(!now.contains(QStringLiteral("exit-now")), qPrintable(now));
    QVERIFY2(now.contains(QStringLiteral("testbackend http pid")), qPrintable(now));

    // A name never deployed is still unknown.
    QCOMPARE(errorCode(m_daemon.call(QStringLiteral("projects.logs"),
                                     {{QStringLiteral("name"), QStringLiteral("never")}})),
             1003);
}

void TestProjectStatusE2e::identicalRedeployIsUnchanged() {
    const QByteArray manifest = processManifest(QStringLiteral("same"), {QStringLiteral("http")},
                                                {{QStringLiteral("MODE"), QStringLiteral("one")}});
    QVERIFY(m_daemon.deploy(manifest).contains(QStringLiteral("result")));
    const QJsonObject before = get(QStringLiteral("same"));

    EventSubscriber events(m_daemon.socketPath(),
                           {QStringLiteral("project.deployed"), QStringLiteral("project.state")});
    QVERIFY(events.isSubscribed());
    const QJsonObject validated =
        m_daemon.call(QStringLiteral("projects.validate"),
                      {{QStringLiteral("manifest"), QJsonDocument::fromJson(manifest).object()},
                       {QStringLiteral("source_dir"), m_daemon.dir()}});
    QCOMPARE(result(validated).value(QStringLiteral("unchanged")), QJsonValue(true));
    const QJsonObject again = result(m_daemon.deploy(manifest));
    QCOMPARE(again.value(QStringLiteral("unchanged")), QJsonValue(true));
    // Nothing was touched: the same process, no restart, no event.
    const QJsonObject after = get(QStringLiteral("same"));
    QCOMPARE(after.value(QStringLiteral("pid")), before.value(QStringLiteral("pid")));
    QCOMPARE(after.value(QStringLiteral("started_at")), before.value(QStringLiteral("started_at")));
    QCOMPARE(after.value(QStringLiteral("restarts")), before.value(QStringLiteral("restarts")));
    // A later deploy's event is the witness that none came from the identical one.
    const QByteArray changed = processManifest(QStringLiteral("same"), {QStringLiteral("http")},
                                               {{QStringLiteral("MODE"), QStringLiteral("two")}});
    const QJsonObject redeployed = result(m_daemon.deploy(changed));
    QVERIFY(!redeployed.value(QStringLiteral("unchanged")).toBool());
    const QJsonObject e = events.waitFor(QStringLiteral("project.deployed"), QStringLiteral("same"));
    QVERIFY(!e.isEmpty());
    QVERIFY(events.received(QStringLiteral("project.deployed")).isEmpty());
    QVERIFY(get(QStringLiteral("same")).value(QStringLiteral("pid")) != before.value(QStringLiteral("pid")));
}

void TestProjectStatusE2e::statusCountersAreTheRoutesCounters() {
    QVERIFY(m_daemon.deploy(processManifest(QStringLiteral("counted"), {QStringLiteral("http")}))
                .contains(QStringLiteral("result")));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(DaemonFixture::httpGet(m_daemon.ingressPort(), "/counted/hello").status, 200);
    const auto requestsOf = [](const QJsonArray &rows) {
        for (const auto &v : rows) {
            const QJsonObject r = v.toObject();
            if (r.value(QStringLiteral("project")).toString() == QLatin1String("counted"))
                return r.value(QStringLiteral("counters"))
                    .toObject()
                    .value(QStringLiteral("requests"))
                    .toInt();
        }
        return -1;
    };
    const auto viaRoutes = [&] {
        return requestsOf(
            result(m_daemon.call(QStringLiteral("routes.list"))).value(QStringLiteral("routes")).toArray());
    };
    QTRY_COMPARE_WITH_TIMEOUT(viaRoutes(), 3, 10000); // counted when each exchange is done
    const int viaInfo = requestsOf(
        result(m_daemon.call(QStringLiteral("daemon.info"))).value(QStringLiteral("listeners")).toArray());
    QCOMPARE(viaInfo, viaRoutes());
}

QTEST_GUILESS_MAIN(TestProjectStatusE2e)
#include "tst_projectstatus_e2e.moc"

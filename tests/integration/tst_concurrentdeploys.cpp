// Deploys of different projects run at once against a real porticod: a backend slow to
// become ready holds only its own project, deploys of one project keep their order, and
// two deploys claiming one port have exactly one winner. Every wait is on an answer or a
// state; the slow backend is held by a gate file the test opens, not by a clock.
#include "adminclient.h"
#include "daemonfixture.h"
#include "gatedproject.h"
#include "protocol.h"
#include "testutil.h"
#include "threadedbackend.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace portico;
using namespace portico::test;

namespace {

constexpr int kWaitMs = 30000;

QJsonObject upstreamManifest(const QString &name, quint16 port, const QJsonValue &listen = {}) {
    QJsonObject m{{QStringLiteral("name"), name},
                  {QStringLiteral("runtime"), QStringLiteral("upstream")},
                  {QStringLiteral("upstream"), QStringLiteral("127.0.0.1:%1").arg(port)}};
    if (!listen.isUndefined() && !listen.isNull())
        m.insert(QStringLiteral("listen"), listen);
    return m;
}

QJsonObject listenOn(quint16 port, const QString &protocol) {
    return {{QStringLiteral("port"), int(port)}, {QStringLiteral("protocol"), protocol}};
}

// Sends deploys without waiting and records the answers in the order they come.
struct Deployer {
    AdminClient client;
    QString sourceDir;
    QStringList answers;                // "<label> ok" or "<label> <code>", in arrival order
    QMap<QString, jsonrpc::Message> by; // label -> answer

    explicit Deployer(const DaemonFixture &d) : sourceDir(d.dir()) {
        client.setSocketPath(d.socketPath());
        client.connectToDaemon();
    }
    void deploy(const QString &label, const QJsonObject &manifest) {
        client.call(QString::fromLatin1(protocol::method::ProjectsDeploy),
                    {{QStringLiteral("manifest"), manifest}, {QStringLiteral("source_dir"), sourceDir}},
                    [this, label](const jsonrpc::Message &m) {
                        answers << label + (m.isError() ? QLatin1Char(' ') + QString::number(m.errorCode())
                                                        : QStringLiteral(" ok"));
                        by.insert(label, m);
                    });
    }
};

} // namespace

class TestConcurrentDeploys : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void slowBackendOfOneProjectDoesNotHoldAnother();
    void deploysOfOneProjectStayInOrder();
    void samePortClaimedByTwoProjectsHasOneWinner_data();
    void samePortClaimedByTwoProjectsHasOneWinner();

private:
    std::unique_ptr<ThreadedBackend> m_http;
};

void TestConcurrentDeploys::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "fast");
}

void TestConcurrentDeploys::slowBackendOfOneProjectDoesNotHoldAnother() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("ready_timeout_ms"), 120000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    Deployer deployer(d);

    deployer.deploy(QStringLiteral("slow"), gatedManifest(QStringLiteral("slow"), QStringLiteral("gate")));
    deployer.deploy(QStringLiteral("fast"), upstreamManifest(QStringLiteral("fast"), m_http->port()));
    // The fast project is deployed and serving while the slow one still waits for its backend.
    QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, QStringList{QStringLiteral("fast ok")}, kWaitMs);
    QCOMPARE(projectNames(d), QStringList{QStringLiteral("fast")});
    QVERIFY(DaemonFixture::httpGet(d.ingressPort(), "/fast/x").body.startsWith("hello from fast"));

    QVERIFY(openGate(d, QStringLiteral("gate")));
    QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, (QStringList{"fast ok", "slow ok"}), kWaitMs);
    QCOMPARE(projectNames(d), (QStringList{"fast", "slow"}));
    QCOMPARE(DaemonFixture::httpGet(d.ingressPort(), "/slow/hello").body, QByteArray("hello from slow"));
}

void TestConcurrentDeploys::deploysOfOneProjectStayInOrder() {
    DaemonFixture d;
    d.config.insert(QStringLiteral("ready_timeout_ms"), 120000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    Deployer deployer(d);

    deployer.deploy(QStringLiteral("v1"), gatedManifest(QStringLiteral("app"), QStringLiteral("gate")));
    deployer.deploy(QStringLiteral("v2"), upstreamManifest(QStringLiteral("app"), m_http->port()));
    deployer.deploy(QStringLiteral("other"), upstreamManifest(QStringLiteral("other"), m_http->port()));
    // "other" is done while v1 waits; v2 of the same project waits behind v1.
    QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, QStringList{QStringLiteral("other ok")}, kWaitMs);
    QVERIFY(!projectNames(d).contains(QStringLiteral("app")));

    QVERIFY(openGate(d, QStringLiteral("gate")));
    QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, (QStringList{"other ok", "v1 ok", "v2 ok"}), kWaitMs);
    const QJsonObject app =
        d.call(QStringLiteral("projects.get"), {{QStringLiteral("name"), QStringLiteral("app")}})
            .value(QStringLiteral("result"))
            .toObject();
    QCOMPARE(app.value(QStringLiteral("runtime")).toString(), QStringLiteral("upstream"));
    QVERIFY(DaemonFixture::httpGet(d.ingressPort(), "/app/x").body.startsWith("hello from fast"));
}

void TestConcurrentDeploys::samePortClaimedByTwoProjectsHasOneWinner_data() {
    QTest::addColumn<QString>("first");  // protocol the slow project claims the port with
    QTest::addColumn<QString>("second"); // protocol the other project claims it with
    QTest::addColumn<bool>("conflict");
    QTest::newRow("http vs http") << "http"
                                  << "http" << true;
    QTest::newRow("tcp vs http") << "tcp"
                                 << "http" << true;
    QTest::newRow("udp vs udp") << "udp"
                                << "udp" << true;
    QTest::newRow("udp beside tcp: both win") << "udp"
                                              << "tcp" << false;
}

void TestConcurrentDeploys::samePortClaimedByTwoProjectsHasOneWinner() {
    QFETCH(QString, first);
    QFETCH(QString, second);
    QFETCH(bool, conflict);
    DaemonFixture d;
    d.config.insert(QStringLiteral("ready_timeout_ms"), 120000);
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    Deployer deployer(d);

    const quint16 readiness = freePort();
    const quint16 contested = freePort(true);
    QVERIFY(readiness && contested && readiness != contested);
    // The slow project's http entry is what its readiness is checked on.
    deployer.deploy(
        QStringLiteral("slow"),
        gatedManifest(QStringLiteral("slow"), QStringLiteral("gate"),
                      QJsonArray{listenOn(readiness, QStringLiteral("http")), listenOn(contested, first)}));
    deployer.deploy(QStringLiteral("rival"),
                    upstreamManifest(QStringLiteral("rival"), m_http->port(), listenOn(contested, second)));
    if (conflict) {
        // The rival loses while the slow deploy is still in progress, naming it.
        QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, QStringList{QStringLiteral("rival 1002")}, kWaitMs);
        const jsonrpc::Message refusal = deployer.by.value(QStringLiteral("rival"));
        const QJsonObject c = refusal.errorData().value("conflicts").toArray().first().toObject();
        QCOMPARE(c.value(QStringLiteral("holder")).toString(), QStringLiteral("slow"));
        QCOMPARE(refusal.errorMessage(),
                 QStringLiteral("port %1/%2 is being taken by a deploy of project 'slow' in progress")
                     .arg(contested)
                     .arg(first == QLatin1String("udp") ? "udp" : "tcp"));
        QCOMPARE(projectNames(d), QStringList());
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(deployer.answers, QStringList{QStringLiteral("rival ok")}, kWaitMs);
    }

    QVERIFY(openGate(d, QStringLiteral("gate")));
    QTRY_COMPARE_WITH_TIMEOUT(deployer.answers.size(), 2, kWaitMs);
    QCOMPARE(deployer.answers.last(), QStringLiteral("slow ok"));
    // Each port row has exactly one project.
    const QJsonArray routes =
        d.call(QStringLiteral("routes.list")).value("result").toObject().value("routes").toArray();
    QStringList holders;
    for (const auto &r : routes) {
        const QJsonObject o = r.toObject();
        if (o.value(QStringLiteral("host_port")).toInt() == contested)
            holders << o.value(QStringLiteral("project")).toString() + QLatin1Char('/') +
                           o.value(QStringLiteral("protocol")).toString();
    }
    holders.sort();
    QStringList expected{QStringLiteral("slow/") + first};
    if (!conflict)
        expected.prepend(QStringLiteral("rival/") + second);
    QCOMPARE(holders, expected);
}

QTEST_GUILESS_MAIN(TestConcurrentDeploys)
#include "tst_concurrentdeploys.moc"

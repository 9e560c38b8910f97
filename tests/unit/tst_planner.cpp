#include "routing/planner.h"

#include <QTest>

using namespace portico;

Q_DECLARE_METATYPE(QList<portico::PortClaim>)

namespace {
Manifest manifestWith(const QString &name, const QList<ListenSpec> &listen) {
    Manifest m;
    m.name = name;
    m.runtime = RuntimeKind::Upstream;
    m.upstream = QStringLiteral("127.0.0.1:9000");
    m.listen = listen;
    m.listenShape = listen.isEmpty() ? Manifest::ListenShape::Absent : Manifest::ListenShape::Array;
    return m;
}
ListenSpec spec(quint16 port, Protocol p = Protocol::Http) {
    ListenSpec s;
    s.port = port;
    s.protocol = p;
    return s;
}
} // namespace

class TestPlanner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void conflicts_data();
    void conflicts();
    void diffOfRedeploy();
    void ownPortsAreNoConflict();
    void hostConflictSentence();
};

void TestPlanner::conflicts_data() {
    QTest::addColumn<QList<PortClaim>>("claims");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<QString>("holder"); // empty: no conflict
    QTest::addColumn<QString>("message");

    const QList<PortClaim> api{{3000, Transport::Tcp, QStringLiteral("my-api")}};
    const QList<PortClaim> dns{{5353, Transport::Udp, QStringLiteral("dns")}};
    QTest::newRow("free port") << api << 3001 << int(Protocol::Http) << QString() << QString();
    QTest::newRow("same port http vs http") << api << 3000 << int(Protocol::Http) << "my-api"
                                            << "port 3000/tcp is already bound by project 'my-api'";
    QTest::newRow("same port tcp vs http") << api << 3000 << int(Protocol::Tcp) << "my-api"
                                           << "port 3000/tcp is already bound by project 'my-api'";
    QTest::newRow("udp beside tcp") << api << 3000 << int(Protocol::Udp) << QString() << QString();
    QTest::newRow("udp vs udp") << dns << 5353 << int(Protocol::Udp) << "dns"
                                << "port 5353/udp is already bound by project 'dns'";
    QTest::newRow("tcp beside udp") << dns << 5353 << int(Protocol::Tcp) << QString() << QString();
    const QList<PortClaim> inFlight{{4000, Transport::Tcp, QStringLiteral("slow"), true}};
    QTest::newRow("reserved by a deploy in progress")
        << inFlight << 4000 << int(Protocol::Http) << "slow"
        << "port 4000/tcp is being taken by a deploy of project 'slow' in progress";
    QTest::newRow("ingress port") << QList<PortClaim>() << 8080 << int(Protocol::Http) << "ingress"
                                  << "port 8080/tcp is the HTTP ingress port";
    QTest::newRow("udp on ingress port is fine")
        << QList<PortClaim>() << 8080 << int(Protocol::Udp) << QString() << QString();
    QTest::newRow("reserved") << QList<PortClaim>() << 9090 << int(Protocol::Tcp) << "reserved"
                              << "port 9090/tcp is reserved by the daemon's configuration";
    QTest::newRow("below range") << QList<PortClaim>() << 80 << int(Protocol::Http) << "range"
                                 << "port 80/tcp is outside the allowed range 1024-60000";
    QTest::newRow("above range") << QList<PortClaim>() << 60001 << int(Protocol::Udp) << "range"
                                 << "port 60001/udp is outside the allowed range 1024-60000";
}

void TestPlanner::conflicts() {
    QFETCH(QList<PortClaim>, claims);
    QFETCH(int, port);
    QFETCH(int, protocol);
    QFETCH(QString, holder);
    QFETCH(QString, message);
    const PlannerLimits limits{8080, {9090}, 1024, 60000};
    const Plan plan =
        planDeploy(claims, manifestWith(QStringLiteral("new-app"), {spec(quint16(port), Protocol(protocol))}),
                   nullptr, limits);
    if (holder.isEmpty()) {
        QVERIFY2(plan.ok(), qPrintable(plan.conflictText()));
        QCOMPARE(plan.diff.added.size(), 1);
        return;
    }
    QCOMPARE(plan.conflicts.size(), 1);
    QCOMPARE(plan.conflicts.first().holder, holder);
    QCOMPARE(plan.conflicts.first().message, message);
    QCOMPARE(int(plan.conflicts.first().port), port);
}

void TestPlanner::diffOfRedeploy() {
    const Manifest before = manifestWith(QStringLiteral("app"), {spec(3000), spec(5000, Protocol::Tcp)});
    const Manifest after = manifestWith(QStringLiteral("app"), {spec(3000), spec(5001, Protocol::Tcp)});
    const QList<PortClaim> own{{3000, Transport::Tcp, QStringLiteral("app")},
                               {5000, Transport::Tcp, QStringLiteral("app")}};
    const Plan plan = planDeploy(own, after, &before, {});
    QVERIFY(plan.ok());
    QVERIFY(!plan.diff.newProject);
    QCOMPARE(plan.diff.kept, QList<ListenSpec>{spec(3000)});
    QCOMPARE(plan.diff.added, QList<ListenSpec>{spec(5001, Protocol::Tcp)});
    QCOMPARE(plan.diff.removed, QList<ListenSpec>{spec(5000, Protocol::Tcp)});

    // A protocol change on the same port rebinds it.
    const Manifest asTcp =
        manifestWith(QStringLiteral("app"), {spec(3000, Protocol::Tcp), spec(5000, Protocol::Tcp)});
    const Plan p2 = planDeploy(own, asTcp, &before, {});
    QCOMPARE(p2.diff.added, QList<ListenSpec>{spec(3000, Protocol::Tcp)});
    QCOMPARE(p2.diff.removed, QList<ListenSpec>{spec(3000)});

    // Path routing to a port and back.
    const Manifest pathOnly = manifestWith(QStringLiteral("app"), {});
    const Plan p3 = planDeploy(own, pathOnly, &before, {});
    QVERIFY(p3.diff.pathRouteAfter);
    QVERIFY(!p3.diff.pathRouteBefore);
    QCOMPARE(p3.diff.removed.size(), 2);
}

void TestPlanner::ownPortsAreNoConflict() {
    const Manifest m = manifestWith(QStringLiteral("app"), {spec(3000)});
    const Plan plan = planDeploy({{3000, Transport::Tcp, QStringLiteral("app")}}, m, &m, {});
    QVERIFY(plan.ok());
    QCOMPARE(plan.diff.kept.size(), 1);
    QVERIFY(plan.diff.added.isEmpty());
}

void TestPlanner::hostConflictSentence() {
    const Conflict c = hostConflict(spec(3000), QStringLiteral("address already in use"));
    QCOMPARE(c.holder, QStringLiteral("host"));
    QCOMPARE(
        c.message,
        QStringLiteral("port 3000/tcp is in use on this host by another program (address already in use)"));
    QCOMPARE(c.toJson().value(QStringLiteral("transport")).toString(), QStringLiteral("tcp"));
}

QTEST_GUILESS_MAIN(TestPlanner)
#include "tst_planner.moc"

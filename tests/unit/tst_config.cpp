#include "config/config.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;

class TestConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults();
    void applies();
    void errors_data();
    void errors();
    void fileErrorsNameTheFile();
    void duplicateKeyIsRefused();
};

void TestConfig::defaults() {
    Config c;
    QCOMPARE(c.ingressPort, quint16(8080));
    QCOMPARE(c.bind, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(c.udpIdleTimeoutMs, 30'000);
    c.fillDefaults();
    QVERIFY(c.adminSocket.endsWith(QStringLiteral("/portico/admin.sock")));
    QVERIFY(c.stateDir.endsWith(QStringLiteral("/portico")));
    // Backends' folders beside the state tree, not in it (it is the daemon's alone).
    QCOMPARE(c.backendUser, QStringLiteral("portico-backend"));
    QCOMPARE(c.backendDir, QFileInfo(c.stateDir).absolutePath() + QStringLiteral("/portico-backends"));
    QCOMPARE(c.backendCgroup, QStringLiteral("auto"));
    // Every key written out is read back unchanged.
    Config copy;
    QStringList errors;
    QVERIFY2(copy.apply(c.toJson(), &errors), qPrintable(errors.join(QLatin1Char('\n'))));
    QCOMPARE(copy.toJson(), c.toJson());
}

void TestConfig::applies() {
    Config c;
    QStringList errors;
    QVERIFY(c.apply(
        QJsonDocument::fromJson(R"({"ingress_port": 9080, "bind": "::1", "reserved_ports": [9000, 9001],
        "max_body_bytes": 1048576, "access_log": false, "udp_max_sessions": 10})")
            .object(),
        &errors));
    QCOMPARE(c.ingressPort, quint16(9080));
    QCOMPARE(c.bind, QHostAddress(QHostAddress::LocalHostIPv6));
    QCOMPARE(c.reservedPorts, (QList<quint16>{9000, 9001}));
    QCOMPARE(c.maxBodyBytes, 1048576);
    QCOMPARE(c.accessLog, false);
    QCOMPARE(c.udpMaxSessions, 10);
}

void TestConfig::errors_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown key") << QByteArray(R"({"ingres_port": 1})") << "ingres_port: unknown setting";
    QTest::newRow("port range") << QByteArray(R"({"ingress_port": 70000})")
                                << "ingress_port: 70000 is not a port";
    QTest::newRow("bad bind") << QByteArray(R"({"bind": "localhost:80"})") << "bind: must be an IP address";
    QTest::newRow("negative timeout")
        << QByteArray(R"({"header_timeout_ms": -5})") << "header_timeout_ms: must be a whole number";
    QTest::newRow("string number") << QByteArray(R"({"workers": "2"})") << "workers: must be a whole number";
    QTest::newRow("bool type") << QByteArray(R"({"access_log": "yes"})")
                               << "access_log: must be true or false";
    QTest::newRow("reserved item") << QByteArray(R"({"reserved_ports": [80, 0]})")
                                   << "reserved_ports[1]: not a port";
    QTest::newRow("range inverted") << QByteArray(R"({"allowed_port_min": 5000, "allowed_port_max": 4000})")
                                    << "allowed_port_min: 5000 is above allowed_port_max 4000";
    QTest::newRow("backend cgroup") << QByteArray(R"({"backend_cgroup": "yes"})")
                                    << "backend_cgroup: \"yes\" is not auto, on or off";
    QTest::newRow("backend user empty")
        << QByteArray(R"({"backend_user": ""})") << "backend_user: must name a user";
}

void TestConfig::errors() {
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    Config c;
    QStringList errors;
    QVERIFY(!c.apply(QJsonDocument::fromJson(json).object(), &errors));
    QVERIFY2(errors.join(QLatin1Char('\n')).contains(message), qPrintable(errors.join(QLatin1Char('\n'))));
}

void TestConfig::fileErrorsNameTheFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("portico.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{ not json");
    f.close();
    Config c;
    QStringList errors;
    QVERIFY(!Config::load(path, &c, &errors));
    QVERIFY(errors.first().startsWith(path));
    errors.clear();
    QVERIFY(!Config::load(dir.filePath(QStringLiteral("missing.json")), &c, &errors));
    QVERIFY(errors.first().contains(QStringLiteral("cannot read")));
}

void TestConfig::duplicateKeyIsRefused() {
    // QJsonDocument keeps the last one; which the operator meant is unknowable.
    Config c;
    QStringList errors;
    QVERIFY(!Config::parse(R"({"admin_max_clients": 8, "admin_max_clients": 4096})",
                           QStringLiteral("/etc/portico/porticod.json"), &c, &errors));
    QCOMPARE(
        errors,
        QStringList{QStringLiteral(
            "/etc/portico/porticod.json: admin_max_clients: appears twice; a setting may appear only once")});
    QCOMPARE(c.adminMaxClients, Config().adminMaxClients);
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"

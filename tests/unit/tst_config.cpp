#include "config/config.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;

class TestConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults();
    void documentedDefaults_data();
    void documentedDefaults();
    void exampleFileIsEveryDefault();
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

// The defaults the README and docs/admin-protocol.md state in prose, pinned one by one.
void TestConfig::documentedDefaults_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("ingress on 8080") << "ingress_port" << QJsonValue(8080);
    QTest::newRow("loopback only") << "bind" << QJsonValue(QStringLiteral("127.0.0.1"));
    QTest::newRow("allowed range from 1024") << "allowed_port_min" << QJsonValue(1024);
    QTest::newRow("allowed range to 65535") << "allowed_port_max" << QJsonValue(65535);
    QTest::newRow("admin line 4 MiB") << "admin_max_line_bytes" << QJsonValue(4 * 1024 * 1024);
    QTest::newRow("admin clients 256") << "admin_max_clients" << QJsonValue(256);
    QTest::newRow("admin queue 8 MiB") << "admin_max_queue_bytes" << QJsonValue(8 * 1024 * 1024);
    QTest::newRow("admin idle 60 s") << "admin_idle_timeout_ms" << QJsonValue(60000);
    QTest::newRow("no reserved ports") << "reserved_ports" << QJsonValue(QJsonArray());
    QTest::newRow("no admin group") << "admin_group" << QJsonValue(QString());
    QTest::newRow("access log on") << "access_log" << QJsonValue(true);
}

void TestConfig::documentedDefaults() {
    QFETCH(QString, key);
    QFETCH(QJsonValue, value);
    QCOMPARE(Config().toJson().value(key), value);
}

// resources/config/porticod.example.json is documented as "every setting with its default":
// it must be exactly that, no key missing, none extra, no value different.
void TestConfig::exampleFileIsEveryDefault() {
    QFile f(QStringLiteral(PORTICO_SOURCE_DIR "/resources/config/porticod.example.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject example = QJsonDocument::fromJson(f.readAll()).object();
    QVERIFY(!example.isEmpty());
    const QJsonObject defaults = Config().toJson();
    QStringList differences;
    for (const QString &key : defaults.keys()) {
        if (!example.contains(key))
            differences << key + QStringLiteral(": not in the example file");
        else if (example.value(key) != defaults.value(key))
            differences
                << key + QStringLiteral(": ") +
                       QString::fromUtf8(
                           QJsonDocument(QJsonArray{example.value(key)}).toJson(QJsonDocument::Compact)) +
                       QStringLiteral(" in the example, ") +
                       QString::fromUtf8(
                           QJsonDocument(QJsonArray{defaults.value(key)}).toJson(QJsonDocument::Compact)) +
                       QStringLiteral(" in the code");
    }
    for (const QString &key : example.keys()) {
        if (!defaults.contains(key))
            differences << key + QStringLiteral(": in the example file, not a setting");
    }
    QVERIFY2(differences.isEmpty(), qPrintable(differences.join(QLatin1Char('\n'))));
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

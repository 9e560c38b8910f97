// The Kubernetes schema validators the export tests rely on (tests/support/k8svalidate)
// reject what is broken: each row breaks one field of a valid export of every kind, and the
// validator must fail that object, and only that one, saying where. Without this the
// schema checks of tst_k8sexport_e2e and tst_k8sexport_golden could pass vacuously.
#include "k8sexportutil.h"
#include "testutil.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace portico::test;

class TestK8sValidator final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rejectsBrokenObjects_data();
    void rejectsBrokenObjects();

private:
    QTemporaryDir m_dir;
    QJsonArray m_baseline; // a valid export that rejectsBrokenObjects breaks
};

void TestK8sValidator::rejectsBrokenObjects_data() {
    QTest::addColumn<QString>("object");   // kind/name in a valid export
    QTest::addColumn<QStringList>("path"); // where to break it
    QTest::addColumn<QJsonValue>("value"); // undefined: remove
    QTest::addColumn<QString>("error");    // what the validator must say
    QTest::newRow("listener name not a DNS label")
        << QStringLiteral("Gateway/portico")
        << QStringList{QStringLiteral("spec"), QStringLiteral("listeners"), QStringLiteral("0"),
                       QStringLiteral("name")}
        << QJsonValue(QStringLiteral("Http_8080"))
        << QStringLiteral("Gateway/portico: /spec/listeners/0/name must match pattern");
    QTest::newRow("path match type unknown")
        << QStringLiteral("HTTPRoute/web")
        << QStringList{QStringLiteral("spec"),    QStringLiteral("rules"), QStringLiteral("1"),
                       QStringLiteral("matches"), QStringLiteral("0"),     QStringLiteral("path"),
                       QStringLiteral("type")}
        << QJsonValue(QStringLiteral("Prefix"))
        << QStringLiteral(
               "HTTPRoute/web: /spec/rules/1/matches/0/path/type must be equal to one of the allowed values");
    QTest::newRow("TCPRoute without rules")
        << QStringLiteral("TCPRoute/stream-tcp-5000")
        << QStringList{QStringLiteral("spec"), QStringLiteral("rules")} << QJsonValue(QJsonValue::Undefined)
        << QStringLiteral("TCPRoute/stream-tcp-5000: /spec must have required property rules");
    QTest::newRow("Service protocol in lower case")
        << QStringLiteral("Service/dns")
        << QStringList{QStringLiteral("spec"), QStringLiteral("ports"), QStringLiteral("0"),
                       QStringLiteral("protocol")}
        << QJsonValue(QStringLiteral("udp"))
        << QStringLiteral("Service/dns: /spec/ports/0/protocol must be equal to one of the allowed values");
    QTest::newRow("listener port out of range")
        << QStringLiteral("Gateway/portico")
        << QStringList{QStringLiteral("spec"), QStringLiteral("listeners"), QStringLiteral("0"),
                       QStringLiteral("port")}
        << QJsonValue(70000) << QStringLiteral("Gateway/portico: /spec/listeners/0/port must be <= 65535");
    QTest::newRow("Service port not a number")
        << QStringLiteral("Service/web")
        << QStringList{QStringLiteral("spec"), QStringLiteral("ports"), QStringLiteral("0"),
                       QStringLiteral("port")}
        << QJsonValue(QStringLiteral("http"))
        << QStringLiteral("Service/web: /spec/ports/0/port must be integer");
    QTest::newRow("env value a boolean")
        << QStringLiteral("Deployment/web")
        << QStringList{QStringLiteral("spec"),       QStringLiteral("template"), QStringLiteral("spec"),
                       QStringLiteral("containers"), QStringLiteral("0"),        QStringLiteral("env"),
                       QStringLiteral("0"),          QStringLiteral("value")}
        << QJsonValue(true)
        << QStringLiteral("Deployment/web: /spec/template/spec/containers/0/env/0/value must be string");
    QTest::newRow("EndpointSlice address type unknown")
        << QStringLiteral("EndpointSlice/db") << QStringList{QStringLiteral("addressType")}
        << QJsonValue(QStringLiteral("IPv5"))
        << QStringLiteral("EndpointSlice/db: /addressType must be equal to one of the allowed values");
    QTest::newRow("a kind without a validator never passes")
        << QStringLiteral("Service/web") << QStringList{QStringLiteral("kind")}
        << QJsonValue(QStringLiteral("Ingress"))
        << QStringLiteral("Ingress/web: no validator for apiVersion v1 kind Ingress");
}

namespace {
QJsonValue setAt(QJsonValue node, QStringList path, const QJsonValue &value) {
    if (path.isEmpty())
        return value;
    const QString key = path.takeFirst();
    if (node.isArray()) {
        QJsonArray a = node.toArray();
        a[key.toInt()] = setAt(a.at(key.toInt()), path, value);
        return a;
    }
    QJsonObject o = node.toObject();
    if (path.isEmpty() && value.isUndefined())
        o.remove(key);
    else
        o.insert(key, setAt(o.value(key), path, value));
    return o;
}
} // namespace

void TestK8sValidator::rejectsBrokenObjects() {
    PORTICO_REQUIRE_K8S_VALIDATOR();
    QFETCH(QString, object);
    QFETCH(QStringList, path);
    QFETCH(QJsonValue, value);
    QFETCH(QString, error);
    // A valid export of every kind first (once): each row breaks exactly one field of it.
    if (m_baseline.isEmpty()) {
        const QString dir = m_dir.filePath(QStringLiteral("broken"));
        QDir().mkpath(dir);
        const QStringList files{
            writeFile(dir, QStringLiteral("web.json"),
                      R"({"name":"web","runtime":"process","command":["./web"]})"),
            writeFile(
                dir, QStringLiteral("stream.json"),
                R"({"name":"stream","runtime":"process","command":["./s"],"listen":{"port":5000,"protocol":"tcp"}})"),
            writeFile(
                dir, QStringLiteral("dns.json"),
                R"({"name":"dns","runtime":"upstream","upstream":"10.0.0.53:53","listen":{"port":5353,"protocol":"udp"}})"),
            writeFile(dir, QStringLiteral("db.json"),
                      R"({"name":"db","runtime":"upstream","upstream":"10.0.0.5:5432"})")};
        const CtlRun run = runPorticoctl(
            exportArgs(QStringList{QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("--image"),
                                   QStringLiteral("web=r/web:1"), QStringLiteral("--image"),
                                   QStringLiteral("stream=r/stream:1")} +
                       files));
        QVERIFY2(run.code == 0, qPrintable(run.err));
        const K8sValidation valid = validateK8s(run.out, QStringLiteral("json"));
        QVERIFY2(valid.valid(), qPrintable(valid.problems()));
        m_baseline = listItems(run.out);
        QCOMPARE(m_baseline.size(),
                 13); // every kind: Gateway, 4 Services, 2 EndpointSlices, 2 Deployments, 4 routes
    }
    QJsonArray objects = m_baseline;

    qsizetype index = -1;
    for (qsizetype i = 0; i < objects.size(); ++i) {
        if (kindName(objects.at(i)) == object)
            index = i;
    }
    QVERIFY2(index >= 0, qPrintable(object));
    objects[index] = setAt(objects.at(index), path, value);
    const K8sValidation broken =
        validateK8s(QJsonDocument(QJsonObject{{QStringLiteral("apiVersion"), QStringLiteral("v1")},
                                              {QStringLiteral("kind"), QStringLiteral("List")},
                                              {QStringLiteral("items"), objects}})
                        .toJson(),
                    QStringLiteral("json"));
    QVERIFY2(broken.ran, qPrintable(broken.error));
    QCOMPARE(broken.exitCode, 1);
    QVERIFY(!broken.valid());
    QVERIFY2(broken.problems().contains(error), qPrintable(broken.problems()));
    // Only the broken object fails.
    int failed = 0;
    for (const QJsonValue &o : broken.report[QLatin1String("objects")].toArray())
        failed += o[QLatin1String("ok")].toBool() ? 0 : 1;
    QCOMPARE(failed, 1);
}

QTEST_GUILESS_MAIN(TestK8sValidator)
#include "tst_k8svalidator.moc"

// `porticoctl export kubernetes` end to end: the real porticoctl against a real porticod
// (path-routed project, http, tcp and udp ports) and offline against manifest files, every
// object checked against the published Kubernetes and Gateway API schemas by a real
// validator (tests/support/k8svalidate: kubernetes-models, @kubernetes-models/gateway-api,
// and the yaml package reading the output as YAML 1.1 and 1.2), the mapping checked as a
// user would (prefix rewrite, a listener per port and protocol, each route on the right
// listener, Service ports), and the refusals. That the validator rejects what is broken is
// tst_k8svalidator; the golden files of the examples are tst_k8sexport_golden.
#include "daemonfixture.h"
#include "k8sexportutil.h"
#include "testutil.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;
using namespace portico::test;

namespace {

// What a user checks after `kubectl apply`: every route hangs on a listener of a Gateway that
// speaks its protocol, every backendRef is a port of a Service of the same transport, and
// every Service with a selector selects a Deployment's pods on a port their container opens.
// Returns the problems, one per line.
QStringList attachmentProblems(const QJsonArray &objects) {
    QStringList problems;
    QMap<QString, QString> listenerProtocol; // "<gateway>/<listener>" -> protocol
    for (const QJsonValue &o : objects) {
        if (o[QLatin1String("kind")].toString() != QLatin1String("Gateway"))
            continue;
        for (const QJsonValue &l : o[QLatin1String("spec")][QLatin1String("listeners")].toArray())
            listenerProtocol.insert(o[QLatin1String("metadata")][QLatin1String("name")].toString() +
                                        QLatin1Char('/') + l[QLatin1String("name")].toString(),
                                    l[QLatin1String("protocol")].toString());
    }
    const QMap<QString, QString> protocolOfRoute{{QStringLiteral("HTTPRoute"), QStringLiteral("HTTP")},
                                                 {QStringLiteral("TCPRoute"), QStringLiteral("TCP")},
                                                 {QStringLiteral("UDPRoute"), QStringLiteral("UDP")}};
    for (const QJsonValue &o : objects) {
        const QString kind = o[QLatin1String("kind")].toString();
        if (!protocolOfRoute.contains(kind))
            continue;
        const QJsonArray parents = o[QLatin1String("spec")][QLatin1String("parentRefs")].toArray();
        if (parents.size() != 1)
            problems << kindName(o) + QStringLiteral(": not exactly one parentRef");
        for (const QJsonValue &p : parents) {
            const QString key = p[QLatin1String("name")].toString() + QLatin1Char('/') +
                                p[QLatin1String("sectionName")].toString();
            if (listenerProtocol.value(key) != protocolOfRoute.value(kind))
                problems << QStringLiteral("%1: parent %2 is no %3 listener")
                                .arg(kindName(o), key, protocolOfRoute.value(kind));
        }
        for (const QJsonValue &rule : o[QLatin1String("spec")][QLatin1String("rules")].toArray()) {
            for (const QJsonValue &ref : rule[QLatin1String("backendRefs")].toArray()) {
                const QJsonObject svc =
                    findObject(objects, QStringLiteral("Service/") + ref[QLatin1String("name")].toString());
                bool found = false;
                for (const QJsonValue &port : svc[QLatin1String("spec")][QLatin1String("ports")].toArray()) {
                    found |= port[QLatin1String("port")].toInt() == ref[QLatin1String("port")].toInt() &&
                             port[QLatin1String("protocol")].toString() == (kind == QLatin1String("UDPRoute")
                                                                                ? QStringLiteral("UDP")
                                                                                : QStringLiteral("TCP"));
                }
                if (!found)
                    problems << QStringLiteral("%1: backendRef %2 is no port of a Service")
                                    .arg(kindName(o), compactJson(ref));
            }
        }
    }
    for (const QJsonValue &svc : objects) {
        if (svc[QLatin1String("kind")].toString() != QLatin1String("Service"))
            continue;
        const QJsonObject selector = svc[QLatin1String("spec")][QLatin1String("selector")].toObject();
        const QJsonObject dep =
            findObject(objects, QStringLiteral("Deployment/") +
                                    svc[QLatin1String("metadata")][QLatin1String("name")].toString());
        if (selector.isEmpty() || dep.isEmpty())
            continue;
        const QJsonObject pod = dep[QLatin1String("spec")][QLatin1String("template")].toObject();
        for (auto it = selector.begin(); it != selector.end(); ++it) {
            if (pod[QLatin1String("metadata")][QLatin1String("labels")][it.key()] != it.value())
                problems << kindName(svc) + QStringLiteral(": selects no pod of its Deployment");
        }
        for (const QJsonValue &port : svc[QLatin1String("spec")][QLatin1String("ports")].toArray()) {
            bool open = false;
            for (const QJsonValue &c :
                 pod[QLatin1String("spec")][QLatin1String("containers")][0][QLatin1String("ports")].toArray())
                open |= c[QLatin1String("containerPort")] == port[QLatin1String("targetPort")] &&
                        c[QLatin1String("protocol")] == port[QLatin1String("protocol")];
            if (!open)
                problems << QStringLiteral("%1: targetPort %2 is no container port")
                                .arg(kindName(svc), compactJson(port));
        }
    }
    return problems;
}

// Runs the export as YAML and as JSON, validates the YAML and checks that both carry the same
// objects. Returns the objects (empty after a failure, which the caller's QVERIFY reports).
QJsonArray exportAndValidate(const QStringList &args, QString *problem) {
    const CtlRun yaml = runPorticoctl(exportArgs(args));
    const CtlRun json =
        runPorticoctl(exportArgs(args + QStringList{QStringLiteral("-o"), QStringLiteral("json")}));
    if (yaml.code != 0 || json.code != 0) {
        *problem = QStringLiteral("export failed: %1 %2").arg(yaml.err, json.err);
        return {};
    }
    const K8sValidation v = validateK8s(yaml.out, QStringLiteral("yaml"));
    if (!v.valid()) {
        *problem =
            QStringLiteral("invalid:\n") + v.problems() + QStringLiteral("\n") + QString::fromUtf8(yaml.out);
        return {};
    }
    const QJsonArray fromJson = listItems(json.out);
    if (v.parsed() != fromJson) {
        *problem = QStringLiteral("the YAML and the JSON output differ");
        return {};
    }
    if (v.report[QLatin1String("objects")].toArray().size() != fromJson.size()) {
        *problem = QStringLiteral("not every object was validated");
        return {};
    }
    return fromJson;
}

} // namespace

class TestK8sExportE2e final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void exportsRunningDaemon();
    void exportsOfflineManifests();
    void roundTripsEveryString();
    void skipMissingImages();
    void refusals_data();
    void refusals();
    void unreachableDaemon();

private:
    QTemporaryDir m_dir;
};

void TestK8sExportE2e::exportsRunningDaemon() {
    PORTICO_REQUIRE_K8S_VALIDATOR();
    DaemonFixture d;
    QString why;
    QVERIFY2(d.start(&why), qPrintable(why));
    const quint16 httpPort = freePort();
    const quint16 tcpPort = freePort();
    const quint16 udpPort = freePort(true);
    QVERIFY(httpPort && tcpPort && udpPort);
    const QString backend = QStringLiteral(TESTBACKEND_PATH);
    const auto deploy = [&](const QJsonObject &m) {
        const QJsonObject r = d.deploy(QJsonDocument(m).toJson());
        return r.contains(QStringLiteral("result")) ? QString() : compactJson(r);
    };
    const QString web =
        deploy({{QStringLiteral("name"), QStringLiteral("web")},
                {QStringLiteral("runtime"), QStringLiteral("process")},
                {QStringLiteral("command"), QJsonArray{backend, QStringLiteral("http")}},
                {QStringLiteral("env"), QJsonObject{{QStringLiteral("MODE"), QStringLiteral("on")},
                                                    {QStringLiteral("VERSION"), QStringLiteral("1.0")}}}});
    QVERIFY2(web.isEmpty(), qPrintable(web));
    const QString api = deploy({{QStringLiteral("name"), QStringLiteral("shop")},
                                {QStringLiteral("runtime"), QStringLiteral("process")},
                                {QStringLiteral("command"), QJsonArray{backend, QStringLiteral("http")}},
                                {QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), httpPort}}}});
    QVERIFY2(api.isEmpty(), qPrintable(api));
    const QString stream = deploy(
        {{QStringLiteral("name"), QStringLiteral("stream")},
         {QStringLiteral("runtime"), QStringLiteral("process")},
         {QStringLiteral("command"), QJsonArray{backend, QStringLiteral("tcp-echo")}},
         {QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), tcpPort},
                                                {QStringLiteral("protocol"), QStringLiteral("tcp")},
                                                {QStringLiteral("proxy_protocol"), QStringLiteral("v1")}}}});
    QVERIFY2(stream.isEmpty(), qPrintable(stream));
    const QString dns = deploy(
        {{QStringLiteral("name"), QStringLiteral("dns")},
         {QStringLiteral("runtime"), QStringLiteral("process")},
         {QStringLiteral("command"), QJsonArray{backend, QStringLiteral("udp-echo")}},
         {QStringLiteral("listen"), QJsonObject{{QStringLiteral("port"), udpPort},
                                                {QStringLiteral("protocol"), QStringLiteral("udp")}}}});
    QVERIFY2(dns.isEmpty(), qPrintable(dns));

    // What the backend sees behind Portico, which the HTTPRoute must reproduce.
    const DaemonFixture::HttpReply seen = DaemonFixture::httpGet(d.ingressPort(), "/web/headers");
    QCOMPARE(seen.status, 200);
    QVERIFY2(seen.body.startsWith("GET /headers HTTP/1.1"), seen.body.constData());
    QVERIFY2(QRegularExpression(QStringLiteral("\r\nX-Forwarded-Prefix: /web(\r\n|$)"))
                 .match(QString::fromUtf8(seen.body))
                 .hasMatch(),
             seen.body.constData());
    const DaemonFixture::HttpReply bare = DaemonFixture::httpGet(d.ingressPort(), "/web");
    QVERIFY2(bare.status / 100 == 3 && bare.headers.contains("Location: /web/"), bare.headers.constData());

    QString problem;
    const QJsonArray objects = exportAndValidate(
        {QStringLiteral("--socket"), d.socketPath(), QStringLiteral("--gateway-class"), QStringLiteral("eg"),
         QStringLiteral("--image"), QStringLiteral("web=registry.example.com/web:1.0"),
         QStringLiteral("--image"), QStringLiteral("shop=registry.example.com/shop:1.0"),
         QStringLiteral("--image"), QStringLiteral("stream=registry.example.com/stream:1.0"),
         QStringLiteral("--image"), QStringLiteral("dns=registry.example.com/dns:1.0")},
        &problem);
    QVERIFY2(!objects.isEmpty(), qPrintable(problem));

    // One Gateway, a listener per port and protocol, the daemon's own ingress port among them.
    const QJsonObject gateway = findObject(objects, QStringLiteral("Gateway/portico"));
    QCOMPARE(gateway[QLatin1String("spec")][QLatin1String("gatewayClassName")].toString(),
             QStringLiteral("eg"));
    QStringList listeners;
    for (const QJsonValue &l : gateway[QLatin1String("spec")][QLatin1String("listeners")].toArray())
        listeners << QStringLiteral("%1 %2 %3")
                         .arg(l[QLatin1String("name")].toString())
                         .arg(l[QLatin1String("port")].toInt())
                         .arg(l[QLatin1String("protocol")].toString());
    listeners.sort();
    QStringList expected{QStringLiteral("http-%1 %1 HTTP").arg(d.ingressPort()),
                         QStringLiteral("http-%1 %1 HTTP").arg(httpPort),
                         QStringLiteral("tcp-%1 %1 TCP").arg(tcpPort),
                         QStringLiteral("udp-%1 %1 UDP").arg(udpPort)};
    expected.sort();
    QCOMPARE(listeners, expected);

    // Each route on its listener, to its Service's port.
    const QStringList problems = attachmentProblems(objects);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    const auto section = [&](const QString &route) {
        return findObject(
                   objects,
                   route)[QLatin1String("spec")][QLatin1String("parentRefs")][0][QLatin1String("sectionName")]
            .toString();
    };
    QCOMPARE(section(QStringLiteral("HTTPRoute/web")), QStringLiteral("http-%1").arg(d.ingressPort()));
    QCOMPARE(section(QStringLiteral("HTTPRoute/shop-http-%1").arg(httpPort)),
             QStringLiteral("http-%1").arg(httpPort));
    QCOMPARE(section(QStringLiteral("TCPRoute/stream-tcp-%1").arg(tcpPort)),
             QStringLiteral("tcp-%1").arg(tcpPort));
    QCOMPARE(section(QStringLiteral("UDPRoute/dns-udp-%1").arg(udpPort)),
             QStringLiteral("udp-%1").arg(udpPort));

    // The prefix route does what Portico did above: /web/headers reaches the backend as
    // /headers with X-Forwarded-Prefix: /web, and /web is sent to /web/.
    const QJsonArray rules =
        findObject(objects, QStringLiteral("HTTPRoute/web"))[QLatin1String("spec")][QLatin1String("rules")]
            .toArray();
    QCOMPARE(rules.size(), 2);
    QCOMPARE(compactJson(rules[0][QLatin1String("matches")]),
             QStringLiteral(R"([{"path":{"type":"Exact","value":"/web"}}])"));
    QCOMPARE(rules[0][QLatin1String("filters")][0][QLatin1String("requestRedirect")][QLatin1String("path")]
                  [QLatin1String("replaceFullPath")]
                      .toString(),
             QStringLiteral("/web/"));
    QCOMPARE(compactJson(rules[1][QLatin1String("matches")]),
             QStringLiteral(R"([{"path":{"type":"PathPrefix","value":"/web"}}])"));
    QCOMPARE(
        compactJson(rules[1][QLatin1String("filters")]),
        QStringLiteral(
            R"([{"type":"URLRewrite","urlRewrite":{"path":{"replacePrefixMatch":"/","type":"ReplacePrefixMatch"}}},)"
            R"({"requestHeaderModifier":{"set":[{"name":"X-Forwarded-Prefix","value":"/web"}]},"type":"RequestHeaderModifier"}])"));

    // Service ports: one per backend port, with its transport.
    const auto ports = [&](const QString &svc) {
        return compactJson(findObject(objects, QStringLiteral("Service/") +
                                                   svc)[QLatin1String("spec")][QLatin1String("ports")]);
    };
    QCOMPARE(ports(QStringLiteral("web")),
             QStringLiteral(R"([{"name":"http-8080","port":8080,"protocol":"TCP","targetPort":8080}])"));
    QCOMPARE(
        ports(QStringLiteral("shop")),
        QStringLiteral(R"([{"name":"http-%1","port":%1,"protocol":"TCP","targetPort":%1}])").arg(httpPort));
    QCOMPARE(
        ports(QStringLiteral("stream")),
        QStringLiteral(R"([{"name":"tcp-%1","port":%1,"protocol":"TCP","targetPort":%1}])").arg(tcpPort));
    QCOMPARE(
        ports(QStringLiteral("dns")),
        QStringLiteral(R"([{"name":"udp-%1","port":%1,"protocol":"UDP","targetPort":%1}])").arg(udpPort));

    // The manifest's env as strings (YAML 1.1 would read a bare on and 1.0 otherwise), PORT/HOST for a pod.
    QCOMPARE(
        compactJson(
            findObject(objects, QStringLiteral("Deployment/web"))[QLatin1String("spec")][QLatin1String(
                "template")][QLatin1String("spec")][QLatin1String("containers")][0][QLatin1String("env")]),
        QStringLiteral(
            R"([{"name":"HOST","value":"0.0.0.0"},{"name":"PORT","value":"8080"},{"name":"MODE","value":"on"},)"
            R"({"name":"VERSION","value":"1.0"}])"));
    QCOMPARE(findObject(objects, QStringLiteral("TCPRoute/stream-tcp-%1").arg(tcpPort))[QLatin1String(
                 "metadata")][QLatin1String("annotations")][QLatin1String("portico.dev/proxy-protocol")]
                 .toString(),
             QStringLiteral("v1"));
    QCOMPARE(objects.size(), 13); // Gateway, 4 Services, 4 Deployments, 2 HTTPRoutes, a TCPRoute, a UDPRoute
}

void TestK8sExportE2e::exportsOfflineManifests() {
    PORTICO_REQUIRE_K8S_VALIDATOR();
    // A folder of the shipped examples plus manifests by file: upstreams by IPv4, IPv6 and name.
    const QString dir = m_dir.filePath(QStringLiteral("offline"));
    QDir().mkpath(dir);
    const QString db = writeFile(
        dir, QStringLiteral("db.json"),
        R"({"name":"db","runtime":"upstream","upstream":"10.0.0.5:5432","listen":{"port":5432,"protocol":"tcp"}})");
    const QString v6 = writeFile(
        dir, QStringLiteral("v6.json"),
        R"({"name":"v6","runtime":"upstream","upstream":"[2001:db8::7]:53","listen":[{"port":53,"protocol":"udp"},{"port":53,"protocol":"tcp"}]})");
    const QString legacy =
        writeFile(dir, QStringLiteral("legacy.json"),
                  R"({"name":"legacy","runtime":"upstream","upstream":"legacy.example.com:80"})");
    const QString box = writeFile(dir, QStringLiteral("box.json"),
                                  R"({"name":"box","runtime":"dockerfile","listen":{"port":9000}})");
    QString problem;
    const QJsonArray objects = exportAndValidate(
        {QStringLiteral("--namespace"), QStringLiteral("team-a"), QStringLiteral("--image"),
         QStringLiteral("hello=registry.example.com/hello:1.0"), QStringLiteral("--image"),
         QStringLiteral("py-api=ghcr.io/me/py-api:2"), QStringLiteral("--image"),
         QStringLiteral("site=nginxinc/nginx-unprivileged:1.27"), QStringLiteral("--image"),
         QStringLiteral("echo=r/echo:1"), QStringLiteral("--image"), QStringLiteral("udp-echo=r/udp-echo:1"),
         QStringLiteral("--image"),
         QStringLiteral("box=localhost:5000/"
                        "box@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
         QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples"), db, v6, legacy, box},
        &problem);
    QVERIFY2(!objects.isEmpty(), qPrintable(problem));
    const QStringList problems = attachmentProblems(objects);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    for (const QJsonValue &o : objects)
        QCOMPARE(o[QLatin1String("metadata")][QLatin1String("namespace")].toString(),
                 QStringLiteral("team-a"));

    // Offline the ingress is Portico's default port.
    QVERIFY(compactJson(findObject(objects,
                                   QStringLiteral(
                                       "Gateway/portico"))[QLatin1String("spec")][QLatin1String("listeners")])
                .contains(QStringLiteral(R"({"name":"http-8080","port":8080,"protocol":"HTTP"})")));
    // --image becomes the Deployment's image.
    QCOMPARE(findObject(objects, QStringLiteral("Deployment/py-api"))[QLatin1String("spec")][QLatin1String(
                 "template")][QLatin1String("spec")][QLatin1String("containers")][0][QLatin1String("image")]
                 .toString(),
             QStringLiteral("ghcr.io/me/py-api:2"));
    // An upstream: a Service without selector and, for an address, its EndpointSlice; no Deployment.
    for (const char *name : {"db", "v6", "legacy"}) {
        const QString n = QLatin1String(name);
        QVERIFY(findObject(objects, QStringLiteral("Deployment/") + n).isEmpty());
        QVERIFY(
            !findObject(objects, QStringLiteral("Service/") + n)[QLatin1String("spec")].toObject().contains(
                QStringLiteral("selector")));
        QCOMPARE(findObject(objects, QStringLiteral("EndpointSlice/") + n).isEmpty(),
                 n == QLatin1String("legacy"));
    }
    QCOMPARE(compactJson(findObject(objects, QStringLiteral("Service/legacy"))[QLatin1String("spec")]),
             QStringLiteral(R"({"externalName":"legacy.example.com","ports":[{"name":"http-80","port":80,)"
                            R"("protocol":"TCP","targetPort":80}],"type":"ExternalName"})"));
    QCOMPARE(compactJson(findObject(objects, QStringLiteral("EndpointSlice/v6"))[QLatin1String("endpoints")]),
             QStringLiteral(R"([{"addresses":["2001:db8::7"],"conditions":{"ready":true}}])"));
    QCOMPARE(
        compactJson(
            findObject(objects, QStringLiteral("Service/v6"))[QLatin1String("spec")][QLatin1String("ports")]),
        QStringLiteral(
            R"([{"name":"tcp-53","port":53,"protocol":"TCP","targetPort":53},{"name":"udp-53","port":53,"protocol":"UDP","targetPort":53}])"));

    // The notes on stderr say what the user must check.
    const CtlRun run =
        runPorticoctl(exportArgs({QStringLiteral("--namespace"), QStringLiteral("team-a"), db}));
    QCOMPARE(run.code, 0);
    QVERIFY2(run.err.contains(QStringLiteral(
                 "porticoctl: note: project 'db' forwards to 10.0.0.5:5432, outside the cluster: that "
                 "address must be reachable from the cluster's Gateway and pods")),
             qPrintable(run.err));
}

void TestK8sExportE2e::roundTripsEveryString() {
    PORTICO_REQUIRE_K8S_VALIDATOR();
    // Strings a careless emitter leaves bare and a YAML reader then takes for something else.
    const QStringList nasty{QStringLiteral("on"),
                            QStringLiteral("Off"),
                            QStringLiteral("yes"),
                            QStringLiteral("n"),
                            QStringLiteral("Y"),
                            QStringLiteral("TRUE"),
                            QStringLiteral("null"),
                            QStringLiteral("~"),
                            QStringLiteral(""),
                            QStringLiteral("1.0"),
                            QStringLiteral("1"),
                            QStringLiteral("-1"),
                            QStringLiteral("0x1F"),
                            QStringLiteral("017"),
                            QStringLiteral("0o17"),
                            QStringLiteral("1_000"),
                            QStringLiteral("1e3"),
                            QStringLiteral("1:20"),
                            QStringLiteral(".inf"),
                            QStringLiteral(".NaN"),
                            QStringLiteral("2001-12-14"),
                            QStringLiteral("2001-12-14T21:59:43.10-05:00"),
                            QStringLiteral("key: value"),
                            QStringLiteral("a:b"),
                            QStringLiteral("http://x:80/"),
                            QStringLiteral("#not a comment"),
                            QStringLiteral("a #b"),
                            QStringLiteral("- item"),
                            QStringLiteral("? q"),
                            QStringLiteral("[1, 2]"),
                            QStringLiteral("{a: 1}"),
                            QStringLiteral("&a"),
                            QStringLiteral("*a"),
                            QStringLiteral("!tag"),
                            QStringLiteral("|"),
                            QStringLiteral(">"),
                            QStringLiteral("%TAG"),
                            QStringLiteral("@x"),
                            QStringLiteral("`x"),
                            QStringLiteral("'single'"),
                            QStringLiteral("\"double\""),
                            QStringLiteral("back\\slash"),
                            QStringLiteral(" lead"),
                            QStringLiteral("trail "),
                            QStringLiteral("line\nbreak"),
                            QStringLiteral("tab\there"),
                            QStringLiteral("cr\r"),
                            QString(QChar(0x85)),
                            QString(QChar(0x2028)),
                            QStringLiteral("in") + QChar(0xFEFF) + QStringLiteral("side"),
                            QString(QChar(0x01)),
                            QString(QChar(0x7F)),
                            QStringLiteral("grüße"),
                            QString::fromUtf8("\xF0\x9F\x9A\x80"),
                            QStringLiteral("<<"),
                            QStringLiteral("="),
                            QStringLiteral("---"),
                            QStringLiteral("..."),
                            QStringLiteral("$(HOME)"),
                            QStringLiteral("{\"json\":[1,2]}")};
    QJsonObject env;
    for (int i = 0; i < nasty.size(); ++i)
        env.insert(QStringLiteral("V%1").arg(i, 2, 10, QLatin1Char('0')), nasty.at(i));
    const QString file =
        writeFile(m_dir.path(), QStringLiteral("nasty.json"),
                  QJsonDocument(QJsonObject{{QStringLiteral("name"), QStringLiteral("nasty")},
                                            {QStringLiteral("runtime"), QStringLiteral("deno")},
                                            {QStringLiteral("env"), env}})
                      .toJson());
    QString problem;
    const QJsonArray objects =
        exportAndValidate({QStringLiteral("--image"), QStringLiteral("nasty=r/nasty:1"), file}, &problem);
    QVERIFY2(!objects.isEmpty(),
             qPrintable(problem)); // includes: YAML 1.1 and 1.2 read the same, == the JSON output
    QJsonObject got;
    for (const QJsonValue &e :
         findObject(objects, QStringLiteral("Deployment/nasty"))[QLatin1String("spec")][QLatin1String(
             "template")][QLatin1String("spec")][QLatin1String("containers")][0][QLatin1String("env")]
             .toArray())
        got.insert(e[QLatin1String("name")].toString(), e[QLatin1String("value")]);
    for (auto it = env.begin(); it != env.end(); ++it)
        QCOMPARE(got.value(it.key()).toString(),
                 it.value().toString().replace(QLatin1Char('$'), QStringLiteral("$$")));
}

void TestK8sExportE2e::skipMissingImages() {
    const CtlRun run = runPorticoctl(exportArgs({QStringLiteral("--skip-missing-images"),
                                                 QStringLiteral("--image"), QStringLiteral("hello=r/hello:1"),
                                                 QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples")}));
    QCOMPARE(run.code, 0);
    for (const char *project : {"echo", "py-api", "site", "udp-echo"})
        QVERIFY2(
            run.err.contains(QStringLiteral("porticoctl: warning: project '%1'").arg(QLatin1String(project))),
            qPrintable(run.err));
    QVERIFY(!run.err.contains(QStringLiteral("project 'hello'")));
    QCOMPARE(run.out.count("\nkind: Deployment\n"), 1);
    QCOMPARE(run.out.count("\nkind: Service\n"), 5);
}

void TestK8sExportE2e::refusals_data() {
    QTest::addColumn<QStringList>("args"); // after "porticoctl export"
    QTest::addColumn<int>("code");
    QTest::addColumn<QStringList>("stderr"); // lines that must be there
    const QString examples = QStringLiteral(PORTICO_SOURCE_DIR "/resources/examples");
    const QString k8s = QStringLiteral("kubernetes");
    QTest::newRow("missing images: each project and the flag")
        << QStringList{k8s, examples, QStringLiteral("--image"), QStringLiteral("hello=r/hello:1")} << 1
        << QStringList{QStringLiteral("porticoctl: export refused"),
                       QStringLiteral("  error: project 'echo' (process) runs a backend and needs a "
                                      "container image: pass --image echo=IMAGE "
                                      "(or --skip-missing-images to leave its Deployment out)"),
                       QStringLiteral("  error: project 'py-api' (process) runs a backend and needs a "
                                      "container image: pass --image py-api=IMAGE"),
                       QStringLiteral("  error: project 'site' (static) runs a backend and needs a container "
                                      "image: pass --image site=IMAGE"),
                       QStringLiteral("  error: project 'udp-echo' (process) runs a backend and needs a "
                                      "container image: pass --image udp-echo=IMAGE")};
    QTest::newRow("unix-socket upstream")
        << QStringList{k8s, QStringLiteral("@{\"name\":\"sock\",\"runtime\":\"upstream\",\"upstream\":\"unix:"
                                           "/run/app.sock\"}")}
        << 1
        << QStringList{QStringLiteral(
               "  error: project 'sock': upstream a unix socket (unix:/run/app.sock) cannot be reached from "
               "a cluster; "
               "serve the project on a TCP address, or move it into a container and give it an image")};
    QTest::newRow("loopback upstream")
        << QStringList{k8s,
                       QStringLiteral(
                           "@{\"name\":\"lo\",\"runtime\":\"upstream\",\"upstream\":\"127.0.0.1:9000\"}")}
        << 1
        << QStringList{QStringLiteral("  error: project 'lo': upstream 127.0.0.1:9000 is a loopback address: "
                                      "it names this host only")};
    QTest::newRow("invalid manifest: file, path and message")
        << QStringList{k8s, QStringLiteral(
                                "@{\"name\":\"x\",\"runtime\":\"process\",\"listen\":{\"port\":70000}}")}
        << 1
        << QStringList{QStringLiteral("manifest.json: command: is required for the process runtime"),
                       QStringLiteral("manifest.json: listen.port: 70000 is not a port (1-65535)")};
    QTest::newRow("two manifests, one port")
        << QStringList{k8s,
                       QStringLiteral("@{\"name\":\"a\",\"runtime\":\"upstream\",\"upstream\":\"10.0.0.1:"
                                      "80\",\"listen\":{\"port\":3000}}"),
                       QStringLiteral("@{\"name\":\"b\",\"runtime\":\"upstream\",\"upstream\":\"10.0.0.1:"
                                      "81\",\"listen\":{\"port\":3000,\"protocol\":\"tcp\"}}")}
        << 1 << QStringList{QStringLiteral("  error: port 3000/tcp is claimed by both 'a' and 'b'")};
    QTest::newRow("--image without =")
        << QStringList{k8s, examples, QStringLiteral("--image"), QStringLiteral("hello")} << 1
        << QStringList{QStringLiteral("  error: --image hello: expected PROJECT=REF")};
    QTest::newRow("--image twice")
        << QStringList{k8s,
                       examples,
                       QStringLiteral("--image"),
                       QStringLiteral("hello=a"),
                       QStringLiteral("--image"),
                       QStringLiteral("hello=b")}
        << 1
        << QStringList{QStringLiteral("  error: --image hello=b: project 'hello' has an image already (a)")};
    QTest::newRow("--image of no project")
        << QStringList{k8s, examples, QStringLiteral("--skip-missing-images"), QStringLiteral("--image"),
                       QStringLiteral("nope=r/x:1")}
        << 1
        << QStringList{
               QStringLiteral("  error: --image nope=r/x:1: there is no project 'nope' in this export")};
    QTest::newRow("bad namespace") << QStringList{k8s, examples, QStringLiteral("--skip-missing-images"),
                                                  QStringLiteral("--namespace"), QStringLiteral("Prod")}
                                   << 1
                                   << QStringList{
                                          QStringLiteral("  error: --namespace Prod: not a namespace name")};
    QTest::newRow("no such file") << QStringList{k8s, QStringLiteral("/nonexistent/portico.json")} << 1
                                  << QStringList{QStringLiteral(
                                         "  error: /nonexistent/portico.json: no such file or folder")};
    QTest::newRow("unknown target") << QStringList{QStringLiteral("nomad")} << 1
                                    << QStringList{QStringLiteral(
                                           "porticoctl: export: unknown target 'nomad' (only kubernetes)")};
    QTest::newRow("unknown format") << QStringList{k8s, examples, QStringLiteral("-o"), QStringLiteral("xml")}
                                    << 1
                                    << QStringList{
                                           QStringLiteral("porticoctl: -o xml: the format is yaml or json")};
    QTest::newRow("unknown option") << QStringList{k8s, QStringLiteral("--replicas"), QStringLiteral("3")}
                                    << 1
                                    << QStringList{QStringLiteral("porticoctl: Unknown option 'replicas'.")};
    QTest::newRow("--socket with manifests")
        << QStringList{k8s, QStringLiteral("--socket"), QStringLiteral("/tmp/x.sock"), examples} << 1
        << QStringList{
               QStringLiteral("porticoctl: --socket is for exporting the daemon's projects; manifests are "
                              "exported without a daemon"),
               QStringLiteral("porticoctl: see 'porticoctl export --help'")};
}

void TestK8sExportE2e::refusals() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QStringList, stderr);
    // "@<json>" is a manifest written to a file of its own.
    QTemporaryDir dir;
    QStringList real;
    for (const QString &a : args) {
        if (!a.startsWith(u'@')) {
            real << a;
            continue;
        }
        const QString sub = dir.filePath(QString::number(real.size()));
        QDir().mkpath(sub);
        real << writeFile(sub, QStringLiteral("manifest.json"), a.mid(1).toUtf8());
    }
    const CtlRun run = runPorticoctl(QStringList{QStringLiteral("export")} + real);
    QCOMPARE(run.code, code);
    QVERIFY2(run.out.isEmpty(), run.out.constData()); // nothing half-made for kubectl
    for (const QString &line : stderr)
        QVERIFY2(run.err.contains(line),
                 qPrintable(QStringLiteral("missing: %1\nin:\n%2").arg(line, run.err)));
}

void TestK8sExportE2e::unreachableDaemon() {
    const CtlRun run =
        runPorticoctl(exportArgs({QStringLiteral("--socket"), m_dir.filePath(QStringLiteral("none.sock"))}));
    QCOMPARE(run.code, 2);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.startsWith(QStringLiteral("porticoctl: cannot reach the daemon")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("give manifest files or folders to export without a daemon")),
             qPrintable(run.err));
}

QTEST_GUILESS_MAIN(TestK8sExportE2e)
#include "tst_k8sexport_e2e.moc"

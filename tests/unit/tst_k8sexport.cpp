// The mapping of `porticoctl export kubernetes` (daemon/ctl/export): projects in, Kubernetes
// objects out, without a daemon. The same output against the published schemas, through the
// real porticoctl and a real daemon, is tst_k8sexport_e2e.
#include "kubernetes.h"
#include "names.h"
#include "testutil.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace portico;
using namespace portico::ctl::k8s;

namespace {

Manifest manifest(const QByteArray &json) {
    const ManifestParseResult r = Manifest::parse(json);
    if (!r.ok())
        qFatal("test manifest invalid: %s: %s", json.constData(), qPrintable(r.errorText()));
    return *r.manifest;
}

QJsonObject find(const QJsonArray &objects, const QString &kind, const QString &name) {
    for (const QJsonValue &o : objects) {
        if (o[QLatin1String("kind")].toString() == kind &&
            o[QLatin1String("metadata")][QLatin1String("name")].toString() == name)
            return o.toObject();
    }
    return {};
}

QStringList kindsAndNames(const QJsonArray &objects) {
    QStringList out;
    for (const QJsonValue &o : objects)
        out << o[QLatin1String("kind")].toString() + QLatin1Char('/') +
                   o[QLatin1String("metadata")][QLatin1String("name")].toString();
    return out;
}

QJsonObject envOf(const QJsonObject &deployment) {
    QJsonObject env;
    const QJsonArray list =
        deployment[QLatin1String("spec")][QLatin1String("template")][QLatin1String("spec")]
                  [QLatin1String("containers")][0][QLatin1String("env")]
                      .toArray();
    for (const QJsonValue &e : list)
        env.insert(e[QLatin1String("name")].toString(), e[QLatin1String("value")]);
    return env;
}

QJsonArray servicePorts(const QJsonArray &objects, const QString &name) {
    return find(objects, QStringLiteral("Service"), name)[QLatin1String("spec")][QLatin1String("ports")]
        .toArray();
}

QJsonObject port(const char *name, int number, const char *protocol) {
    return {{QStringLiteral("name"), QLatin1String(name)},
            {QStringLiteral("port"), number},
            {QStringLiteral("protocol"), QLatin1String(protocol)},
            {QStringLiteral("targetPort"), number}};
}

QString json(const QJsonValue &v) {
    return QString::fromUtf8(v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                         : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
}

Options withImages(const QStringList &projects) {
    Options o;
    for (const QString &p : projects)
        o.images.insert(p, QStringLiteral("registry.example.com/%1:1.0").arg(p));
    return o;
}

} // namespace

class TestK8sExport final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pathRoutedProject();
    void listenEntries_data();
    void listenEntries();
    void upstream_data();
    void upstream();
    void upstreamRefused_data();
    void upstreamRefused();
    void images_data();
    void images();
    void options_data();
    void options();
    void objectNames_data();
    void objectNames();
    void conflicts_data();
    void conflicts();
    void envValuesStayLiteral();
    void annotations();
    void gatewaySplitAt64Listeners();
    void deterministic();
};

void TestK8sExport::pathRoutedProject() {
    Options o = withImages({QStringLiteral("web")});
    o.ingressPort = 18080;
    const Result r =
        exportProjects({manifest(R"({"name":"web","runtime":"process","command":["./web"]})")}, o);
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(kindsAndNames(r.objects),
             (QStringList{QStringLiteral("Gateway/portico"), QStringLiteral("Service/web"),
                          QStringLiteral("Deployment/web"), QStringLiteral("HTTPRoute/web")}));
    const QJsonObject gw = find(r.objects, QStringLiteral("Gateway"), QStringLiteral("portico"));
    QCOMPARE(gw[QLatin1String("apiVersion")].toString(), QStringLiteral("gateway.networking.k8s.io/v1"));
    QCOMPARE(json(gw[QLatin1String("spec")][QLatin1String("listeners")]),
             QStringLiteral(R"([{"name":"http-18080","port":18080,"protocol":"HTTP"}])"));
    QCOMPARE(gw[QLatin1String("spec")][QLatin1String("gatewayClassName")].toString(),
             QStringLiteral("portico"));

    const QJsonObject route = find(r.objects, QStringLiteral("HTTPRoute"), QStringLiteral("web"));
    QCOMPARE(json(route[QLatin1String("spec")][QLatin1String("parentRefs")]),
             QStringLiteral(R"([{"name":"portico","sectionName":"http-18080"}])"));
    const QJsonArray rules = route[QLatin1String("spec")][QLatin1String("rules")].toArray();
    QCOMPARE(rules.size(), 2);
    // "/web" is redirected to "/web/" as Portico does (308 there; 301 is the Gateway API's core code).
    QCOMPARE(
        json(rules[0]),
        QStringLiteral(
            R"({"filters":[{"requestRedirect":{"path":{"replaceFullPath":"/web/","type":"ReplaceFullPath"},)"
            R"("statusCode":301},"type":"RequestRedirect"}],"matches":[{"path":{"type":"Exact","value":"/web"}}]})"));
    // "/web/x" reaches the backend as "/x" with X-Forwarded-Prefix, as behind Portico.
    QCOMPARE(
        json(rules[1]),
        QStringLiteral(
            R"({"backendRefs":[{"name":"web","port":8080}],"filters":[{"type":"URLRewrite","urlRewrite":)"
            R"({"path":{"replacePrefixMatch":"/","type":"ReplacePrefixMatch"}}},{"requestHeaderModifier":)"
            R"({"set":[{"name":"X-Forwarded-Prefix","value":"/web"}]},"type":"RequestHeaderModifier"}],)"
            R"("matches":[{"path":{"type":"PathPrefix","value":"/web"}}]})"));

    QCOMPARE(servicePorts(r.objects, QStringLiteral("web")), (QJsonArray{port("http-8080", 8080, "TCP")}));
    const QJsonObject svc = find(r.objects, QStringLiteral("Service"), QStringLiteral("web"));
    const QJsonObject dep = find(r.objects, QStringLiteral("Deployment"), QStringLiteral("web"));
    // The Service selects exactly the Deployment's pods.
    const QJsonObject selector = svc[QLatin1String("spec")][QLatin1String("selector")].toObject();
    QCOMPARE(selector,
             dep[QLatin1String("spec")][QLatin1String("selector")][QLatin1String("matchLabels")].toObject());
    const QJsonObject podLabels = dep[QLatin1String("spec")][QLatin1String("template")]
                                     [QLatin1String("metadata")][QLatin1String("labels")]
                                         .toObject();
    for (auto it = selector.begin(); it != selector.end(); ++it)
        QCOMPARE(podLabels.value(it.key()), it.value());
    const QJsonObject container = dep[QLatin1String("spec")][QLatin1String("template")][QLatin1String("spec")]
                                     [QLatin1String("containers")][0]
                                         .toObject();
    QCOMPARE(container[QLatin1String("image")].toString(), QStringLiteral("registry.example.com/web:1.0"));
    QCOMPARE(envOf(dep), (QJsonObject{{QStringLiteral("HOST"), QStringLiteral("0.0.0.0")},
                                      {QStringLiteral("PORT"), QStringLiteral("8080")}}));
    QCOMPARE(json(container[QLatin1String("ports")]),
             QStringLiteral(R"([{"containerPort":8080,"name":"http-8080","protocol":"TCP"}])"));
    QCOMPARE(
        container[QLatin1String("readinessProbe")][QLatin1String("tcpSocket")][QLatin1String("port")].toInt(),
        8080);
    QCOMPARE(dep[QLatin1String("spec")][QLatin1String("replicas")].toInt(), 1);
}

void TestK8sExport::listenEntries_data() {
    QTest::addColumn<QByteArray>("listen");
    QTest::addColumn<QStringList>("listeners"); // besides the ingress's http-8080
    QTest::addColumn<QStringList>("routes");    // kind/name -> sectionName, backend port
    QTest::addColumn<QString>("ports");         // the Service's ports, JSON
    QTest::addColumn<QStringList>("env");       // PORT and PORT_<n>
    QTest::addColumn<int>("probePort");         // 0: no readiness probe

    QTest::newRow("http") << QByteArray(R"({"port":3000})")
                          << QStringList{QStringLiteral("http-3000 3000 HTTP")}
                          << QStringList{QStringLiteral("HTTPRoute/app-http-3000 http-3000 3000")}
                          << QStringLiteral(
                                 R"([{"name":"http-3000","port":3000,"protocol":"TCP","targetPort":3000}])")
                          << QStringList{QStringLiteral("PORT=3000"), QStringLiteral("PORT_3000=3000")}
                          << 3000;
    QTest::newRow("tcp") << QByteArray(R"({"port":5000,"protocol":"tcp"})")
                         << QStringList{QStringLiteral("tcp-5000 5000 TCP")}
                         << QStringList{QStringLiteral("TCPRoute/app-tcp-5000 tcp-5000 5000")}
                         << QStringLiteral(
                                R"([{"name":"tcp-5000","port":5000,"protocol":"TCP","targetPort":5000}])")
                         << QStringList{QStringLiteral("PORT=5000"), QStringLiteral("PORT_5000=5000")}
                         << 5000;
    QTest::newRow("udp only: no probe")
        << QByteArray(R"({"port":5353,"protocol":"udp"})") << QStringList{QStringLiteral("udp-5353 5353 UDP")}
        << QStringList{QStringLiteral("UDPRoute/app-udp-5353 udp-5353 5353")}
        << QStringLiteral(R"([{"name":"udp-5353","port":5353,"protocol":"UDP","targetPort":5353}])")
        << QStringList{QStringLiteral("PORT=5353"), QStringLiteral("PORT_5353=5353")} << 0;
    QTest::newRow("three entries, tcp and udp on one number")
        << QByteArray(R"([{"port":5353,"protocol":"udp"},{"port":3000},{"port":5353,"protocol":"tcp"}])")
        << QStringList{QStringLiteral("http-3000 3000 HTTP"), QStringLiteral("tcp-5353 5353 TCP"),
                       QStringLiteral("udp-5353 5353 UDP")}
        << QStringList{QStringLiteral("HTTPRoute/app-http-3000 http-3000 3000"),
                       QStringLiteral("TCPRoute/app-tcp-5353 tcp-5353 5353"),
                       QStringLiteral("UDPRoute/app-udp-5353 udp-5353 5353")}
        << QStringLiteral(R"([{"name":"http-3000","port":3000,"protocol":"TCP","targetPort":3000},)"
                          R"({"name":"tcp-5353","port":5353,"protocol":"TCP","targetPort":5353},)"
                          R"({"name":"udp-5353","port":5353,"protocol":"UDP","targetPort":5353}])")
        // PORT is the first entry's, as Portico sets it.
        << QStringList{QStringLiteral("PORT=5353"), QStringLiteral("PORT_3000=3000"),
                       QStringLiteral("PORT_5353=5353")}
        << 3000;
}

void TestK8sExport::listenEntries() {
    QFETCH(QByteArray, listen);
    QFETCH(QStringList, listeners);
    QFETCH(QStringList, routes);
    QFETCH(QString, ports);
    QFETCH(QStringList, env);
    QFETCH(int, probePort);
    const Result r = exportProjects(
        {manifest(R"({"name":"app","runtime":"process","command":["./app"],"listen":)" + listen + "}")},
        withImages({QStringLiteral("app")}));
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));

    QStringList gotListeners;
    for (const QJsonValue &l :
         find(r.objects, QStringLiteral("Gateway"),
              QStringLiteral("portico"))[QLatin1String("spec")][QLatin1String("listeners")]
             .toArray())
        gotListeners << QStringLiteral("%1 %2 %3")
                            .arg(l[QLatin1String("name")].toString())
                            .arg(l[QLatin1String("port")].toInt())
                            .arg(l[QLatin1String("protocol")].toString());
    QCOMPARE(gotListeners, listeners + QStringList{QStringLiteral("http-8080 8080 HTTP")});

    QStringList gotRoutes;
    for (const QJsonValue &o : r.objects) {
        const QString kind = o[QLatin1String("kind")].toString();
        if (!kind.endsWith(QLatin1String("Route")))
            continue;
        QCOMPARE(o[QLatin1String("apiVersion")].toString(),
                 kind == QLatin1String("HTTPRoute") ? QStringLiteral("gateway.networking.k8s.io/v1")
                                                    : QStringLiteral("gateway.networking.k8s.io/v1alpha2"));
        const QJsonObject spec = o[QLatin1String("spec")].toObject();
        QCOMPARE(spec[QLatin1String("parentRefs")].toArray().size(), 1);
        QCOMPARE(spec[QLatin1String("parentRefs")][0][QLatin1String("name")].toString(),
                 QStringLiteral("portico"));
        QCOMPARE(spec[QLatin1String("rules")].toArray().size(), 1);
        const QJsonObject backend =
            spec[QLatin1String("rules")][0][QLatin1String("backendRefs")][0].toObject();
        QCOMPARE(backend[QLatin1String("name")].toString(), QStringLiteral("app"));
        gotRoutes << QStringLiteral("%1/%2 %3 %4")
                         .arg(kind, o[QLatin1String("metadata")][QLatin1String("name")].toString(),
                              spec[QLatin1String("parentRefs")][0][QLatin1String("sectionName")].toString())
                         .arg(backend[QLatin1String("port")].toInt());
    }
    QCOMPARE(gotRoutes, routes);
    QCOMPARE(json(servicePorts(r.objects, QStringLiteral("app"))), ports);

    const QJsonObject dep = find(r.objects, QStringLiteral("Deployment"), QStringLiteral("app"));
    const QJsonObject gotEnv = envOf(dep);
    QStringList ports_;
    for (auto it = gotEnv.begin(); it != gotEnv.end(); ++it) {
        if (it.key().startsWith(QLatin1String("PORT")))
            ports_ << it.key() + QLatin1Char('=') + it.value().toString();
    }
    QCOMPARE(ports_, env);
    QCOMPARE(gotEnv.value(QStringLiteral("HOST")).toString(), QStringLiteral("0.0.0.0"));
    const QJsonObject container = dep[QLatin1String("spec")][QLatin1String("template")][QLatin1String("spec")]
                                     [QLatin1String("containers")][0]
                                         .toObject();
    QCOMPARE(
        container[QLatin1String("readinessProbe")][QLatin1String("tcpSocket")][QLatin1String("port")].toInt(),
        probePort);
    // The container ports are the Service's (without targetPort).
    QJsonArray containerPorts;
    for (const QJsonValue &p : servicePorts(r.objects, QStringLiteral("app")))
        containerPorts.append(QJsonObject{{QStringLiteral("containerPort"), p[QLatin1String("port")]},
                                          {QStringLiteral("name"), p[QLatin1String("name")]},
                                          {QStringLiteral("protocol"), p[QLatin1String("protocol")]}});
    QCOMPARE(container[QLatin1String("ports")].toArray(), containerPorts);
}

void TestK8sExport::upstream_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("addressType"); // the EndpointSlice's, or ExternalName for a DNS name
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("ports"); // Service ports = EndpointSlice ports (+ targetPort)
    QTest::newRow("ipv4 path-routed")
        << QByteArray(R"({"name":"db","runtime":"upstream","upstream":"10.0.0.5:9000"})")
        << QStringLiteral("IPv4") << QStringLiteral("10.0.0.5")
        << QStringLiteral(R"([{"name":"http-9000","port":9000,"protocol":"TCP","targetPort":9000}])");
    QTest::newRow("ipv6 tcp and udp")
        << QByteArray(
               R"({"name":"db","runtime":"upstream","upstream":"[2001:DB8::0:1]:53","listen":[{"port":5353,"protocol":"udp"},{"port":5353,"protocol":"tcp"}]})")
        << QStringLiteral("IPv6") << QStringLiteral("2001:db8::1")
        << QStringLiteral(
               R"([{"name":"tcp-53","port":53,"protocol":"TCP","targetPort":53},{"name":"udp-53","port":53,"protocol":"UDP","targetPort":53}])");
    QTest::newRow("fqdn, http and tcp entries share the port")
        << QByteArray(
               R"({"name":"db","runtime":"upstream","upstream":"DB.Example.COM.:5432","listen":[{"port":3000},{"port":5432,"protocol":"tcp"}]})")
        << QStringLiteral("ExternalName") << QStringLiteral("db.example.com")
        << QStringLiteral(R"([{"name":"tcp-5432","port":5432,"protocol":"TCP","targetPort":5432}])");
}

void TestK8sExport::upstream() {
    QFETCH(QByteArray, json);
    QFETCH(QString, addressType);
    QFETCH(QString, address);
    QFETCH(QString, ports);
    const Result r = exportProjects({manifest(json)}, Options{});
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    QVERIFY(find(r.objects, QStringLiteral("Deployment"), QStringLiteral("db")).isEmpty());
    const QJsonObject svc = find(r.objects, QStringLiteral("Service"), QStringLiteral("db"));
    QVERIFY(!svc[QLatin1String("spec")].toObject().contains(QStringLiteral("selector")));
    QCOMPARE(
        svc[QLatin1String("metadata")][QLatin1String("annotations")][QLatin1String("portico.dev/upstream")]
            .toString(),
        manifest(json).upstream);
    QCOMPARE(::json(svc[QLatin1String("spec")][QLatin1String("ports")]), ports);
    const QJsonObject slice = find(r.objects, QStringLiteral("EndpointSlice"), QStringLiteral("db"));
    if (addressType == QLatin1String("ExternalName")) {
        // A DNS name is a Service of its own kind; an FQDN EndpointSlice is deprecated.
        QVERIFY(slice.isEmpty());
        QCOMPARE(svc[QLatin1String("spec")][QLatin1String("type")].toString(), addressType);
        QCOMPARE(svc[QLatin1String("spec")][QLatin1String("externalName")].toString(), address);
        QVERIFY2(r.notes.join(u'\n').contains(QStringLiteral("its Service is of type ExternalName")),
                 qPrintable(r.notes.join(u'\n')));
        return;
    }
    QVERIFY(!svc[QLatin1String("spec")].toObject().contains(QStringLiteral("type")));
    QCOMPARE(slice[QLatin1String("apiVersion")].toString(), QStringLiteral("discovery.k8s.io/v1"));
    QCOMPARE(slice[QLatin1String("addressType")].toString(), addressType);
    QCOMPARE(slice[QLatin1String("endpoints")][0][QLatin1String("addresses")].toArray(), QJsonArray{address});
    QCOMPARE(
        slice[QLatin1String("metadata")][QLatin1String("labels")][QLatin1String("kubernetes.io/service-name")]
            .toString(),
        QStringLiteral("db"));
    // The EndpointSlice's ports are matched to the Service's by name.
    QJsonArray expected;
    for (const QJsonValue &p : svc[QLatin1String("spec")][QLatin1String("ports")].toArray()) {
        QJsonObject o = p.toObject();
        o.remove(QStringLiteral("targetPort"));
        expected.append(o);
    }
    QCOMPARE(slice[QLatin1String("ports")].toArray(), expected);
    // Every route goes to the upstream's port.
    for (const QJsonValue &o : r.objects) {
        if (o[QLatin1String("kind")].toString().endsWith(QLatin1String("Route"))) {
            const QJsonArray rules = o[QLatin1String("spec")][QLatin1String("rules")].toArray();
            QCOMPARE(rules.last()[QLatin1String("backendRefs")][0][QLatin1String("port")].toInt(),
                     svc[QLatin1String("spec")][QLatin1String("ports")][0][QLatin1String("port")].toInt());
        }
    }
    QVERIFY2(r.notes.join(u'\n').contains(QStringLiteral("must be reachable from the cluster")),
             qPrintable(r.notes.join(u'\n')));
}

void TestK8sExport::upstreamRefused_data() {
    QTest::addColumn<QString>("upstream");
    QTest::addColumn<QString>("reason");
    QTest::newRow("unix socket")
        << QStringLiteral("unix:/run/app.sock")
        << QStringLiteral("a unix socket (unix:/run/app.sock) cannot be reached from a cluster");
    QTest::newRow("loopback v4") << QStringLiteral("127.0.0.1:9000")
                                 << QStringLiteral("127.0.0.1:9000 is a loopback address");
    QTest::newRow("loopback v4 range")
        << QStringLiteral("127.1.2.3:9000") << QStringLiteral("is a loopback address");
    QTest::newRow("loopback v6") << QStringLiteral("[::1]:9000") << QStringLiteral("is a loopback address");
    QTest::newRow("localhost") << QStringLiteral("localhost:9000")
                               << QStringLiteral("localhost:9000 is a loopback name");
    QTest::newRow("unspecified") << QStringLiteral("0.0.0.0:9000")
                                 << QStringLiteral("is the unspecified address");
    QTest::newRow("link-local") << QStringLiteral("169.254.1.1:9000")
                                << QStringLiteral("is a link-local or multicast address");
    QTest::newRow("link-local v6") << QStringLiteral("[fe80::1]:9000")
                                   << QStringLiteral("is a link-local or multicast address");
    QTest::newRow("not a dns name") << QStringLiteral("db..example:9000")
                                    << QStringLiteral("not a DNS name Kubernetes accepts");
}

void TestK8sExport::upstreamRefused() {
    QFETCH(QString, upstream);
    QFETCH(QString, reason);
    const Manifest ok = manifest(R"({"name":"fine","runtime":"upstream","upstream":"10.1.1.1:80"})");
    const Manifest bad = manifest(
        QStringLiteral(R"({"name":"legacy","runtime":"upstream","upstream":"%1"})").arg(upstream).toUtf8());
    const Result r = exportProjects({ok, bad}, Options{});
    QVERIFY(!r.ok());
    QVERIFY(r.objects.isEmpty()); // nothing is printed when anything is refused
    QCOMPARE(r.errors.size(), 1);
    QVERIFY2(r.errors.first().startsWith(QStringLiteral("project 'legacy': upstream ")),
             qPrintable(r.errors.first()));
    QVERIFY2(r.errors.first().contains(reason), qPrintable(r.errors.first()));
}

void TestK8sExport::images_data() {
    QTest::addColumn<QStringList>("images"); // PROJECT=REF
    QTest::addColumn<bool>("skip");
    QTest::addColumn<QStringList>("errors");
    QTest::addColumn<QStringList>("deployments");
    QTest::addColumn<int>("warnings");
    const QString needs = QStringLiteral("project '%1' (%2) runs a backend and needs a container image: pass "
                                         "--image %1=IMAGE (or --skip-missing-images to "
                                         "leave its Deployment out)");
    QTest::newRow("every runtime that runs something needs one")
        << QStringList{} << false
        << QStringList{needs.arg(QStringLiteral("box"), QStringLiteral("dockerfile")),
                       needs.arg(QStringLiteral("fn"), QStringLiteral("deno")),
                       needs.arg(QStringLiteral("shop"), QStringLiteral("process")),
                       needs.arg(QStringLiteral("site"), QStringLiteral("static"))}
        << QStringList{} << 0;
    QTest::newRow("one missing") << QStringList{QStringLiteral("shop=r/shop:1"),
                                                QStringLiteral("box=r/box:1"), QStringLiteral("fn=r/fn:1")}
                                 << false
                                 << QStringList{needs.arg(QStringLiteral("site"), QStringLiteral("static"))}
                                 << QStringList{} << 0;
    QTest::newRow("all given")
        << QStringList{QStringLiteral("shop=r/shop:1"), QStringLiteral("box=r/box:1"),
                       QStringLiteral("fn=r/fn:1"),
                       QStringLiteral("site=ghcr.io/me/site@sha256:0123456789abcdef0123456789abcdef")}
        << false << QStringList{}
        << QStringList{QStringLiteral("box"), QStringLiteral("fn"), QStringLiteral("shop"),
                       QStringLiteral("site")}
        << 0;
    QTest::newRow("skip missing") << QStringList{QStringLiteral("fn=localhost:5000/fn")} << true
                                  << QStringList{} << QStringList{QStringLiteral("fn")} << 3;
    QTest::newRow("unknown project") << QStringList{QStringLiteral("nope=r/x:1")} << true
                                     << QStringList{QStringLiteral(
                                            "--image nope=r/x:1: there is no project 'nope' in this export")}
                                     << QStringList{} << 0;
    QTest::newRow("upstream runs nothing")
        << QStringList{QStringLiteral("db=r/db:1")} << true
        << QStringList{QStringLiteral(
               "--image db=r/db:1: project 'db' is an upstream, nothing of it runs in the cluster")}
        << QStringList{} << 0;
    QTest::newRow("upper case") << QStringList{QStringLiteral("fn=Registry/Fn:1")} << true
                                << QStringList{QStringLiteral(
                                       "--image fn=Registry/Fn:1: not an image reference "
                                       "(registry/name[:tag][@digest], the name in lower case)")}
                                << QStringList{} << 0;
    QTest::newRow("space") << QStringList{QStringLiteral("fn=r/fn 1")} << true
                           << QStringList{QStringLiteral(
                                  "--image fn=r/fn 1: not an image reference (registry/name[:tag][@digest], "
                                  "the name in lower case)")}
                           << QStringList{} << 0;
    QTest::newRow("empty") << QStringList{QStringLiteral("fn=")} << true
                           << QStringList{QStringLiteral("--image fn=: the image reference is empty")}
                           << QStringList{} << 0;
}

void TestK8sExport::images() {
    QFETCH(QStringList, images);
    QFETCH(bool, skip);
    QFETCH(QStringList, errors);
    QFETCH(QStringList, deployments);
    QFETCH(int, warnings);
    const QList<Manifest> projects{
        manifest(R"({"name":"site","runtime":"static","entry":"public"})"),
        manifest(R"({"name":"shop","runtime":"process","command":["./shop"],"listen":{"port":3000}})"),
        manifest(R"({"name":"fn","runtime":"deno"})"),
        manifest(R"({"name":"box","runtime":"dockerfile"})"),
        manifest(R"({"name":"db","runtime":"upstream","upstream":"10.0.0.5:5432"})"),
    };
    Options options;
    options.skipMissingImages = skip;
    for (const QString &i : images)
        options.images.insert(i.section(u'=', 0, 0), i.section(u'=', 1));
    const Result r = exportProjects(projects, options);
    QCOMPARE(r.errors, errors);
    QCOMPARE(r.warnings.size(), warnings);
    for (const QString &w : r.warnings)
        QVERIFY2(w.contains(QStringLiteral("has no --image: its Deployment is left out")), qPrintable(w));
    QStringList got;
    for (const QJsonValue &o : r.objects) {
        if (o[QLatin1String("kind")].toString() == QLatin1String("Deployment")) {
            const QString name = o[QLatin1String("metadata")][QLatin1String("name")].toString();
            got << name;
            QCOMPARE(o[QLatin1String("spec")][QLatin1String("template")][QLatin1String("spec")]
                      [QLatin1String("containers")][0][QLatin1String("image")]
                          .toString(),
                     options.images.value(name));
        }
    }
    QCOMPARE(got, deployments);
    if (r.ok()) // the Services are there with or without a Deployment
        QCOMPARE(kindsAndNames(r.objects).filter(QStringLiteral("Service/")).size(), 5);
}

void TestK8sExport::options_data() {
    QTest::addColumn<QString>("ns");
    QTest::addColumn<QString>("gatewayClass");
    QTest::addColumn<QString>("error");
    QTest::newRow("defaults") << QString() << QString() << QString();
    QTest::newRow("namespace and class") << QStringLiteral("team-a") << QStringLiteral("eg") << QString();
    QTest::newRow("class with dots") << QString() << QStringLiteral("gateway.example.com") << QString();
    QTest::newRow("bad namespace") << QStringLiteral("Team_A") << QString()
                                   << QStringLiteral(
                                          "--namespace Team_A: not a namespace name (1-63 of a-z, 0-9 and -, "
                                          "starting and ending with a letter or digit)");
    QTest::newRow("namespace too long")
        << QString(64, u'a') << QString() << QStringLiteral("--namespace ") + QString(64, u'a');
    QTest::newRow("bad class") << QString() << QStringLiteral("My Class")
                               << QStringLiteral("--gateway-class My Class: not a GatewayClass name "
                                                 "(lower-case DNS name, e.g. \"eg\" or \"istio\")");
}

void TestK8sExport::options() {
    QFETCH(QString, ns);
    QFETCH(QString, gatewayClass);
    QFETCH(QString, error);
    Options o = withImages({QStringLiteral("shop")});
    o.ns = ns;
    if (!gatewayClass.isEmpty())
        o.gatewayClass = gatewayClass;
    const Result r = exportProjects(
        {manifest(
             R"({"name":"shop","runtime":"process","command":["./shop"],"listen":{"port":5000,"protocol":"tcp"}})"),
         manifest(R"({"name":"db","runtime":"upstream","upstream":"10.0.0.5:5432"})")},
        o);
    if (!error.isEmpty()) {
        QCOMPARE(r.errors.size(), 1);
        QVERIFY2(r.errors.first().startsWith(error), qPrintable(r.errors.first()));
        return;
    }
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    QCOMPARE(r.objects.size(), 7); // Gateway, 2 Services, EndpointSlice, Deployment, HTTPRoute, TCPRoute
    for (const QJsonValue &obj : r.objects) {
        const QJsonObject meta = obj[QLatin1String("metadata")].toObject();
        QCOMPARE(meta.contains(QStringLiteral("namespace")), !ns.isEmpty());
        if (!ns.isEmpty())
            QCOMPARE(meta[QLatin1String("namespace")].toString(), ns);
        QCOMPARE(meta[QLatin1String("labels")][QLatin1String("app.kubernetes.io/part-of")].toString(),
                 QStringLiteral("portico"));
    }
    QCOMPARE(find(r.objects, QStringLiteral("Gateway"),
                  QStringLiteral("portico"))[QLatin1String("spec")][QLatin1String("gatewayClassName")]
                 .toString(),
             gatewayClass.isEmpty() ? QStringLiteral("portico") : gatewayClass);
}

void TestK8sExport::objectNames_data() {
    QTest::addColumn<QString>("project");
    QTest::addColumn<QString>("pattern");
    QTest::newRow("plain") << QStringLiteral("my-api") << QStringLiteral("^my-api$");
    QTest::newRow("digit first") << QStringLiteral("3d-viewer")
                                 << QStringLiteral("^p-3d-viewer-[0-9a-f]{6}$");
    QTest::newRow("dash last") << QStringLiteral("beta-") << QStringLiteral("^beta-[0-9a-f]{6}$");
    QTest::newRow("digits only") << QStringLiteral("2024") << QStringLiteral("^p-2024-[0-9a-f]{6}$");
    QTest::newRow("63 characters, digit first")
        << QStringLiteral("9") + QString(62, u'x') << QStringLiteral("^p-9x{53}-[0-9a-f]{6}$");
}

void TestK8sExport::objectNames() {
    QFETCH(QString, project);
    QFETCH(QString, pattern);
    const QString name = ctl::k8s::objectName(project);
    QVERIFY2(QRegularExpression(pattern).match(name).hasMatch(), qPrintable(name));
    QVERIFY2(isDns1035Label(name), qPrintable(name));
    QCOMPARE(ctl::k8s::objectName(project), name); // stable

    Options options;
    options.images.insert(project, QStringLiteral("registry.example.com/app:1.0"));
    const Result r = exportProjects(
        {manifest(
            QStringLiteral(R"({"name":"%1","runtime":"process","command":["./x"]})").arg(project).toUtf8())},
        options);
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    const QJsonObject route = find(r.objects, QStringLiteral("HTTPRoute"), name);
    QVERIFY(!route.isEmpty());
    // The URL keeps Portico's name; the annotations keep it too.
    QCOMPARE(route[QLatin1String("spec")][QLatin1String("rules")][1][QLatin1String("matches")][0]
                  [QLatin1String("path")][QLatin1String("value")]
                      .toString(),
             QLatin1Char('/') + project);
    QCOMPARE(
        route[QLatin1String("metadata")][QLatin1String("annotations")][QLatin1String("portico.dev/project")]
            .toString(),
        project);
    QCOMPARE(r.notes.size(), name == project ? 0 : 1);
    if (name != project)
        QCOMPARE(r.notes.first(),
                 QStringLiteral(
                     "project '%1' is named '%2' in Kubernetes (a Service name starts with a letter and "
                     "ends with a letter or digit)")
                     .arg(project, name));
}

void TestK8sExport::conflicts_data() {
    QTest::addColumn<QList<QByteArray>>("manifests");
    QTest::addColumn<QStringList>("errors");
    const auto up = [](const char *name, const char *listen) {
        return QStringLiteral(R"({"name":"%1","runtime":"upstream","upstream":"10.0.0.1:80","listen":%2})")
            .arg(QLatin1String(name), QLatin1String(listen))
            .toUtf8();
    };
    QTest::newRow("one port, two projects")
        << QList<QByteArray>{up("a", R"({"port":3000})"), up("b", R"({"port":3000,"protocol":"tcp"})")}
        << QStringList{QStringLiteral("port 3000/tcp is claimed by both 'a' and 'b'")};
    QTest::newRow("tcp and udp on one number is fine")
        << QList<QByteArray>{up("a", R"({"port":3000})"), up("b", R"({"port":3000,"protocol":"udp"})")}
        << QStringList{};
    QTest::newRow("the ingress port")
        << QList<QByteArray>{up("a", R"({"port":8080,"protocol":"tcp"})")}
        << QStringList{QStringLiteral("project 'a' listens on 8080/tcp, the ingress port")};
    QTest::newRow("udp on the ingress number is fine")
        << QList<QByteArray>{up("a", R"({"port":8080,"protocol":"udp"})")} << QStringList{};
    QTest::newRow("same project twice")
        << QList<QByteArray>{up("a", R"({"port":3000})"), up("a", R"({"port":3001})")}
        << QStringList{QStringLiteral("project 'a' is given twice")};
    // Contrived, but it would make two HTTPRoutes one.
    QTest::newRow("derived names meet")
        << QList<QByteArray>{QByteArray(
                                 R"({"name":"a-http-3000","runtime":"upstream","upstream":"10.0.0.1:80"})"),
                             up("a", R"({"port":3000})")}
        << QStringList{QStringLiteral(
               "two objects would be named HTTPRoute/a-http-3000; rename one of the projects")};
}

void TestK8sExport::conflicts() {
    QFETCH(QList<QByteArray>, manifests);
    QFETCH(QStringList, errors);
    QList<Manifest> projects;
    for (const QByteArray &m : manifests)
        projects << manifest(m);
    const Result r = exportProjects(projects, Options{});
    QCOMPARE(r.errors, errors);
    QCOMPARE(r.objects.isEmpty(), !errors.isEmpty());
}

void TestK8sExport::envValuesStayLiteral() {
    const Result r = exportProjects(
        {manifest(
            R"J({"name":"fn","runtime":"deno","env":{"A":"$(HOME)","B":"$$","C":"on","D":"1.0","E":"a\nb"}})J")},
        withImages({QStringLiteral("fn")}));
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    const QJsonObject dep = find(r.objects, QStringLiteral("Deployment"), QStringLiteral("fn"));
    const QJsonArray env = dep[QLatin1String("spec")][QLatin1String("template")][QLatin1String("spec")]
                              [QLatin1String("containers")][0][QLatin1String("env")]
                                  .toArray();
    QStringList names;
    for (const QJsonValue &e : env)
        names << e[QLatin1String("name")].toString();
    // Portico's first, then the manifest's, then what the Deno bootstrap reads.
    QCOMPARE(names,
             (QStringList{QStringLiteral("HOST"), QStringLiteral("PORT"), QStringLiteral("A"),
                          QStringLiteral("B"), QStringLiteral("C"), QStringLiteral("D"), QStringLiteral("E"),
                          QStringLiteral("DENO_NO_UPDATE_CHECK"), QStringLiteral("NO_COLOR"),
                          QStringLiteral("PORTICO_ENV"), QStringLiteral("PORTICO_PROJECT")}));
    const QJsonObject values = envOf(dep);
    // kubelet expands $(VAR) and reads $$ as $: every $ is doubled so the backend sees the manifest's value.
    QCOMPARE(values[QLatin1String("A")].toString(), QStringLiteral("$$(HOME)"));
    QCOMPARE(values[QLatin1String("B")].toString(), QStringLiteral("$$$$"));
    QCOMPARE(values[QLatin1String("C")].toString(), QStringLiteral("on"));
    QCOMPARE(values[QLatin1String("D")].toString(), QStringLiteral("1.0"));
    QCOMPARE(values[QLatin1String("E")].toString(), QStringLiteral("a\nb"));
    QCOMPARE(values[QLatin1String("PORTICO_ENV")].toString(),
             QStringLiteral(R"J({"A":"$$(HOME)","B":"$$$$","C":"on","D":"1.0","E":"a\nb"})J"));
    QCOMPARE(values[QLatin1String("PORTICO_PROJECT")].toString(), QStringLiteral("fn"));
}

void TestK8sExport::annotations() {
    const Result r = exportProjects(
        {manifest(
             R"({"name":"shop","runtime":"process","command":["python3","app.py","--x=1"],"workdir":"src",)"
             R"("listen":{"port":5000,"protocol":"tcp","proxy_protocol":"v2"}})"),
         manifest(R"({"name":"fn","runtime":"deno"})")},
        withImages({QStringLiteral("shop"), QStringLiteral("fn")}));
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    const auto annotations = [&](const char *kind, const char *name) {
        return find(r.objects, QLatin1String(kind),
                    QLatin1String(name))[QLatin1String("metadata")][QLatin1String("annotations")]
            .toObject();
    };
    QCOMPARE(json(annotations("Deployment", "shop")),
             QStringLiteral(
                 "{\"portico.dev/command\":\"[\\\"python3\\\",\\\"app.py\\\",\\\"--x=1\\\"]\",\"portico.dev/"
                 "project\":\"shop\","
                 R"("portico.dev/runtime":"process","portico.dev/workdir":"src"})"));
    QCOMPARE(
        json(annotations("Deployment", "fn")),
        QStringLiteral(
            R"({"portico.dev/entry":"server.ts","portico.dev/project":"fn","portico.dev/runtime":"deno"})"));
    QCOMPARE(json(annotations("Service", "shop")),
             QStringLiteral(R"({"portico.dev/project":"shop","portico.dev/runtime":"process"})"));
    QCOMPARE(json(annotations("TCPRoute", "shop-tcp-5000")),
             QStringLiteral(R"({"portico.dev/project":"shop","portico.dev/proxy-protocol":"v2"})"));
    QVERIFY2(r.notes.join(u'\n').contains(
                 QStringLiteral("project 'shop' sends the PROXY protocol (v2) to its backend on 5000/tcp")),
             qPrintable(r.notes.join(u'\n')));
}

void TestK8sExport::gatewaySplitAt64Listeners() {
    QList<Manifest> projects;
    for (int i = 0; i < 5; ++i) {
        QJsonArray listen;
        for (int j = 0; j < 14; ++j)
            listen.append(QJsonObject{
                {QStringLiteral("port"), 10000 + i * 100 + j},
                {QStringLiteral("protocol"), j % 2 ? QStringLiteral("udp") : QStringLiteral("http")}});
        projects << manifest(
            QJsonDocument(QJsonObject{{QStringLiteral("name"), QStringLiteral("p%1").arg(i)},
                                      {QStringLiteral("runtime"), QStringLiteral("upstream")},
                                      {QStringLiteral("upstream"), QStringLiteral("10.0.0.1:80")},
                                      {QStringLiteral("listen"), listen}})
                .toJson());
    }
    const Result r = exportProjects(projects, Options{});
    QVERIFY2(r.ok(), qPrintable(r.errors.join(u'\n')));
    QMap<QString, QString> gatewayOf; // listener -> Gateway
    int gateways = 0;
    for (const QJsonValue &o : r.objects) {
        if (o[QLatin1String("kind")].toString() != QLatin1String("Gateway"))
            continue;
        ++gateways;
        const QJsonArray listeners = o[QLatin1String("spec")][QLatin1String("listeners")].toArray();
        QVERIFY(listeners.size() <= kMaxListenersPerGateway);
        for (const QJsonValue &l : listeners)
            gatewayOf.insert(l[QLatin1String("name")].toString(),
                             o[QLatin1String("metadata")][QLatin1String("name")].toString());
    }
    QCOMPARE(gateways, 2);
    QCOMPARE(gatewayOf.size(), 71); // 70 ports and the ingress
    QCOMPARE(gatewayOf.value(QStringLiteral("http-8080")), QStringLiteral("portico")); // sorted by port
    int routes = 0;
    for (const QJsonValue &o : r.objects) {
        if (!o[QLatin1String("kind")].toString().endsWith(QLatin1String("Route")))
            continue;
        ++routes;
        const QJsonObject parent = o[QLatin1String("spec")][QLatin1String("parentRefs")][0].toObject();
        QCOMPARE(parent[QLatin1String("name")].toString(),
                 gatewayOf.value(parent[QLatin1String("sectionName")].toString()));
    }
    QCOMPARE(routes, 70);
    QCOMPARE(r.notes.last(), QStringLiteral("71 listeners need 2 Gateways (at most 64 listeners each)"));
}

void TestK8sExport::deterministic() {
    QList<Manifest> projects{
        manifest(
            R"({"name":"zeta","runtime":"upstream","upstream":"10.0.0.1:80","listen":{"port":7000,"protocol":"udp"}})"),
        manifest(
            R"({"name":"alpha","runtime":"process","command":["./a"],"listen":[{"port":4000},{"port":3000,"protocol":"tcp"}]})"),
        manifest(R"({"name":"mid","runtime":"static","entry":"public"})"),
    };
    const Options o = withImages({QStringLiteral("alpha"), QStringLiteral("mid")});
    const Result a = exportProjects(projects, o);
    std::reverse(projects.begin(), projects.end());
    const Result b = exportProjects(projects, o);
    QVERIFY2(a.ok(), qPrintable(a.errors.join(u'\n')));
    QCOMPARE(a.objects, b.objects);
    QCOMPARE(kindsAndNames(a.objects),
             (QStringList{QStringLiteral("Gateway/portico"), QStringLiteral("Service/alpha"),
                          QStringLiteral("Service/mid"), QStringLiteral("Service/zeta"),
                          QStringLiteral("EndpointSlice/zeta"), QStringLiteral("Deployment/alpha"),
                          QStringLiteral("Deployment/mid"), QStringLiteral("HTTPRoute/alpha-http-4000"),
                          QStringLiteral("HTTPRoute/mid"), QStringLiteral("TCPRoute/alpha-tcp-3000"),
                          QStringLiteral("UDPRoute/zeta-udp-7000")}));
    const QJsonObject list = asList(a.objects);
    QCOMPARE(list[QLatin1String("apiVersion")].toString(), QStringLiteral("v1"));
    QCOMPARE(list[QLatin1String("kind")].toString(), QStringLiteral("List"));
    QCOMPARE(list[QLatin1String("items")].toArray(), a.objects);
}

QTEST_GUILESS_MAIN(TestK8sExport)
#include "tst_k8sexport.moc"

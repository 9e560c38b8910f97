// What each request gets, decided without sockets: local pages, 404, 308, 503, 405, 508,
// static and proxied routes, and who may read the routing table (ingress_api).
#include "net/http/router.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <http_parser.h>

using namespace portico;
using namespace portico::http;

namespace {

std::shared_ptr<RouteTable> table() {
    auto t = std::make_shared<RouteTable>();
    auto add = [&](const QString &name, BackendTarget::Kind kind, bool routed) {
        auto r = std::make_shared<ProjectRoute>();
        r->name = name;
        r->target.kind = kind;
        r->target.host = QStringLiteral("127.0.0.1");
        r->target.port = 9000;
        r->target.staticRoot = QStringLiteral("/srv");
        r->pathRouted = routed;
        r->state = kind == BackendTarget::Kind::None ? QStringLiteral("crashed") : QStringLiteral("active");
        r->reason = kind == BackendTarget::Kind::None ? QStringLiteral("exited with code 3") : QString();
        t->projects.insert(name, r);
    };
    add(QStringLiteral("app"), BackendTarget::Kind::Tcp, true);
    add(QStringLiteral("site"), BackendTarget::Kind::Static, true);
    add(QStringLiteral("down"), BackendTarget::Kind::None, true);
    add(QStringLiteral("own-port"), BackendTarget::Kind::Tcp, false);
    // A backend with a port of its own for host port 5000 (PORT_5000); its others use target.
    auto multi = std::make_shared<ProjectRoute>(*t->projects.value(QStringLiteral("own-port")));
    multi->name = QStringLiteral("multi");
    BackendTarget second = multi->target;
    second.port = 9001;
    multi->portTargets.insert(5000, second);
    t->projects.insert(multi->name, multi);
    return t;
}

struct Case {
    ParsedHead head;
    Decision decision;
};

Decision decide(const QByteArray &request, const HttpListenerContext &ctx, bool loopback = true) {
    static QByteArray keep; // the views point into it
    keep = request;
    ParsedHead h;
    const HeadError e = parseRequestHead(keep, 100, &h);
    if (e)
        qFatal("test request did not parse: %s", e.reason);
    static std::shared_ptr<RouteTable> t = table();
    return route({h, *t, ctx, loopback});
}

HttpListenerContext ingress(IngressApi api = IngressApi::Loopback) {
    HttpListenerContext c;
    c.ingressApi = api;
    c.via = "portico-abc";
    return c;
}

QString errorOf(const Decision &d) {
    return QJsonDocument::fromJson(d.body).object().value(QStringLiteral("error")).toString();
}

} // namespace

class TestRouter final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void ingress_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("prefix");
        QTest::addColumn<QByteArray>("target");
        const int local = int(Decision::Kind::Local), proxy = int(Decision::Kind::Proxy),
                  stat = int(Decision::Kind::Static);
        QTest::newRow("proxied") << QByteArray("GET /app/x?y=1 HTTP/1.1\r\nHost: h\r\n\r\n") << proxy << 0
                                 << QByteArray("/app") << QByteArray("/x?y=1");
        QTest::newRow("project root") << QByteArray("GET /app/ HTTP/1.1\r\nHost: h\r\n\r\n") << proxy << 0
                                      << QByteArray("/app") << QByteArray("/");
        QTest::newRow("static") << QByteArray("GET /site/index.html HTTP/1.1\r\nHost: h\r\n\r\n") << stat << 0
                                << QByteArray("/site") << QByteArray("/index.html");
        QTest::newRow("redirect to slash") << QByteArray("GET /app?q=1 HTTP/1.1\r\nHost: h\r\n\r\n") << local
                                           << 308 << QByteArray() << QByteArray();
        QTest::newRow("unknown") << QByteArray("GET /nope/x HTTP/1.1\r\nHost: h\r\n\r\n") << local << 404
                                 << QByteArray() << QByteArray();
        QTest::newRow("not path-routed") << QByteArray("GET /own-port/x HTTP/1.1\r\nHost: h\r\n\r\n") << local
                                         << 404 << QByteArray() << QByteArray();
        QTest::newRow("not a project name") << QByteArray("GET /A%2e/x HTTP/1.1\r\nHost: h\r\n\r\n") << local
                                            << 404 << QByteArray() << QByteArray();
        QTest::newRow("no backend") << QByteArray("GET /down/x HTTP/1.1\r\nHost: h\r\n\r\n") << local << 503
                                    << QByteArray() << QByteArray();
        QTest::newRow("routes") << QByteArray("GET /_api/routes HTTP/1.1\r\nHost: h\r\n\r\n") << local << 200
                                << QByteArray() << QByteArray();
        QTest::newRow("project list") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\r\n") << local << 200
                                      << QByteArray() << QByteArray();
        QTest::newRow("POST routes")
            << QByteArray("POST /_api/routes HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") << local
            << 405 << QByteArray() << QByteArray();
        QTest::newRow("CONNECT") << QByteArray("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n") << local
                                 << 405 << QByteArray() << QByteArray();
        QTest::newRow("loop") << QByteArray(
                                     "GET /app/x HTTP/1.1\r\nHost: h\r\nVia: 1.1 a, 1.1 portico-abc\r\n\r\n")
                              << local << 508 << QByteArray() << QByteArray();
        QTest::newRow("similar pseudonym is not a loop")
            << QByteArray("GET /app/x HTTP/1.1\r\nHost: h\r\nVia: 1.1 portico-abcd\r\n\r\n") << proxy << 0
            << QByteArray("/app") << QByteArray("/x");
    }
    void ingress() {
        QFETCH(QByteArray, request);
        QFETCH(int, kind);
        QFETCH(int, status);
        QFETCH(QByteArray, prefix);
        QFETCH(QByteArray, target);
        const Decision d = decide(request, ::ingress());
        QCOMPARE(int(d.kind), kind);
        if (kind == int(Decision::Kind::Local)) {
            QCOMPARE(d.status, status);
        } else {
            QCOMPARE(d.prefix, prefix);
            QCOMPARE(d.backendTarget, target);
            QVERIFY(d.route);
        }
    }

    void detailsOfLocalAnswers() {
        const Decision redirect = decide("GET /app?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", ::ingress());
        QCOMPARE(redirect.location, QByteArray("/app/?q=1"));
        const Decision notFound = decide("GET /nope/x HTTP/1.1\r\nHost: h\r\n\r\n", ::ingress());
        QCOMPARE(QJsonDocument::fromJson(notFound.body).object().value(QStringLiteral("project")).toString(),
                 QStringLiteral("nope"));
        const Decision down = decide("GET /down/x HTTP/1.1\r\nHost: h\r\n\r\n", ::ingress());
        const QJsonObject o = QJsonDocument::fromJson(down.body).object();
        QCOMPARE(o.value(QStringLiteral("state")).toString(), QStringLiteral("crashed"));
        QCOMPARE(o.value(QStringLiteral("reason")).toString(), QStringLiteral("exited with code 3"));
        const Decision method = decide("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", ::ingress());
        QCOMPARE(method.allow, QByteArray("GET, HEAD"));
        const Decision connect = decide("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", ::ingress());
        QVERIFY(connect.close);
    }

    // ingress_api: loopback (default) shows the table to local clients only, all to
    // everyone, off to no one (the paths are then plain unknown projects).
    void ingressApi_data() {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("loopback");
        QTest::addColumn<int>("status");
        QTest::newRow("loopback, local client") << int(IngressApi::Loopback) << true << 200;
        QTest::newRow("loopback, remote client") << int(IngressApi::Loopback) << false << 403;
        QTest::newRow("all, remote client") << int(IngressApi::All) << false << 200;
        QTest::newRow("off, local client") << int(IngressApi::Off) << true << 404;
    }
    void ingressApi() {
        QFETCH(int, mode);
        QFETCH(bool, loopback);
        QFETCH(int, status);
        for (const char *path : {"/", "/_api/routes"}) {
            const Decision d = decide(QByteArray("GET ") + path + " HTTP/1.1\r\nHost: h\r\n\r\n",
                                      ::ingress(IngressApi(mode)), loopback);
            QCOMPARE(d.status, status);
            if (status == 403)
                QVERIFY(errorOf(d).contains(QStringLiteral("ingress_api")));
        }
    }

    void dedicatedPort() {
        HttpListenerContext c;
        c.project = QStringLiteral("own-port");
        const Decision d = decide("GET /own-port/x?1 HTTP/1.1\r\nHost: h\r\n\r\n", c);
        QCOMPARE(int(d.kind), int(Decision::Kind::Proxy));
        QCOMPARE(d.backendTarget, "/own-port/x?1"); // the path goes unchanged
        QVERIFY(d.prefix.isEmpty());
        // The routing table is the ingress's page only.
        const Decision page = decide("GET /_api/routes HTTP/1.1\r\nHost: h\r\n\r\n", c);
        QCOMPARE(int(page.kind), int(Decision::Kind::Proxy));
        c.project = QStringLiteral("gone");
        QCOMPARE(decide("GET / HTTP/1.1\r\nHost: h\r\n\r\n", c).status, 503);
    }

    // Each host port of a project goes to its own backend port where it has one.
    void dedicatedPortOwnBackendPort_data() {
        QTest::addColumn<quint16>("listenerPort");
        QTest::addColumn<int>("backendPort");
        QTest::newRow("port with its own") << quint16(5000) << 9001;
        QTest::newRow("first port") << quint16(3000) << 9000;
    }
    void dedicatedPortOwnBackendPort() {
        QFETCH(quint16, listenerPort);
        QFETCH(int, backendPort);
        HttpListenerContext c;
        c.project = QStringLiteral("multi");
        c.port = listenerPort;
        const Decision d = decide("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", c);
        QCOMPARE(int(d.kind), int(Decision::Kind::Proxy));
        QVERIFY(d.target);
        QCOMPARE(int(d.target->port), backendPort);
    }
};

QTEST_GUILESS_MAIN(TestRouter)
#include "tst_router.moc"

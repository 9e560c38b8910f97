// resolveStatic(): the static runtime's file resolution on a real directory tree.
#include "runtime/staticfiles.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace portico;

class tst_StaticFiles : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QString m_root;

    static QByteArray headerOf(const StaticReply &r, const QByteArray &name) {
        for (const auto &h : r.headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return {};
    }
    StaticReply get(const QByteArray &path, const QByteArray &method = "GET",
                    Dotfiles dotfiles = Dotfiles::Deny) const {
        StaticRequest req;
        req.method = method;
        req.path = path;
        return resolveStatic(m_root, req, dotfiles);
    }
    static QByteArray servedBytes(const StaticReply &r) {
        QFile f(r.filePath);
        if (!f.open(QIODevice::ReadOnly) || !f.seek(r.offset))
            return {};
        return f.read(r.length);
    }
    void write(const QString &rel, const QByteArray &content) {
        const QString path = m_tmp.filePath(rel);
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        write(QStringLiteral("root/index.html"), "<h1>root</h1>");
        write(QStringLiteral("root/a.txt"), "0123456789");
        write(QStringLiteral("root/a b.txt"), "space");
        write(QStringLiteral("root/style.css"), "body{}");
        write(QStringLiteral("root/app.js"), "let x = 1;");
        write(QStringLiteral("root/data.json"), "{}");
        write(QStringLiteral("root/logo.png"), QByteArray::fromHex("89504e470d0a1a0a"));
        write(QStringLiteral("root/empty.txt"), "");
        write(QStringLiteral("root/sub/index.html"), "<h1>sub</h1>");
        write(QStringLiteral("root/sub/page.html"), "<p>page</p>");
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("root/nodir"))));
        write(QStringLiteral("outside/secret.txt"), "secret");
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("outside/secret.txt")),
                            m_tmp.filePath(QStringLiteral("root/link-out"))));
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("outside")),
                            m_tmp.filePath(QStringLiteral("root/dirlink-out"))));
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("root/a.txt")),
                            m_tmp.filePath(QStringLiteral("root/link-in"))));
        // A directory whose index.html leads out of the root.
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("root/badindex"))));
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("outside/secret.txt")),
                            m_tmp.filePath(QStringLiteral("root/badindex/index.html"))));
        // Hidden files a site folder often holds by accident, and the public .well-known.
        write(QStringLiteral("root/.env"), "SECRET=1");
        write(QStringLiteral("root/.git/HEAD"), "ref: refs/heads/main");
        write(QStringLiteral("root/.git/index.html"), "<h1>git</h1>");
        write(QStringLiteral("root/sub/.htpasswd"), "admin:x");
        write(QStringLiteral("root/.well-known/security.txt"), "Contact: a@b");
        write(QStringLiteral("root/.well-known/.hidden"), "no");
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("root/.env")),
                            m_tmp.filePath(QStringLiteral("root/env-link"))));
        m_root = QFileInfo(m_tmp.filePath(QStringLiteral("root"))).canonicalFilePath();
    }

    void traversalRefused_data() {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("status");
        QTest::newRow("dotdot") << QByteArray("/../etc/passwd") << 403;
        QTest::newRow("dotdot-sibling") << QByteArray("/../outside/secret.txt") << 403;
        QTest::newRow("encoded-dotdot") << QByteArray("/%2e%2e/") << 403;
        QTest::newRow("encoded-dotdot-upper") << QByteArray("/%2E%2E/outside/secret.txt") << 403;
        QTest::newRow("dotdot-after-sub") << QByteArray("/sub/../../outside/secret.txt") << 403;
        QTest::newRow("encoded-slash") << QByteArray("/a%2fb") << 403;
        QTest::newRow("encoded-slash-upper") << QByteArray("/sub%2Fpage.html") << 403;
        QTest::newRow("encoded-backslash") << QByteArray("/%5c..%5coutside") << 403;
        QTest::newRow("nul") << QByteArray("/%00") << 403;
        QTest::newRow("nul-suffix") << QByteArray("/a.txt%00.html") << 403;
        QTest::newRow("symlink-out") << QByteArray("/link-out") << 403;
        QTest::newRow("symlink-dir-out") << QByteArray("/dirlink-out/secret.txt") << 403;
        QTest::newRow("index-symlink-out") << QByteArray("/badindex/") << 403;
        QTest::newRow("malformed-percent") << QByteArray("/%zz") << 400;
        QTest::newRow("truncated-percent") << QByteArray("/a%2") << 400;
        QTest::newRow("relative") << QByteArray("a.txt") << 400;
    }
    void traversalRefused() {
        QFETCH(QByteArray, path);
        QFETCH(int, status);
        const StaticReply r = get(path);
        QCOMPARE(r.status, status);
        QVERIFY(r.filePath.isEmpty());
        const QJsonObject body = QJsonDocument::fromJson(r.body).object();
        QVERIFY2(!body.value(QStringLiteral("error")).toString().isEmpty(), r.body.constData());
        QCOMPARE(headerOf(r, "Content-Type"), QByteArray("application/json"));
    }

    // Hidden paths are refused the way the system Portico replaces did (403), before the
    // filesystem is asked, so a refusal does not tell whether the file exists; "ignore"
    // answers 404 instead and "allow" serves them.
    void dotfiles_data() {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("dotfiles"); // Dotfiles
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("content");
        const int deny = int(Dotfiles::Deny), ignore = int(Dotfiles::Ignore), allow = int(Dotfiles::Allow);
        QTest::newRow("env") << QByteArray("/.env") << deny << 403 << QByteArray();
        QTest::newRow("git-head") << QByteArray("/.git/HEAD") << deny << 403 << QByteArray();
        QTest::newRow("git-dir-index") << QByteArray("/.git/") << deny << 403 << QByteArray();
        QTest::newRow("git-dir-redirect") << QByteArray("/.git") << deny << 403 << QByteArray();
        QTest::newRow("nested") << QByteArray("/sub/.htpasswd") << deny << 403 << QByteArray();
        QTest::newRow("encoded-dot") << QByteArray("/%2eenv") << deny << 403 << QByteArray();
        QTest::newRow("missing-dotfile") << QByteArray("/.nothing") << deny << 403 << QByteArray();
        QTest::newRow("dotdot-into-dotfile") << QByteArray("/sub/../.env") << deny << 403 << QByteArray();
        QTest::newRow("symlink-to-dotfile") << QByteArray("/env-link") << deny << 403 << QByteArray();
        QTest::newRow("ignore-env") << QByteArray("/.env") << ignore << 404 << QByteArray();
        QTest::newRow("ignore-git") << QByteArray("/.git/HEAD") << ignore << 404 << QByteArray();
        QTest::newRow("allow-env") << QByteArray("/.env") << allow << 200 << QByteArray("SECRET=1");
        QTest::newRow("allow-git") << QByteArray("/.git/HEAD") << allow << 200
                                   << QByteArray("ref: refs/heads/main");
        QTest::newRow("allow-symlink") << QByteArray("/env-link") << allow << 200 << QByteArray("SECRET=1");
        QTest::newRow("well-known") << QByteArray("/.well-known/security.txt") << deny << 200
                                    << QByteArray("Contact: a@b");
        QTest::newRow("dotfile-in-well-known")
            << QByteArray("/.well-known/.hidden") << deny << 403 << QByteArray();
        QTest::newRow("plain-file") << QByteArray("/a.txt") << deny << 200 << QByteArray("0123456789");
    }
    void dotfiles() {
        QFETCH(QByteArray, path);
        QFETCH(int, dotfiles);
        QFETCH(int, status);
        QFETCH(QByteArray, content);
        const StaticReply r = get(path, "GET", Dotfiles(dotfiles));
        QCOMPARE(r.status, status);
        if (status == 200) {
            QCOMPARE(servedBytes(r), content);
        } else {
            QVERIFY(r.filePath.isEmpty());
            QVERIFY(!r.body.contains("SECRET"));
        }
    }

    void resolves_data() {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("root-index") << QByteArray("/") << 200 << QByteArray("<h1>root</h1>");
        QTest::newRow("empty-path-is-root") << QByteArray("") << 200 << QByteArray("<h1>root</h1>");
        QTest::newRow("file") << QByteArray("/a.txt") << 200 << QByteArray("0123456789");
        QTest::newRow("percent-space") << QByteArray("/a%20b.txt") << 200 << QByteArray("space");
        QTest::newRow("sub-index") << QByteArray("/sub/") << 200 << QByteArray("<h1>sub</h1>");
        QTest::newRow("dotdot-inside") << QByteArray("/sub/../a.txt") << 200 << QByteArray("0123456789");
        // ".." pops a segment of the request's path, before the file system is asked: the
        // folder it pops need not exist (as a browser would resolve it).
        QTest::newRow("dotdot-pops-missing-folder")
            << QByteArray("/nope/../a.txt") << 200 << QByteArray("0123456789");
        QTest::newRow("encoded-dotdot-pops")
            << QByteArray("/nope/%2e%2E/sub/page.html") << 200 << QByteArray("<p>page</p>");
        QTest::newRow("dotdot-back-to-root")
            << QByteArray("/sub/x/../../a.txt") << 200 << QByteArray("0123456789");
        QTest::newRow("dot-segments") << QByteArray("/./sub/./page.html") << 200 << QByteArray("<p>page</p>");
        QTest::newRow("symlink-inside") << QByteArray("/link-in") << 200 << QByteArray("0123456789");
        QTest::newRow("missing") << QByteArray("/nope.txt") << 404 << QByteArray();
        QTest::newRow("dir-without-index") << QByteArray("/nodir/") << 404 << QByteArray();
        QTest::newRow("file-as-dir") << QByteArray("/a.txt/x") << 404 << QByteArray();
    }
    void resolves() {
        QFETCH(QByteArray, path);
        QFETCH(int, status);
        QFETCH(QByteArray, content);
        const StaticReply r = get(path);
        QCOMPARE(r.status, status);
        if (status == 200) {
            QCOMPARE(servedBytes(r), content);
            QCOMPARE(headerOf(r, "Content-Length"), QByteArray::number(content.size()));
            QVERIFY(!headerOf(r, "ETag").isEmpty());
            QVERIFY(!headerOf(r, "Last-Modified").isEmpty());
            QCOMPARE(headerOf(r, "Accept-Ranges"), QByteArray("bytes"));
        }
    }

    void directoryRedirect_data() {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("location");
        QTest::newRow("sub") << QByteArray("/sub") << QByteArray("sub/");
        QTest::newRow("nested-dot") << QByteArray("/./sub") << QByteArray("sub/");
    }
    void directoryRedirect() {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, location);
        const StaticReply r = get(path);
        QCOMPARE(r.status, 301);
        QCOMPARE(headerOf(r, "Location"), location);
    }

    void mimeTypes_data() {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("type");
        QTest::newRow("html") << QByteArray("/sub/page.html") << QByteArray("text/html; charset=utf-8");
        QTest::newRow("txt") << QByteArray("/a.txt") << QByteArray("text/plain; charset=utf-8");
        QTest::newRow("css") << QByteArray("/style.css") << QByteArray("text/css; charset=utf-8");
        QTest::newRow("json") << QByteArray("/data.json") << QByteArray("application/json; charset=utf-8");
        QTest::newRow("png") << QByteArray("/logo.png") << QByteArray("image/png");
        QTest::newRow("js") << QByteArray("/app.js") << QByteArray("javascript");
    }
    void mimeTypes() {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, type);
        const StaticReply r = get(path);
        QCOMPARE(r.status, 200);
        const QByteArray ct = headerOf(r, "Content-Type");
        if (type == "javascript") // shared-mime-info says application/ or text/ depending on its version
            QVERIFY2(ct.contains("javascript"), ct.constData());
        else
            QCOMPARE(ct, type);
    }

    void ranges_data() {
        QTest::addColumn<QByteArray>("range");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("contentRange");
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("first-four") << QByteArray("bytes=0-3") << 206 << QByteArray("bytes 0-3/10")
                                    << QByteArray("0123");
        QTest::newRow("open-end") << QByteArray("bytes=5-") << 206 << QByteArray("bytes 5-9/10")
                                  << QByteArray("56789");
        QTest::newRow("suffix") << QByteArray("bytes=-3") << 206 << QByteArray("bytes 7-9/10")
                                << QByteArray("789");
        QTest::newRow("suffix-larger")
            << QByteArray("bytes=-50") << 206 << QByteArray("bytes 0-9/10") << QByteArray("0123456789");
        QTest::newRow("end-clamped") << QByteArray("bytes=8-100") << 206 << QByteArray("bytes 8-9/10")
                                     << QByteArray("89");
        QTest::newRow("single-byte") << QByteArray("bytes=9-9") << 206 << QByteArray("bytes 9-9/10")
                                     << QByteArray("9");
        QTest::newRow("start-at-size")
            << QByteArray("bytes=10-") << 416 << QByteArray("bytes */10") << QByteArray();
        QTest::newRow("beyond") << QByteArray("bytes=20-30") << 416 << QByteArray("bytes */10")
                                << QByteArray();
        QTest::newRow("zero-suffix") << QByteArray("bytes=-0") << 416 << QByteArray("bytes */10")
                                     << QByteArray();
        QTest::newRow("multi-ignored")
            << QByteArray("bytes=0-1,3-4") << 200 << QByteArray() << QByteArray("0123456789");
        QTest::newRow("other-unit-ignored")
            << QByteArray("items=0-1") << 200 << QByteArray() << QByteArray("0123456789");
        QTest::newRow("reversed-ignored")
            << QByteArray("bytes=5-2") << 200 << QByteArray() << QByteArray("0123456789");
        QTest::newRow("garbage-ignored")
            << QByteArray("bytes=a-b") << 200 << QByteArray() << QByteArray("0123456789");
    }
    void ranges() {
        QFETCH(QByteArray, range);
        QFETCH(int, status);
        QFETCH(QByteArray, contentRange);
        QFETCH(QByteArray, bytes);
        StaticRequest req;
        req.method = "GET";
        req.path = "/a.txt";
        req.range = range;
        const StaticReply r = resolveStatic(m_root, req);
        QCOMPARE(r.status, status);
        QCOMPARE(headerOf(r, "Content-Range"), contentRange);
        if (status != 416) {
            QCOMPARE(servedBytes(r), bytes);
            QCOMPARE(headerOf(r, "Content-Length"), QByteArray::number(bytes.size()));
        } else {
            QVERIFY(r.filePath.isEmpty());
        }
    }

    void emptyFileRange() {
        StaticRequest req;
        req.method = "GET";
        req.path = "/empty.txt";
        req.range = "bytes=0-";
        QCOMPARE(resolveStatic(m_root, req).status, 416);
        req.range.clear();
        const StaticReply r = resolveStatic(m_root, req);
        QCOMPARE(r.status, 200);
        QCOMPARE(headerOf(r, "Content-Length"), QByteArray("0"));
    }

    void ifRange_data() {
        QTest::addColumn<QString>("which"); // etag, weak, other, date, olddate
        QTest::addColumn<int>("status");
        QTest::newRow("matching-etag") << QStringLiteral("etag") << 206;
        QTest::newRow("weak-etag-never") << QStringLiteral("weak") << 200;
        QTest::newRow("other-etag") << QStringLiteral("other") << 200;
        QTest::newRow("matching-date") << QStringLiteral("date") << 206;
        QTest::newRow("other-date") << QStringLiteral("olddate") << 200;
    }
    void ifRange() {
        QFETCH(QString, which);
        QFETCH(int, status);
        const StaticReply plain = get("/a.txt");
        const QByteArray etag = headerOf(plain, "ETag");
        StaticRequest req;
        req.method = "GET";
        req.path = "/a.txt";
        req.range = "bytes=0-3";
        if (which == QLatin1String("etag"))
            req.ifRange = etag;
        else if (which == QLatin1String("weak"))
            req.ifRange = "W/" + etag;
        else if (which == QLatin1String("other"))
            req.ifRange = "\"nope\"";
        else if (which == QLatin1String("date"))
            req.ifRange = headerOf(plain, "Last-Modified");
        else
            req.ifRange = "Sun, 06 Nov 1994 08:49:37 GMT";
        QCOMPARE(resolveStatic(m_root, req).status, status);
    }

    void conditional_data() {
        QTest::addColumn<QString>("inm"); // "etag", "weak", "*", "other" or empty
        QTest::addColumn<QString>("ims"); // "same", "old", "future" or empty
        QTest::addColumn<int>("status");
        QTest::newRow("inm-match") << QStringLiteral("etag") << QString() << 304;
        QTest::newRow("inm-weak-match") << QStringLiteral("weak") << QString() << 304;
        QTest::newRow("inm-star") << QStringLiteral("*") << QString() << 304;
        QTest::newRow("inm-list") << QStringLiteral("list") << QString() << 304;
        QTest::newRow("inm-other") << QStringLiteral("other") << QString() << 200;
        QTest::newRow("ims-same") << QString() << QStringLiteral("same") << 304;
        QTest::newRow("ims-future") << QString() << QStringLiteral("future") << 304;
        QTest::newRow("ims-old") << QString() << QStringLiteral("old") << 200;
        QTest::newRow("ims-garbage") << QString() << QStringLiteral("garbage") << 200;
        QTest::newRow("inm-wins-over-ims") << QStringLiteral("other") << QStringLiteral("same") << 200;
    }
    void conditional() {
        QFETCH(QString, inm);
        QFETCH(QString, ims);
        QFETCH(int, status);
        const StaticReply plain = get("/a.txt");
        const QByteArray etag = headerOf(plain, "ETag");
        QVERIFY(etag.startsWith('"') && etag.endsWith('"'));
        StaticRequest req;
        req.method = "GET";
        req.path = "/a.txt";
        if (inm == QLatin1String("etag"))
            req.ifNoneMatch = etag;
        else if (inm == QLatin1String("weak"))
            req.ifNoneMatch = "W/" + etag;
        else if (inm == QLatin1String("*"))
            req.ifNoneMatch = "*";
        else if (inm == QLatin1String("list"))
            req.ifNoneMatch = "\"x\", " + etag;
        else if (inm == QLatin1String("other"))
            req.ifNoneMatch = "\"other\"";
        if (ims == QLatin1String("same"))
            req.ifModifiedSince = headerOf(plain, "Last-Modified");
        else if (ims == QLatin1String("future"))
            req.ifModifiedSince = "Fri, 01 Jan 2100 00:00:00 GMT";
        else if (ims == QLatin1String("old"))
            req.ifModifiedSince = "Sun, 06 Nov 1994 08:49:37 GMT";
        else if (ims == QLatin1String("garbage"))
            req.ifModifiedSince = "yesterday";
        const StaticReply r = resolveStatic(m_root, req);
        QCOMPARE(r.status, status);
        if (status == 304) {
            QVERIFY(r.filePath.isEmpty());
            QVERIFY(r.body.isEmpty());
            QCOMPARE(headerOf(r, "ETag"), etag);
        }
    }

    void etagChangesWithContent() {
        write(QStringLiteral("root/changing.txt"), "one");
        const QByteArray before = headerOf(get("/changing.txt"), "ETag");
        write(QStringLiteral("root/changing.txt"), "three");
        const QByteArray after = headerOf(get("/changing.txt"), "ETag");
        QVERIFY(!before.isEmpty());
        QVERIFY(before != after);
    }

    void head() {
        const StaticReply r = get("/a.txt", "HEAD");
        QCOMPARE(r.status, 200);
        QCOMPARE(headerOf(r, "Content-Length"), QByteArray("10"));
        QVERIFY(r.filePath.isEmpty());
        QCOMPARE(r.length, 0);
    }

    void otherMethods_data() {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("post") << QByteArray("POST");
        QTest::newRow("put") << QByteArray("PUT");
        QTest::newRow("delete") << QByteArray("DELETE");
        QTest::newRow("lowercase-get") << QByteArray("get");
    }
    void otherMethods() {
        QFETCH(QByteArray, method);
        const StaticReply r = get("/a.txt", method);
        QCOMPARE(r.status, 405);
        QCOMPARE(headerOf(r, "Allow"), QByteArray("GET, HEAD"));
        QVERIFY(QJsonDocument::fromJson(r.body).object().contains(QStringLiteral("error")));
    }

    void limits() {
        QCOMPARE(get("/" + QByteArray(9000, 'a')).status, 414);
        QByteArray many;
        for (int i = 0; i < 200; ++i)
            many += "/x";
        QCOMPARE(get(many).status, 414);
    }

    void missingRoot() {
        StaticRequest req;
        req.method = "GET";
        req.path = "/";
        QCOMPARE(resolveStatic(m_tmp.filePath(QStringLiteral("does-not-exist")), req).status, 404);
    }
};

QTEST_GUILESS_MAIN(tst_StaticFiles)
#include "tst_staticfiles.moc"

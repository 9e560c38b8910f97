// The static runtime through a real porticod: hidden files stay hidden unless the manifest
// says otherwise, and an absolute entry needs no source_dir.
#include "daemonfixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace portico::test;

class tst_StaticSite : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_site;
    std::unique_ptr<DaemonFixture> m_daemon;

    void write(const QString &rel, const QByteArray &content) {
        const QString path = m_site.filePath(rel);
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(content), content.size());
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_site.isValid());
        write(QStringLiteral("public/index.html"), "<h1>site</h1>");
        write(QStringLiteral("public/.env"), "DB_PASSWORD=hunter2");
        write(QStringLiteral("public/.git/HEAD"), "ref: refs/heads/main");
        write(QStringLiteral("public/.well-known/security.txt"), "Contact: mailto:sec@example.org");
        m_daemon = std::make_unique<DaemonFixture>();
        QString why;
        QVERIFY2(m_daemon->start(&why), qPrintable(why));
    }
    void cleanup() {
        for (const auto &name : {"site", "open", "abs"})
            m_daemon->call(QStringLiteral("projects.undeploy"),
                           {{QStringLiteral("name"), QLatin1String(name)}});
    }

    // /site/.git/HEAD and /site/.env answered 200 before; the system Portico replaces
    // answered 403, and so does Portico now unless the manifest allows them.
    void dotfiles_data() {
        QTest::addColumn<QByteArray>("manifest");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        const QByteArray site = R"({"name": "site", "runtime": "static", "entry": "public"})";
        const QByteArray open =
            R"({"name": "open", "runtime": "static", "entry": "public", "dotfiles": "allow"})";
        QTest::newRow("env-refused") << site << QByteArray("/site/.env") << 403 << QByteArray();
        QTest::newRow("git-refused") << site << QByteArray("/site/.git/HEAD") << 403 << QByteArray();
        QTest::newRow("index-served") << site << QByteArray("/site/") << 200 << QByteArray("<h1>site</h1>");
        QTest::newRow("well-known-served") << site << QByteArray("/site/.well-known/security.txt") << 200
                                           << QByteArray("Contact: mailto:sec@example.org");
        QTest::newRow("env-allowed") << open << QByteArray("/open/.env") << 200
                                     << QByteArray("DB_PASSWORD=hunter2");
        QTest::newRow("git-allowed") << open << QByteArray("/open/.git/HEAD") << 200
                                     << QByteArray("ref: refs/heads/main");
    }
    void dotfiles() {
        QFETCH(QByteArray, manifest);
        QFETCH(QByteArray, path);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        const QJsonObject r = m_daemon->deploy(manifest, m_site.path());
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
        const auto reply = DaemonFixture::httpGet(m_daemon->ingressPort(), path);
        QCOMPARE(reply.status, status);
        if (status == 200)
            QCOMPARE(reply.body, body);
        else
            QVERIFY2(!reply.body.contains("hunter2") && !reply.body.contains("refs/heads"),
                     reply.body.constData());
        // The setting is part of the stored manifest.
        const QJsonObject stored =
            r.value(QStringLiteral("result")).toObject().value(QStringLiteral("manifest")).toObject();
        QCOMPARE(stored.value(QStringLiteral("dotfiles")).toString(),
                 manifest.contains("allow") ? QStringLiteral("allow") : QString());
    }

    // A static root given as an absolute path is complete without a source_dir, for the dry
    // run and for the deploy; a relative one still asks for it.
    void absoluteEntryNeedsNoSourceDir() {
        const QString root = m_site.filePath(QStringLiteral("public"));
        const QJsonObject manifest{{QStringLiteral("name"), QStringLiteral("abs")},
                                   {QStringLiteral("runtime"), QStringLiteral("static")},
                                   {QStringLiteral("entry"), root}};
        const QJsonObject check =
            m_daemon->call(QStringLiteral("projects.validate"), {{QStringLiteral("manifest"), manifest}});
        QVERIFY2(check.contains(QStringLiteral("result")), QJsonDocument(check).toJson().constData());
        const QJsonObject r =
            m_daemon->call(QStringLiteral("projects.deploy"), {{QStringLiteral("manifest"), manifest}});
        QVERIFY2(r.contains(QStringLiteral("result")), QJsonDocument(r).toJson().constData());
        const auto reply = DaemonFixture::httpGet(m_daemon->ingressPort(), "/abs/");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.body, QByteArray("<h1>site</h1>"));

        QJsonObject relative = manifest;
        relative.insert(QStringLiteral("name"), QStringLiteral("site"));
        relative.insert(QStringLiteral("entry"), QStringLiteral("public"));
        const QJsonObject refused =
            m_daemon->call(QStringLiteral("projects.deploy"), {{QStringLiteral("manifest"), relative}});
        QVERIFY2(refused.value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("message"))
                     .toString()
                     .contains(QLatin1String("source_dir is needed")),
                 QJsonDocument(refused).toJson().constData());
    }
};

QTEST_GUILESS_MAIN(tst_StaticSite)
#include "tst_staticsite.moc"

#include "adminclient.h"
#include "config/config.h"
#include "paths.h"

#include <QTest>

#include <unistd.h>

using namespace portico;

// The daemon and its clients must agree on where the admin socket is.
class TestPaths : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() {
        qunsetenv("PORTICO_SOCKET");
        qunsetenv("XDG_RUNTIME_DIR");
    }
    void sessionRuntimeDir() {
        qputenv("XDG_RUNTIME_DIR", "/run/user/1000");
        QCOMPARE(defaultAdminSocketPath(), QStringLiteral("/run/user/1000/portico/admin.sock"));
        QCOMPARE(Config::defaultAdminSocket(), defaultAdminSocketPath());
        QCOMPARE(AdminClient::defaultSocketPath(), defaultAdminSocketPath());
    }
    void withoutSession() {
        const QString expected = ::geteuid() == 0 ? QStringLiteral("/run/portico/admin.sock")
                                                  : QStringLiteral("/portico/admin.sock");
        QVERIFY2(defaultAdminSocketPath().endsWith(expected), qPrintable(defaultAdminSocketPath()));
        if (::geteuid() != 0)
            QVERIFY(defaultAdminSocketPath().contains(QStringLiteral("/portico-")));
        QCOMPARE(Config::defaultAdminSocket(), AdminClient::defaultSocketPath());
    }
    void clientOverride() {
        qputenv("PORTICO_SOCKET", "/tmp/elsewhere.sock");
        QCOMPARE(AdminClient::defaultSocketPath(), QStringLiteral("/tmp/elsewhere.sock"));
    }
};

QTEST_GUILESS_MAIN(TestPaths)
#include "tst_paths.moc"

#pragma once

#include "adminclient.h"

#include <QObject>
#include <QStringList>
#include <QTextStream>
#include <QTimer>

namespace portico::ctl {

// Exit codes scripts can rely on.
enum ExitCode { Ok = 0, Refused = 1, Unreachable = 2 };

struct Options {
    QString command;
    QStringList args;
    QString socket;
    bool json = false;
    bool dryRun = false;
    bool follow = false;
    bool stats = false; // watch: include stats.tick
    int lines = 100;
    int connectTimeoutMs = 10'000;
};

// One porticoctl run: connect, send what the command needs, print, finish with an exit
// code. Driven by the event loop through the shared AdminClient.
class Ctl final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Ctl)
public:
    explicit Ctl(const Options &options, QObject *parent = nullptr);
    static QStringList commands();
    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void run();
    void finish(int code);
    void fail(int code, const QString &reason);
    // An error reply: one line on stderr (plus every refusal detail), exit 1 or 2.
    void failWith(const jsonrpc::Message &reply, const QString &what);
    void printJson(const QJsonValue &v);
    void deploy();
    void logs();
    void watch();

    Options m_opt;
    AdminClient m_client;
    QTextStream m_out;
    QTextStream m_err;
    QTimer m_connectTimer;
    bool m_done = false;
};

} // namespace portico::ctl

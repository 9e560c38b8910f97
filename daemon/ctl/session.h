#pragma once

#include "adminclient.h"
#include "commandtable.h"
#include "style.h"

#include <QHash>
#include <QObject>
#include <QStringList>
#include <QTextStream>
#include <QTimer>

#include <functional>

namespace portico::ctl {

// Exit codes scripts can rely on (documented in --help, the README and docs/admin-protocol.md).
enum ExitCode {
    Ok = 0,
    Refused = 1,     // the daemon said no: validation, conflict, not found, the backend did not start
    Unreachable = 2, // no daemon at the socket, or the connection was lost
    Usage = 64,      // the command line itself is wrong (sysexits.h EX_USAGE)
};

// One parsed command line.
struct Invocation {
    const Command *command = nullptr;
    QStringList args;
    QHash<QString, QString> options; // the command's options that were given: long name -> value
    QString socket;                  // empty: the default
    bool json = false;
    Style out; // for stdout
    Style err; // for stderr
    int connectTimeoutMs = 10'000;

    QString arg(int i) const { return args.value(i); }
    bool isSet(const QString &longName) const { return options.contains(longName); }
    QString value(const QString &longName) const { return options.value(longName); }
};

// One porticoctl run: connect, let the command do its work, finish with an exit code.
// Commands talk to the daemon through it and print through it.
class Session final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Session)
public:
    explicit Session(Invocation invocation, QObject *parent = nullptr);
    void start();

    const Invocation &inv() const { return m_inv; }
    bool json() const { return m_inv.json; }
    const Style &style() const { return m_inv.out; }
    const Style &errStyle() const { return m_inv.err; }
    QTextStream &out() { return m_out; }
    QTextStream &err() { return m_err; }
    AdminClient &client() { return m_client; }
    QString socketPath() const { return m_client.socketPath(); }

    // Calls a method; an error answer ends the run (see failWith) with `what` naming what
    // was refused, so onResult only ever sees a result.
    void call(const QString &method, const QJsonObject &params, const QString &what,
              const std::function<void(const QJsonValue &result)> &onResult);

    void finish(int code);
    // "porticoctl: <reason>" on stderr, then the exit code.
    void fail(int code, const QString &reason, const QStringList &details = {});
    // An error answer: one line naming it and its code, the details indented under it, exit 1
    // (2 when the connection was lost). With --json the error object goes to stdout too.
    void failWith(const jsonrpc::Message &reply, const QString &what, const QStringList &details = {});
    void printJson(const QJsonValue &v);
    bool isDone() const { return m_done; }

Q_SIGNALS:
    void finished(int exitCode);

private:
    Invocation m_inv;
    AdminClient m_client;
    QTextStream m_out;
    QTextStream m_err;
    QTimer m_connectTimer;
    bool m_done = false;
};

} // namespace portico::ctl

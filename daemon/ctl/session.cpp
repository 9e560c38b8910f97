#include "session.h"

#include "format.h"
#include "manifestfile.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstdio>

namespace portico::ctl {

Session::Session(Invocation invocation, QObject *parent)
    : QObject(parent), m_inv(std::move(invocation)), m_out(stdout), m_err(stderr) {
    m_client.setSocketPath(m_inv.socket.isEmpty() ? AdminClient::defaultSocketPath() : m_inv.socket);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        fail(Unreachable, QStringLiteral("cannot reach the daemon at %1: no answer within %2 s")
                              .arg(m_client.socketPath())
                              .arg(m_inv.connectTimeoutMs / 1000));
    });
    connect(&m_client, &AdminClient::connectError, this, [this](const QString &reason) {
        fail(Unreachable, QStringLiteral("cannot reach the daemon: %1").arg(reason));
    });
    connect(&m_client, &AdminClient::protocolError, this,
            [this](const QString &reason) { m_err << "porticoctl: daemon: " << reason << Qt::endl; });
    connect(&m_client, &AdminClient::disconnected, this, [this] {
        fail(Unreachable,
             QStringLiteral("the connection to the daemon at %1 was lost").arg(m_client.socketPath()));
    });
    connect(&m_client, &AdminClient::connected, this, [this] {
        m_connectTimer.stop();
        m_inv.command->run(*this);
    });
}

void Session::start() {
    if (!m_inv.command->needsDaemon) {
        QTimer::singleShot(0, this, [this] { m_inv.command->run(*this); });
        return;
    }
    m_connectTimer.start(m_inv.connectTimeoutMs);
    m_client.connectToDaemon();
}

void Session::call(const QString &method, const QJsonObject &params, const QString &what,
                   const std::function<void(const QJsonValue &)> &onResult) {
    m_client.call(method, params, [this, what, onResult](const jsonrpc::Message &reply) {
        if (m_done)
            return;
        if (!reply.isResponse())
            return failWith(reply, what);
        onResult(reply.result());
    });
}

void Session::finish(int code) {
    if (m_done)
        return;
    m_done = true;
    m_out.flush();
    m_err.flush();
    Q_EMIT finished(code);
}

void Session::fail(int code, const QString &reason, const QStringList &details) {
    if (m_done)
        return;
    m_err << "porticoctl: " << reason << "\n";
    for (const auto &line : details)
        m_err << "  " << line << "\n";
    finish(code);
}

void Session::failWith(const jsonrpc::Message &reply, const QString &what, const QStringList &details) {
    if (m_done)
        return;
    if (reply.errorCode() == jsonrpc::kConnectionLost)
        return fail(Unreachable, reply.errorMessage());
    if (m_inv.json)
        printJson(reply.toJson().value(QStringLiteral("error")));
    // The first line names the refusal; longer explanations (a backend's stderr) follow
    // in the details or are one command away.
    const QString message = reply.errorMessage().section(QLatin1Char('\n'), 0, 0);
    const QString headline = QStringLiteral("%1: %2 (code %3)").arg(what, message).arg(reply.errorCode());
    fail(Refused, headline, details.isEmpty() ? refusalLines(reply.errorData()) : details);
}

void Session::printJson(const QJsonValue &v) {
    if (v.isObject())
        m_out << QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented);
    else if (v.isArray())
        m_out << QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented);
    else
        m_out << compact(v) << "\n";
}

} // namespace portico::ctl

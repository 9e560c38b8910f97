#include "eventsubscriber.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>

namespace portico::test {

EventSubscriber::EventSubscriber(const QString &socketPath, const QStringList &kinds) {
    m_socket.connectToServer(socketPath);
    if (!m_socket.waitForConnected(5000))
        return;
    const QJsonObject request{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                              {QStringLiteral("id"), 1},
                              {QStringLiteral("method"), QStringLiteral("events.subscribe")},
                              {QStringLiteral("params"),
                               QJsonObject{{QStringLiteral("kinds"), QJsonArray::fromStringList(kinds)}}}};
    m_socket.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
    m_socket.flush();
    QDeadlineTimer deadline(10000);
    while (!m_subscribed && !deadline.hasExpired() &&
           m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
        readAvailable();
}

void EventSubscriber::readAvailable() {
    while (m_socket.canReadLine()) {
        const QJsonObject msg = QJsonDocument::fromJson(m_socket.readLine()).object();
        if (msg.value(QStringLiteral("method")).toString() == QLatin1String("event"))
            m_events.append(msg.value(QStringLiteral("params")).toObject());
        else if (msg.value(QStringLiteral("id")).toInt() == 1 && msg.contains(QStringLiteral("result")))
            m_subscribed = true;
    }
}

QJsonObject EventSubscriber::waitFor(const QString &kind, const QString &project, int timeoutMs) {
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        for (qsizetype i = 0; i < m_events.size(); ++i) {
            const QJsonObject e = m_events.at(i);
            const QJsonObject data = e.value(QStringLiteral("data")).toObject();
            if (e.value(QStringLiteral("kind")).toString() == kind &&
                (project.isEmpty() || data.value(QStringLiteral("project")).toString() == project)) {
                m_events.remove(0, i + 1);
                return e;
            }
        }
        if (deadline.hasExpired() ||
            !m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            return {};
        readAvailable();
    }
}

QList<QJsonObject> EventSubscriber::received(const QString &kind) {
    while (m_socket.waitForReadyRead(0))
        readAvailable();
    readAvailable();
    QList<QJsonObject> out;
    for (const auto &e : m_events)
        if (e.value(QStringLiteral("kind")).toString() == kind)
            out.append(e);
    return out;
}

} // namespace portico::test

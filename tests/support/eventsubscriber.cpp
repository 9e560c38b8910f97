#include "eventsubscriber.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>

namespace portico::test {

namespace {
constexpr int kSubscribeId = 1;
}

EventSubscriber::EventSubscriber(const QString &socketPath, const QStringList &kinds) {
    m_socket.connectToServer(socketPath);
    if (!m_socket.waitForConnected(5000))
        return;
    // An empty `kinds` array subscribes to every kind, as an absent one does.
    const QJsonObject request{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                              {QStringLiteral("id"), kSubscribeId},
                              {QStringLiteral("method"), QStringLiteral("events.subscribe")},
                              {QStringLiteral("params"),
                               QJsonObject{{QStringLiteral("kinds"), QJsonArray::fromStringList(kinds)}}}};
    m_socket.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
    m_socket.flush();
    const QDeadlineTimer deadline(10000);
    while (!m_subscribed && !deadline.hasExpired() &&
           m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
        readAvailable();
}

void EventSubscriber::readAvailable() {
    while (m_socket.canReadLine()) {
        const QJsonObject msg = QJsonDocument::fromJson(m_socket.readLine()).object();
        if (msg.value(QStringLiteral("method")).toString() == QLatin1String("event")) {
            const QJsonObject event = msg.value(QStringLiteral("params")).toObject();
            m_pending.append(event);
            m_seen.append(event);
        } else if (msg.value(QStringLiteral("id")).toInt() == kSubscribeId &&
                   msg.contains(QStringLiteral("result"))) {
            m_subscribed = true;
        }
    }
}

QJsonObject EventSubscriber::waitFor(const QString &kind, const QString &project, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        for (qsizetype i = 0; i < m_pending.size(); ++i) {
            const QJsonObject e = m_pending.at(i);
            const QJsonObject data = e.value(QStringLiteral("data")).toObject();
            if (e.value(QStringLiteral("kind")).toString() == kind &&
                (project.isEmpty() || data.value(QStringLiteral("project")).toString() == project)) {
                m_pending.remove(0, i + 1);
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
    for (const auto &e : m_pending)
        if (e.value(QStringLiteral("kind")).toString() == kind)
            out.append(e);
    return out;
}

} // namespace portico::test

#pragma once

#include <QJsonObject>
#include <QList>
#include <QLocalSocket>
#include <QString>

namespace portico::test {

// A subscriber on its own admin connection that collects events (blocking reads, for
// tests against a real porticod).
class EventSubscriber {
public:
    // Subscribes to `kinds` (every kind when empty) and waits for the answer.
    explicit EventSubscriber(const QString &socketPath, const QStringList &kinds = {});
    bool isSubscribed() const { return m_subscribed; }
    // Waits until an event of this kind (and, if given, for this project) arrives; returns
    // its params {kind, data, time} and forgets it and every event before it. Empty on timeout.
    QJsonObject waitFor(const QString &kind, const QString &project = {}, int timeoutMs = 15000);
    // Reads what has arrived until now (without waiting) and returns every event of this
    // kind not consumed yet.
    QList<QJsonObject> received(const QString &kind);

private:
    void readAvailable();

    QLocalSocket m_socket;
    QList<QJsonObject> m_events;
    bool m_subscribed = false;
};

} // namespace portico::test

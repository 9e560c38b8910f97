#pragma once

#include <QJsonObject>
#include <QList>
#include <QLocalSocket>
#include <QString>
#include <QStringList>

namespace portico::test {

// A client of a real porticod's admin socket that subscribed to events (every kind when
// `kinds` is empty) on its own connection, and collects them with blocking, bounded reads.
class EventSubscriber {
public:
    // Subscribes and waits (bounded) for the daemon's answer, so that no event sent after
    // the constructor returns can be missed.
    explicit EventSubscriber(const QString &socketPath, const QStringList &kinds = {});
    bool isSubscribed() const { return m_subscribed; }

    // Waits until an event of this kind (and, if given, for this project) arrives and
    // returns it ({kind, data, time}); it and every event before it are consumed. Empty on
    // timeout.
    QJsonObject waitFor(const QString &kind, const QString &project = {}, int timeoutMs = 15000);
    // Reads what has arrived until now (without waiting) and returns every event of this
    // kind not consumed yet.
    QList<QJsonObject> received(const QString &kind);
    // Every event received so far, in order, including those waitFor() passed over.
    const QList<QJsonObject> &seen() const { return m_seen; }

private:
    void readAvailable();

    QLocalSocket m_socket;
    QList<QJsonObject> m_pending;
    QList<QJsonObject> m_seen;
    bool m_subscribed = false;
};

} // namespace portico::test

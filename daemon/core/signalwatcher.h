#pragma once

#include <QObject>

class QSocketNotifier;

namespace portico {

// Turns SIGTERM/SIGINT and SIGHUP into Qt signals (self-pipe: the handler only writes
// one byte; everything else happens in the event loop).
class SignalWatcher final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminate();
    void reload();

private:
    void readSignal();
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace portico

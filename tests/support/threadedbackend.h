#pragma once

#include <QByteArray>
#include <QThread>

#include <atomic>

namespace portico::test {

// A small backend server in its own thread, so that tests may block (waitFor*) while
// it serves. Modes:
//  - Http: answers every request with 200 and "hello from <name> <method> <path>"
//    (keep-alive, Content-Length bodies of requests are read and counted)
//  - Echo: TCP echo
//  - Source: sends sourceBytes of deterministic data (testPattern) and closes
//  - UdpEcho: UDP echo, prefixing each datagram with "<name>:"
class ThreadedBackend {
public:
    enum class Mode { Http, Echo, Source, UdpEcho };
    ThreadedBackend(Mode mode, const QByteArray &name = "backend", qint64 sourceBytes = 0);
    ~ThreadedBackend();

    quint16 port() const { return m_port; } // bound on 127.0.0.1, chosen by the OS
    int connections() const { return m_connections.load(); }

    // The deterministic byte stream Source mode sends: byte i of it.
    static QByteArray testPattern(qint64 offset, qint64 size);

private:
    QThread m_thread;
    quint16 m_port = 0;
    std::atomic<int> m_connections{0};
};

} // namespace portico::test

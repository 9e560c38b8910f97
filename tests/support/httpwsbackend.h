#pragma once

#include "contextthread.h"

#include <atomic>

namespace portico::test {

// A QWebSocketServer echo backend on 127.0.0.1:0 in its own thread. Text and binary
// messages are echoed; the text "close:<code>" makes it close with that code and the
// reason "bye"; "path" answers the request path it saw; "prefix" answers the
// X-Forwarded-Prefix header of the handshake.
class HttpWsBackend {
public:
    HttpWsBackend();
    ~HttpWsBackend();
    HttpWsBackend(const HttpWsBackend &) = delete;
    HttpWsBackend &operator=(const HttpWsBackend &) = delete;

    quint16 port() const { return m_port; }
    int connections() const { return m_connections.load(); }
    int lastCloseCode() const { return m_lastCloseCode.load(); } // from a client's close frame

private:
    ContextThread m_worker;
    quint16 m_port = 0;
    std::atomic<int> m_connections{0};
    std::atomic<int> m_lastCloseCode{0};
};

} // namespace portico::test

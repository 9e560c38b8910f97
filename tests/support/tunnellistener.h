#pragma once

// Header-only on purpose (like httpharness.h): it needs the daemon's headers, which only
// the test executables (linked with portico_daemon) see.

#include "net/listenercontext.h"
#include "net/loop/eventloop.h"
#include "net/tcp/tcplistener.h"
#include "routing/routetable.h"

#include <QCoreApplication>
#include <QThread>

#include <atomic>
#include <memory>
#include <utility>

namespace portico::test {

// An HTTP TcpListener as a worker runs it (a thread with the worker's EventLoop), on a
// listening socket the test made (so the test can set options that accepted sockets
// inherit, and see the listener's counts).
class ListenerThread {
public:
    ListenerThread(std::shared_ptr<const HttpListenerContext> ctx, int listenFd) {
        m_thread.setEventDispatcher(new EventLoop);
        m_thread.start();
        m_root.moveToThread(&m_thread);
        run([&] {
            setCurrentWorkerIndex(1);
            m_listener = new TcpListener(ctx, nullptr, m_shared, nullptr);
            QObject::connect(m_listener, &Listener::allClosed, m_listener, [this] { ++m_allClosed; });
            m_started = m_listener->start(listenFd, nullptr);
        });
    }
    ~ListenerThread() {
        run([this] {
            delete std::exchange(m_listener, nullptr);
            m_root.moveToThread(QCoreApplication::instance()->thread());
        });
        m_thread.quit();
        m_thread.wait();
    }
    ListenerThread(const ListenerThread &) = delete;
    ListenerThread &operator=(const ListenerThread &) = delete;

    template <typename F> void run(F fn) {
        QMetaObject::invokeMethod(&m_root, fn, Qt::BlockingQueuedConnection);
    }
    bool started() const { return m_started; }
    // {connectionCount(), HTTP connections (tunnels not counted)} of the listener
    std::pair<int, int> counts() {
        std::pair<int, int> out{-1, -1};
        run([&] {
            if (m_listener)
                out = {m_listener->connectionCount(), m_listener->httpConnectionCount()};
        });
        return out;
    }
    void stopAccepting() {
        run([this] { m_listener->stopAccepting(); });
    }
    void destroyListener() {
        run([this] { delete std::exchange(m_listener, nullptr); });
    }
    int live() const { return m_shared->live.load(); }
    int allClosed() const { return m_allClosed.load(); }

private:
    QThread m_thread;
    QObject m_root;
    TcpListener *m_listener = nullptr;
    std::shared_ptr<PortShared> m_shared = std::make_shared<PortShared>(100, 0);
    std::atomic<int> m_allClosed{0};
    bool m_started = false;
};

} // namespace portico::test

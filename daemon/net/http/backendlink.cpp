#include "backendlink.h"

#include "httpserver.h"

#include <QLocalSocket>
#include <QTcpSocket>
#include <QThread>

namespace portico::http {

BackendLink::BackendLink(const BackendTarget &target, qint64 readBufferBytes, QObject *parent)
    : QObject(parent), m_key(keyOf(target)), m_target(target) {
    m_idle.setSingleShot(true);
    if (target.kind == BackendTarget::Kind::Unix) {
        m_local = new QLocalSocket(this);
        m_local->setReadBufferSize(readBufferBytes);
        connect(m_local, &QLocalSocket::connected, this, [this] {
            m_connected = true;
            Q_EMIT connected();
        });
        connect(m_local, &QLocalSocket::readyRead, this, &BackendLink::readyRead);
        connect(m_local, &QLocalSocket::bytesWritten, this, &BackendLink::bytesWritten);
        connect(m_local, &QLocalSocket::disconnected, this, [this] { onClosed(QStringLiteral("closed")); });
        connect(m_local, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError e) {
            if (e == QLocalSocket::PeerClosedError && m_connected)
                return; // disconnected() follows
            onClosed(m_local->errorString());
        });
    } else {
        m_tcp = new QTcpSocket(this);
        m_tcp->setReadBufferSize(readBufferBytes);
        connect(m_tcp, &QTcpSocket::connected, this, [this] {
            m_connected = true;
            m_tcp->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            Q_EMIT connected();
        });
        connect(m_tcp, &QTcpSocket::readyRead, this, &BackendLink::readyRead);
        connect(m_tcp, &QTcpSocket::bytesWritten, this, &BackendLink::bytesWritten);
        connect(m_tcp, &QTcpSocket::disconnected, this, [this] { onClosed(QStringLiteral("closed")); });
        connect(m_tcp, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
            if (e == QAbstractSocket::RemoteHostClosedError && m_connected)
                return; // disconnected() follows
            onClosed(m_tcp->errorString());
        });
    }
}

BackendLink::~BackendLink() {
    // Deleting a connected socket would flush nothing and RST; the link is only deleted
    // when it is no longer useful, so an abort is what we mean.
    if (m_tcp)
        m_tcp->abort();
    if (m_local)
        m_local->abort();
}

QString BackendLink::keyOf(const BackendTarget &target) {
    return target.describe();
}

void BackendLink::open() {
    if (m_tcp)
        m_tcp->connectToHost(m_target.host, m_target.port); // name lookups are asynchronous
    else
        m_local->connectToServer(m_target.unixPath);
}

QIODevice *BackendLink::io() const {
    if (m_tcp)
        return m_tcp;
    return m_local;
}

qint64 BackendLink::bytesToWrite() const {
    return m_tcp ? m_tcp->bytesToWrite() : m_local->bytesToWrite();
}

qint64 BackendLink::bytesAvailable() const {
    return m_tcp ? m_tcp->bytesAvailable() : m_local->bytesAvailable();
}

void BackendLink::disconnectGracefully() {
    if (m_tcp)
        m_tcp->disconnectFromHost();
    else
        m_local->disconnectFromServer();
}

void BackendLink::abort() {
    if (m_tcp)
        m_tcp->abort();
    else
        m_local->abort();
    onClosed(QStringLiteral("aborted"));
}

void BackendLink::onClosed(const QString &why) {
    if (m_closed)
        return;
    m_closed = true;
    m_error = why;
    Q_EMIT closed();
}

namespace {
thread_local BackendPool *t_pool = nullptr;
}

BackendPool *BackendPool::forCurrentThread() {
    if (!t_pool) {
        t_pool = new BackendPool;
        // The pool lives as long as its worker thread: QThread emits finished() from the
        // thread itself, so the idle sockets are deleted in the thread that owns them.
        QObject::connect(QThread::currentThread(), &QThread::finished, [] {
            delete t_pool;
            t_pool = nullptr;
        });
    }
    return t_pool;
}

BackendLink *BackendPool::take(const QString &key, QObject *newParent) {
    auto it = m_idle.find(key);
    if (it == m_idle.end())
        return nullptr;
    while (!it->isEmpty()) {
        BackendLink *link = it->takeLast(); // most recently used: least likely to be stale
        disconnect(link, nullptr, this, nullptr);
        disconnect(&link->idleTimer(), nullptr, this, nullptr);
        link->idleTimer().stop();
        if (link->isClosed() || link->bytesAvailable() > 0) {
            delete link;
            continue;
        }
        link->setParent(newParent);
        return link;
    }
    m_idle.erase(it);
    return nullptr;
}

void BackendPool::give(BackendLink *link, int maxPerKey, int idleMs) {
    auto &list = m_idle[link->key()];
    if (link->isClosed() || maxPerKey <= 0 || list.size() >= maxPerKey) {
        link->deleteLater();
        return;
    }
    link->setParent(this);
    list.append(link);
    // An idle backend connection that speaks or closes is no longer reusable.
    connect(link, &BackendLink::closed, this, [this, link] { drop(link); });
    connect(link, &BackendLink::readyRead, this, [this, link] { drop(link); });
    connect(&link->idleTimer(), &QTimer::timeout, this, [this, link] { drop(link); });
    link->idleTimer().start(idleMs);
}

int BackendPool::idleCount(const QString &key) const {
    return int(m_idle.value(key).size());
}

void BackendPool::drop(BackendLink *link) {
    auto it = m_idle.find(link->key());
    if (it != m_idle.end())
        it->removeOne(link);
    disconnect(link, nullptr, this, nullptr);
    disconnect(&link->idleTimer(), nullptr, this, nullptr);
    link->deleteLater();
}

} // namespace portico::http

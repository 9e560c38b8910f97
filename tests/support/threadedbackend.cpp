#include "threadedbackend.h"

#include <QEventLoop>
#include <QPointer>
#include <QSemaphore>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUdpSocket>

namespace portico::test {

QByteArray ThreadedBackend::testPattern(qint64 offset, qint64 size) {
    QByteArray out(size, Qt::Uninitialized);
    for (qint64 i = 0; i < size; ++i) {
        const quint64 x = quint64(offset + i);
        out[i] = char((x * 2654435761u) >> 13);
    }
    return out;
}

namespace {

void serveHttp(QTcpSocket *s, const QByteArray &name) {
    auto buffer = std::make_shared<QByteArray>();
    auto pendingBody = std::make_shared<qint64>(0);
    QObject::connect(s, &QTcpSocket::readyRead, s, [s, buffer, pendingBody, name] {
        buffer->append(s->readAll());
        while (true) {
            if (*pendingBody > 0) {
                const qint64 take = qMin<qint64>(*pendingBody, buffer->size());
                buffer->remove(0, take);
                *pendingBody -= take;
                if (*pendingBody > 0)
                    return;
                continue;
            }
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QByteArray head = buffer->left(end);
            buffer->remove(0, end + 4);
            const QList<QByteArray> lines = head.split('\n');
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            bool close = false;
            for (const auto &l : lines) {
                const QByteArray lower = l.trimmed().toLower();
                if (lower.startsWith("content-length:"))
                    *pendingBody = lower.mid(15).trimmed().toLongLong();
                if (lower == "connection: close")
                    close = true;
            }
            const QByteArray body = "hello from " + name + " " + first.value(0) + " " + first.value(1);
            s->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                     QByteArray::number(body.size()) + "\r\n\r\n" + body);
            if (close)
                s->disconnectFromHost();
        }
    });
}

void serveSource(QTcpSocket *s, qint64 total) {
    auto sent = std::make_shared<qint64>(0);
    auto pump = [s, sent, total] {
        while (*sent < total && s->bytesToWrite() < 1024 * 1024) {
            const qint64 n = qMin<qint64>(256 * 1024, total - *sent);
            s->write(ThreadedBackend::testPattern(*sent, n));
            *sent += n;
        }
        if (*sent >= total && s->bytesToWrite() == 0)
            s->disconnectFromHost();
    };
    QObject::connect(s, &QTcpSocket::bytesWritten, s, pump);
    pump();
}

} // namespace

ThreadedBackend::ThreadedBackend(Mode mode, const QByteArray &name, qint64 sourceBytes) {
    QSemaphore ready;
    QObject::connect(&m_thread, &QThread::started, [&, mode, name, sourceBytes] {
        if (mode == Mode::UdpEcho) {
            auto *u = new QUdpSocket;
            QObject::connect(&m_thread, &QThread::finished, u, &QObject::deleteLater);
            u->bind(QHostAddress::LocalHost, 0);
            m_port = u->localPort();
            QObject::connect(u, &QUdpSocket::readyRead, u, [u, name] {
                while (u->hasPendingDatagrams()) {
                    QByteArray d(qMax<qint64>(0, u->pendingDatagramSize()), Qt::Uninitialized);
                    QHostAddress from;
                    quint16 port = 0;
                    const qint64 n = u->readDatagram(d.data(), d.size(), &from, &port);
                    if (n >= 0)
                        u->writeDatagram(name + ":" + d.left(n), from, port);
                }
            });
            ready.release();
            return;
        }
        auto *server = new QTcpServer;
        QObject::connect(&m_thread, &QThread::finished, server, &QObject::deleteLater);
        server->listen(QHostAddress::LocalHost, 0);
        m_port = server->serverPort();
        QObject::connect(server, &QTcpServer::newConnection, server, [this, server, mode, name, sourceBytes] {
            while (QTcpSocket *s = server->nextPendingConnection()) {
                ++m_connections;
                QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                switch (mode) {
                case Mode::Http:
                    serveHttp(s, name);
                    break;
                case Mode::Echo:
                    QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
                    break;
                case Mode::Source:
                    serveSource(s, sourceBytes);
                    break;
                case Mode::UdpEcho:
                    break;
                }
            }
        });
        ready.release();
    });
    m_thread.start();
    ready.acquire();
}

ThreadedBackend::~ThreadedBackend() {
    m_thread.quit();
    m_thread.wait();
}

} // namespace portico::test

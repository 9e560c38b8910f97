#include "daemonfixture.h"

#include "testutil.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QTcpSocket>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace portico::test {

DaemonFixture::DaemonFixture() {
    QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                            QFileDevice::ExeOwner | QFileDevice::ReadGroup |
                                            QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                            QFileDevice::ExeOther);
}

DaemonFixture::~DaemonFixture() {
    stop();
    if (m_fifoReader >= 0)
        ::close(m_fifoReader);
}

bool DaemonFixture::start(QString *why) {
    QJsonObject cfg = config;
    if (!cfg.contains(QStringLiteral("ingress_port")))
        cfg.insert(QStringLiteral("ingress_port"), 0);
    cfg.insert(QStringLiteral("state_dir"), stateDir());
    cfg.insert(QStringLiteral("admin_socket"), socketPath());
    if (!cfg.contains(QStringLiteral("workers")))
        cfg.insert(QStringLiteral("workers"), 2);
    const QString cfgPath = m_dir.filePath(QStringLiteral("porticod.json"));
    QFile f(cfgPath);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(QJsonDocument(cfg).toJson());
    f.close();

    m_process = std::make_unique<QProcess>();
    if (!environment.isEmpty()) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (auto it = environment.cbegin(); it != environment.cend(); ++it)
            env.insert(it.key(), it.value());
        m_process->setProcessEnvironment(env);
    }
    // Into a file, not a pipe: a pipe nobody reads fills up, and a daemon whose log
    // writes block is not what a test should measure.
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    if (logToUnreadPipe) {
        // A FIFO whose read end this test holds open and never reads: once its buffer is
        // full, every write of the daemon's to it would block.
        const QString fifo = m_dir.filePath(QStringLiteral("porticod.fifo"));
        ::mkfifo(QFile::encodeName(fifo).constData(), 0600);
        if (m_fifoReader < 0)
            m_fifoReader = ::open(QFile::encodeName(fifo).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        m_process->setStandardOutputFile(fifo);
    } else {
        m_process->setStandardOutputFile(m_dir.filePath(QStringLiteral("porticod.log")), QIODevice::Append);
    }
    m_process->start(QStringLiteral(PORTICOD_PATH),
                     QStringList{QStringLiteral("--config"), cfgPath} + extraArgs);
    if (!m_process->waitForStarted(10000)) {
        if (why)
            *why = QStringLiteral("porticod did not start: ") + m_process->errorString();
        return false;
    }
    // Up when the admin socket answers; the ingress port is the one the daemon reports.
    QJsonObject info;
    // The outcome is read from info below (the wait also ends when the daemon exits).
    (void)QTest::qWaitFor(
        [&] {
            if (m_process->state() != QProcess::Running)
                return true;
            info = call(QStringLiteral("daemon.info"), {}, 1000).value(QStringLiteral("result")).toObject();
            return !info.isEmpty();
        },
        20000);
    m_ingressPort = quint16(info.value(QStringLiteral("ingress_port")).toInt());
    if (!info.isEmpty() && m_ingressPort != 0)
        return true;
    if (why)
        *why = QStringLiteral("porticod did not come up (or reported no ingress port); it said:\n") +
               QString::fromUtf8(output());
    return false;
}

QByteArray DaemonFixture::output() const {
    QFile f(m_dir.filePath(QStringLiteral("porticod.log")));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool DaemonFixture::isRunning() const {
    return m_process && m_process->state() == QProcess::Running;
}

void DaemonFixture::stop() {
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return;
    m_process->terminate();
    if (!m_process->waitForFinished(15000)) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
}

void DaemonFixture::kill() {
    if (!m_process)
        return;
    m_process->kill();
    m_process->waitForFinished(5000);
}

QJsonObject DaemonFixture::call(const QString &method, const QJsonObject &params, int timeoutMs) const {
    QLocalSocket s;
    s.connectToServer(socketPath());
    if (!s.waitForConnected(timeoutMs))
        return {{QStringLiteral("transport_error"), s.errorString()}};
    static int nextId = 1;
    const int id = nextId++;
    const QJsonObject req{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                          {QStringLiteral("id"), id},
                          {QStringLiteral("method"), method},
                          {QStringLiteral("params"), params}};
    s.write(QJsonDocument(req).toJson(QJsonDocument::Compact) + '\n');
    QDeadlineTimer deadline(timeoutMs);
    QByteArray buffer;
    while (!deadline.hasExpired()) {
        if (!s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        buffer += s.readAll();
        qsizetype nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
            const QJsonObject msg = QJsonDocument::fromJson(buffer.left(nl)).object();
            buffer.remove(0, nl + 1);
            if (msg.value(QStringLiteral("id")).toInt() == id)
                return msg;
        }
    }
    return {{QStringLiteral("transport_error"),
             QStringLiteral("no answer to %1 within %2 ms").arg(method).arg(timeoutMs)}};
}

QJsonObject DaemonFixture::deploy(const QByteArray &manifestJson, const QString &sourceDir) const {
    return call(QStringLiteral("projects.deploy"),
                {{QStringLiteral("manifest"), QJsonDocument::fromJson(manifestJson).object()},
                 {QStringLiteral("source_dir"), sourceDir.isEmpty() ? dir() : sourceDir}},
                60000);
}

QJsonObject
DaemonFixture::deployOnFreePorts(const std::function<QJsonObject(const QList<quint16> &)> &manifestFor,
                                 QList<quint16> *ports, int count, bool udp, const QString &sourceDir) const {
    QJsonObject r;
    for (int attempt = 0; attempt < 5; ++attempt) {
        ports->clear();
        while (ports->size() < count) {
            const quint16 port = freePort(udp);
            if (port != 0 && !ports->contains(port))
                ports->append(port);
        }
        r = call(QStringLiteral("projects.deploy"),
                 {{QStringLiteral("manifest"), manifestFor(*ports)},
                  {QStringLiteral("source_dir"), sourceDir.isEmpty() ? dir() : sourceDir}},
                 60000);
        const QJsonObject error = r.value(QStringLiteral("error")).toObject();
        if (error.value(QStringLiteral("code")).toInt() != 1002)
            return r;
        const QJsonArray conflicts =
            error.value(QStringLiteral("data")).toObject().value(QStringLiteral("conflicts")).toArray();
        const bool takenByAnotherProgram =
            !conflicts.isEmpty() && std::all_of(conflicts.begin(), conflicts.end(), [](const QJsonValue &c) {
                return c.toObject().value(QStringLiteral("holder")).toString() == QLatin1String("host");
            });
        if (!takenByAnotherProgram)
            return r; // a conflict the test asked for
    }
    return r;
}

QJsonObject DaemonFixture::deployOnFreePorts(const QString &manifestTemplate, QList<quint16> *ports,
                                             int count, bool udp, const QString &sourceDir) const {
    return deployOnFreePorts(
        [&manifestTemplate](const QList<quint16> &picked) {
            QString manifest = manifestTemplate;
            for (quint16 port : picked)
                manifest = manifest.arg(port);
            return QJsonDocument::fromJson(manifest.toUtf8()).object();
        },
        ports, count, udp, sourceDir);
}

QStringList DaemonFixture::logLines(const QString &project, int lines) const {
    const QJsonArray got = call(QStringLiteral("projects.logs"),
                                {{QStringLiteral("name"), project}, {QStringLiteral("lines"), lines}})
                               .value(QStringLiteral("result"))
                               .toObject()
                               .value(QStringLiteral("lines"))
                               .toArray();
    QStringList out;
    for (const QJsonValue &line : got)
        out.append(line.isObject() ? line.toObject().value(QStringLiteral("text")).toString()
                                   : line.toString());
    return out;
}

DaemonFixture::HttpReply DaemonFixture::httpGet(quint16 port, const QByteArray &path, int timeoutMs) {
    return httpRequest(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                       timeoutMs);
}

DaemonFixture::HttpReply DaemonFixture::httpRequest(quint16 port, const QByteArray &request, int timeoutMs) {
    HttpReply reply;
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(timeoutMs))
        return reply;
    s.write(request);
    QByteArray data;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && s.state() == QAbstractSocket::ConnectedState) {
        if (s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            data += s.readAll();
    }
    data += s.readAll();
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0)
        return reply;
    reply.headers = data.left(end);
    reply.body = data.mid(end + 4);
    const QList<QByteArray> statusLine = reply.headers.split('\n').value(0).split(' ');
    reply.status = statusLine.value(1).toInt();
    if (reply.headers.toLower().contains("transfer-encoding: chunked")) {
        // De-chunk for convenience.
        QByteArray out;
        QByteArray in = reply.body;
        while (true) {
            const qsizetype nl = in.indexOf("\r\n");
            if (nl < 0)
                break;
            bool ok = false;
            const qsizetype size = in.left(nl).split(';').value(0).toLongLong(&ok, 16);
            if (!ok || size == 0)
                break;
            out += in.mid(nl + 2, size);
            in.remove(0, nl + 2 + size + 2);
        }
        reply.body = out;
    }
    return reply;
}

} // namespace portico::test

#pragma once

#include "httpserver.h"
#include "httpwire.h"

#include <http_parser.h>

#include <QElapsedTimer>
#include <QJsonObject>
#include <QTimer>

#include <memory>

class QFile;
class QTcpSocket;

namespace portico::http {

class BackendLink;
struct ParserCallbacks;

// One client connection of an HTTP listener (ingress or dedicated port). Requests are
// handled one at a time, in order: the request parser pauses at the end of each message,
// so pipelined requests wait in the socket buffer until the previous answer is written.
// Bodies are relayed as they arrive; reading a side stops while the other side's write
// buffer is over Config::relayBufferBytes. On 101 the connection becomes a byte tunnel.
class HttpSession final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpSession)
public:
    HttpSession(QTcpSocket *client, std::shared_ptr<const HttpListenerContext> context, QObject *parent);
    ~HttpSession() override;
    void start();
    // Finish after the current answer; closes an idle connection now. False if already gone.
    bool drain();
    bool isAlive() const { return !m_dead; }

private:
    friend struct ParserCallbacks;
    enum class Phase { Head, Connecting, Exchange, LocalBody, Tunnel, Closing };

    struct Request {
        unsigned method = 0;
        QByteArray methodName;
        QByteArray url;
        Headers headers;
        int major = 1;
        int minor = 1;
        bool keepAlive = true;
        bool chunked = false;
        qint64 contentLength = -1;
        bool upgrade = false;
        quint64 bodyBytes = 0;
        bool hasBody() const { return chunked || contentLength > 0; }
    };

    // Client side
    void onClientReadyRead();
    void onClientBytesWritten();
    void onClientClosed();
    void readHead();
    void beginRequest(int headLength);
    void dispatchRequest();
    QByteArray readClient(qint64 max);
    void writeClient(const QByteArray &data);
    void writeClient(const char *data, qint64 length);
    size_t feedRequest(const char *data, size_t length);

    // Local answers
    void fail(int status, const QString &message, QJsonObject extra = {});
    void localReply(int status, const Headers &headers, const QByteArray &body, bool forceClose = false);
    void replyJson(int status, const QByteArray &json, const Headers &extraHeaders = {},
                   bool forceClose = false);
    void serveStatic(const QString &root, const QByteArray &path);
    void pumpFile();
    void endExchange(bool close);
    void closeClient();
    void lingerAfterFlush();
    void teardown();

    // Backend side
    void proxyTo(const BackendTarget &target);
    void connectBackend(bool allowPooled);
    void onBackendConnected();
    void onBackendClosed();
    void onBackendBytesWritten();
    void onBackendTimeout();
    void sendRequestHead();
    QByteArray buildBackendHead() const;
    void pumpRequestBody();
    void pumpResponse();
    void handleBackendEof();
    size_t feedResponse(const char *data, size_t length);
    int onResponseHeadersComplete();
    void writeResponseHead();
    void maybeFinishExchange();
    void releaseBackend(bool reuse);
    bool retryable() const;

    // Tunnel: on 101 both connections are handed to a TcpRelay (real half-close)
    void startTunnel();
    void handOverTunnel();
    void closeTunnelDescriptors();
    void countOut(quint64 n);

    void attachProjectStats(std::shared_ptr<RouteStats> stats);
    void addError();

    QTcpSocket *m_client;
    std::shared_ptr<const HttpListenerContext> m_ctx;
    const Config &m_cfg;
    std::shared_ptr<RouteStats> m_connStats;
    std::shared_ptr<RouteStats> m_projStats;
    QString m_clientAddress;

    Phase m_phase = Phase::Head;
    QByteArray m_inBuf; // client bytes read but not yet parsed
    http_parser m_reqParser{};
    Request m_req;
    QByteArray m_field;
    QByteArray m_value;
    bool m_inValue = false;
    int m_headerCount = 0;
    int m_headErrorStatus = 0;
    QByteArray m_headError;
    bool m_headDone = false;
    bool m_requestComplete = false;
    bool m_bodyTooLarge = false;
    bool m_clientClosed = false;

    // The exchange
    std::shared_ptr<const RouteTable> m_table;
    QString m_projectName;
    QByteArray m_prefix;        // "/<project>" on the ingress, empty on a dedicated port
    QByteArray m_backendTarget; // request-target sent to the backend
    BackendTarget m_target;
    BackendLink *m_backend = nullptr;
    bool m_backendReused = false;
    int m_attempts = 0;
    QByteArray m_backendHead;
    http_parser m_resParser{};
    Headers m_resHeaders;
    QByteArray m_resReason;
    int m_resStatus = 0;
    int m_resHeaderCount = 0;
    bool m_resInterim = false;
    bool m_resError = false;
    bool m_responseStarted = false;
    bool m_responseHeadSent = false;
    bool m_responseComplete = false;
    bool m_chunkedToClient = false;
    bool m_backendKeepAlive = false;
    bool m_upgraded = false;
    bool m_closeAfter = false;
    QByteArray m_backendLeftover;
    int m_lastStatus = 0;
    bool m_localError = false;

    std::unique_ptr<QFile> m_file;
    qint64 m_fileRemaining = 0;

    QElapsedTimer m_clock;
    quint64 m_exBytesIn = 0;
    quint64 m_exBytesOut = 0;

    int m_tunnelClientFd = -1;  // dup of the client's descriptor until the handover
    int m_tunnelBackendFd = -1; // dup of the backend's descriptor until the handover
    QByteArray m_tunnelHead;    // the 101 head, when Qt's client socket was already closed
    QByteArray m_tunnelToVisitor;
    QByteArray m_tunnelToBackend;
    bool m_flushingTunnel = false;

    QTimer m_headerTimer;
    QTimer m_idleTimer;
    QTimer m_backendTimer;
    QTimer m_tunnelTimer;
    QTimer m_lingerTimer;
    bool m_dead = false;
    bool m_draining = false;
};

} // namespace portico::http

#pragma once

#include "backendpool.h"
#include "chunked.h"
#include "httphead.h"
#include "net/conn/bytequeue.h"
#include "net/conn/connection.h"
#include "net/conn/connector.h"
#include "net/conn/readbuffer.h"
#include "net/conn/relay.h"
#include "net/conn/socket.h"
#include "net/loop/deadlines.h"
#include "router.h"

#include <QByteArray>
#include <QString>

#include <array>
#include <memory>
#include <string>

namespace portico::http {

// One client connection of an HTTP listener (ingress or dedicated port), on raw
// descriptors. Requests are handled one at a time, in order: the next pipelined request
// is not read before the current answer is complete. Bodies are relayed as they arrive;
// reading a side stops while the other side has relayBufferBytes waiting (backpressure).
// A client that half-closes after its request still gets every answer. On 101 the same
// connection stops parsing and relays bytes (Relay): no descriptor changes hands.
//
// The work is split by responsibility:
// - httpconnection.cpp: the client side (reading heads, keep-alive, local answers,
//   timeouts, closing);
// - httpexchange.cpp: the backend side of a proxied request (connect or reuse, request
//   and response framing, the 101 tunnel);
// - staticserve.cpp: static files (sendfile);
// - router.cpp decides what each request gets, httphead/httpwire/chunked parse and frame.
//
// It holds a buffer only while it has bytes to hold: an idle keep-alive connection is a
// few hundred bytes of state and no buffer.
class HttpConnection final : public Connection, private ConnectWaiter, private BackendUser {
public:
    explicit HttpConnection(std::shared_ptr<const HttpListenerContext> context);
    ~HttpConnection() override;

    void start(int fd) override;
    void drain() override;
    void abort() override { teardown(); }
    bool isIdleHttp() const override { return m_phase == Phase::Idle && m_in.isEmpty(); }
    bool isHttp() const override { return m_phase != Phase::Tunnel; }

private:
    enum class Phase : quint8 { Idle, Head, Connecting, Exchange, LocalBody, Tunnel, Closing };
    enum class BodyFraming : quint8 { None, Length, Chunked, UntilClose };

    struct ClientSide final : IoHandler {
        HttpConnection *c = nullptr;
        void onIo(quint32 events) override;
    };

    // ---- client side (httpconnection.cpp)
    void drive();
    void readHead();
    void beginRequest(int headLength);
    void answerLocal(const Decision &d);
    void reply(int status, QByteArrayView contentType, QByteArrayView body, bool close,
               QByteArrayView extraName = {}, QByteArrayView extraValue = {});
    void fail(int status, const QString &message, const QJsonObject &extra = {});
    bool sendClient(const iovec *iov, int count);
    bool sendClient(QByteArrayView data);
    bool flushClient();
    void endExchange(bool close);
    void closeClient();
    void linger();
    void teardown();
    void onTimeout();
    void armTimer(int ms);
    void countIn(quint64 n);
    void countOut(quint64 n);
    void addError(ErrorKind kind);
    void attachProjectStats(const std::shared_ptr<RouteStats> &stats);
    void releaseInFlight();
    void logExchange(int status);
    qint64 bound() const;

    // ---- backend side (httpexchange.cpp)
    void onBackendEvent() override;
    void onConnectDecided(bool connected) override;
    void startProxy(const Decision &d);
    void connectBackend(bool allowPooled);
    void backendConnected();
    void backendRefused(); // 502 with the connector's reason
    void exchange();
    bool pumpRequestBody();
    bool pumpResponse();
    bool handleResponseHead(int headLength);
    bool forwardResponseBody();
    void backendEof();
    bool retryable() const;
    void finishExchange();
    void releaseBackend(bool reuse);
    void startTunnel();
    void pumpTunnel();
    bool sendBackend(const iovec *iov, int count);

    // ---- static files (staticserve.cpp)
    void serveStatic(const Decision &d);
    void pumpFile();
    void closeFile();

    std::shared_ptr<const HttpListenerContext> m_ctx;
    const Config &m_cfg;
    EventLoop *m_loop = nullptr;
    Socket m_client;
    ClientSide m_clientSide;
    ReadBuffer m_in; // client bytes read, not yet consumed
    ByteQueue m_out; // bytes for the client the kernel did not take yet
    Phase m_phase = Phase::Idle;
    int m_scanFrom = 0; // where the head scan resumes

    // The request in progress (its head was parsed; views into m_in are gone by now).
    struct Request {
        unsigned method = 0;
        quint8 major = 1;
        quint8 minor = 1;
        bool keepAlive = true;
        bool head = false; // HEAD: no body in the answer
        bool upgrade = false;
        BodyFraming framing = BodyFraming::None;
        qint64 remaining = 0; // Length: body bytes still to relay
        quint64 bodyBytes = 0;
        bool complete = false; // the whole request (body included) was read
        bool idempotent = false;
    } m_req;
    ChunkedDecoder m_reqChunks;
    std::shared_ptr<const RouteTable> m_table; // held for the exchange
    const ProjectRoute *m_route = nullptr;
    std::atomic<int> *m_inflight = nullptr; // the route's in-flight count (m_table keeps it alive)
    std::shared_ptr<RouteStats> m_connStats;
    std::shared_ptr<RouteStats> m_projStats;
    std::array<char, 64> m_prefix{}; // "/<project>" on the ingress (names are at most 63 bytes)
    quint8 m_prefixLength = 0;
    QByteArrayView prefix() const { return {m_prefix.data(), m_prefixLength}; }
    QString m_project;
    int m_status = 0; // of the answer in progress (for the log)
    bool m_localError = false;
    bool m_closeAfter = false;
    bool m_clientEof = false;
    bool m_draining = false;
    bool m_done = false;
    quint64 m_exIn = 0; // bytes of this exchange, for the access log
    quint64 m_exOut = 0;
    qint64 m_exStartUs = 0;
    QByteArray m_logMethod; // only with the access log on
    QByteArray m_logPath;

    // The backend side of a proxied request.
    BackendConn *m_backend = nullptr; // owned while set
    BackendTarget m_target;
    Connector m_connector;
    ByteQueue m_toBackend; // request bytes the backend did not take yet
    ByteQueue m_retryHead; // the request head, while a retry on a fresh connection is possible
    ReadBuffer m_resIn;    // backend bytes read, not yet relayed
    int m_resScanFrom = 0;
    bool m_backendReused = false;
    quint8 m_attempts = 0;
    bool m_responseStarted = false;  // a byte of the answer arrived
    bool m_responseHeadSent = false; // the final head went to the client
    // The final head is in scratch().head, to go out with the body bytes that came with it
    // (set and cleared within one call of pumpResponse).
    bool m_headPending = false;
    bool m_responseComplete = false;
    bool m_chunkedToClient = false;
    bool m_backendKeepAlive = false;
    int m_resStatus = 0;
    BodyFraming m_resFraming = BodyFraming::None;
    qint64 m_resRemaining = 0;
    ChunkedDecoder m_resChunks;

    // Static file
    int m_fileFd = -1;
    off_t m_fileOffset = 0;
    qint64 m_fileRemaining = 0;

    // After a 101
    std::unique_ptr<Relay> m_tunnel;

    void onTimer() { onTimeout(); }
    Timeout<HttpConnection, &HttpConnection::onTimer> m_timer{this};
};

} // namespace portico::http

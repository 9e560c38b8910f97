#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QMetaType>
#include <QString>

#include <optional>

class QIODevice;

// The admin protocol's wire format: JSON-RPC 2.0, one compact JSON object per line.
// Names and codes live in protocol.h; the reference is docs/admin-protocol.md.
namespace portico::jsonrpc {

// Client-side only (never sent by the daemon): the connection went away before a reply.
inline constexpr int kConnectionLost = -32000;

// One message of the protocol: a request, a notification, a response or an error.
class Message {
public:
    enum class Kind { Request, Notification, Response, Error };

    static Message request(const QJsonValue &id, const QString &method, const QJsonObject &params = {});
    static Message notification(const QString &method, const QJsonObject &params = {});
    static Message response(const QJsonValue &id, const QJsonValue &result);
    static Message error(const QJsonValue &id, int code, const QString &message,
                         const QJsonObject &data = {});

    Kind kind() const { return m_kind; }
    bool isRequest() const { return m_kind == Kind::Request; }
    bool isNotification() const { return m_kind == Kind::Notification; }
    bool isResponse() const { return m_kind == Kind::Response; }
    bool isError() const { return m_kind == Kind::Error; }

    QJsonValue id() const { return m_id; } // null for notifications
    QString method() const { return m_method; }
    // Request params as sent: an object, an array, or undefined when absent.
    QJsonValue params() const { return m_params; }
    QJsonValue result() const { return m_result; }
    int errorCode() const { return m_errorCode; }
    QString errorMessage() const { return m_errorMessage; }
    QJsonObject errorData() const { return m_errorData; }

    QJsonObject toJson() const;
    // One compact JSON line terminated by '\n' (JSON escapes every raw newline).
    QByteArray serialize() const;

    // Parses one line (without or with its trailing newline). Never throws; a failure
    // carries the JSON-RPC code and, when it could be read, the id to answer with.
    static std::optional<Message> parse(const QByteArray &line, int *errorCode = nullptr,
                                        QString *error = nullptr, QJsonValue *id = nullptr);
    static std::optional<Message> fromJson(const QJsonValue &json, int *errorCode = nullptr,
                                           QString *error = nullptr, QJsonValue *id = nullptr);

private:
    Kind m_kind = Kind::Notification;
    QJsonValue m_id;
    QString m_method;
    QJsonValue m_params = QJsonValue(QJsonValue::Undefined);
    QJsonValue m_result;
    int m_errorCode = 0;
    QString m_errorMessage;
    QJsonObject m_errorData;
};

// Splits a byte stream into lines of at most maxLineBytes (newline excluded). Reads only
// while the device holds a whole line, so one readyRead is never taken for one message.
class LineReader {
public:
    enum class Status { Line, Incomplete, TooLong };
    explicit LineReader(qint64 maxLineBytes) : m_max(maxLineBytes) {}
    qint64 maxLineBytes() const { return m_max; }
    // Line: *line holds the next line without "\n" / "\r\n". Incomplete: wait for more.
    // TooLong: a line (complete or not) is over the limit; the stream cannot be resynced.
    Status next(QIODevice *device, QByteArray *line) const;
    // The same on a buffer, from *pos (moved past the line it returns). Looks at no more
    // than maxLineBytes + 2 bytes, however much is buffered.
    Status next(const QByteArray &buffer, qsizetype *pos, QByteArray *line) const;

private:
    qint64 m_max;
};

} // namespace portico::jsonrpc

Q_DECLARE_METATYPE(portico::jsonrpc::Message)

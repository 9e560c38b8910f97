#include "jsonrpc.h"

#include "jsonkeys.h"
#include "protocol.h"

#include <QIODevice>
#include <QJsonArray>
#include <QJsonDocument>

#include <cstring>

namespace portico::jsonrpc {

namespace {

const QString kJsonRpc = QStringLiteral("jsonrpc");
const QString kVersion20 = QStringLiteral("2.0");
const QString kId = QStringLiteral("id");
const QString kMethod = QStringLiteral("method");
const QString kParams = QStringLiteral("params");
const QString kResult = QStringLiteral("result");
const QString kError = QStringLiteral("error");
const QString kCode = QStringLiteral("code");
const QString kMessage = QStringLiteral("message");
const QString kData = QStringLiteral("data");

bool validId(const QJsonValue &id) {
    return id.isString() || id.isDouble() || id.isNull();
}

std::optional<Message> fail(int code, const QString &message, const QJsonValue &id, int *errorCode,
                            QString *error, QJsonValue *idOut) {
    if (errorCode)
        *errorCode = code;
    if (error)
        *error = message;
    if (idOut)
        *idOut = id;
    return std::nullopt;
}

} // namespace

Message Message::request(const QJsonValue &id, const QString &method, const QJsonObject &params) {
    Message m;
    m.m_kind = Kind::Request;
    m.m_id = id;
    m.m_method = method;
    m.m_params = params;
    return m;
}

Message Message::notification(const QString &method, const QJsonObject &params) {
    Message m;
    m.m_kind = Kind::Notification;
    m.m_id = QJsonValue(QJsonValue::Null);
    m.m_method = method;
    m.m_params = params;
    return m;
}

Message Message::response(const QJsonValue &id, const QJsonValue &result) {
    Message m;
    m.m_kind = Kind::Response;
    m.m_id = id;
    // A JSON-RPC response must carry "result"; undefined would drop the key.
    m.m_result = result.isUndefined() ? QJsonValue(QJsonValue::Null) : result;
    return m;
}

Message Message::error(const QJsonValue &id, int code, const QString &message, const QJsonObject &data) {
    Message m;
    m.m_kind = Kind::Error;
    m.m_id = id.isUndefined() ? QJsonValue(QJsonValue::Null) : id;
    m.m_errorCode = code;
    m.m_errorMessage = message;
    m.m_errorData = data;
    return m;
}

QJsonObject Message::toJson() const {
    QJsonObject o{{kJsonRpc, kVersion20}};
    switch (m_kind) {
    case Kind::Request:
        o.insert(kId, m_id);
        o.insert(kMethod, m_method);
        if (!m_params.isUndefined())
            o.insert(kParams, m_params);
        break;
    case Kind::Notification:
        o.insert(kMethod, m_method);
        if (!m_params.isUndefined())
            o.insert(kParams, m_params);
        break;
    case Kind::Response:
        o.insert(kId, m_id);
        o.insert(kResult, m_result);
        break;
    case Kind::Error: {
        QJsonObject e{{kCode, m_errorCode}, {kMessage, m_errorMessage}};
        if (!m_errorData.isEmpty())
            e.insert(kData, m_errorData);
        o.insert(kId, m_id);
        o.insert(kError, e);
        break;
    }
    }
    return o;
}

QByteArray Message::serialize() const {
    QByteArray line = QJsonDocument(toJson()).toJson(QJsonDocument::Compact);
    line.append('\n');
    return line;
}

std::optional<Message> Message::parse(const QByteArray &line, int *errorCode, QString *error,
                                      QJsonValue *id) {
    QByteArray body = line;
    while (body.endsWith('\n') || body.endsWith('\r'))
        body.chop(1);
    const QJsonValue null(QJsonValue::Null);
    if (body.trimmed().isEmpty())
        return fail(protocol::error::ParseError, QStringLiteral("empty line"), null, errorCode, error, id);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return fail(protocol::error::ParseError,
                    QStringLiteral("invalid JSON: %1 at byte %2").arg(pe.errorString()).arg(pe.offset), null,
                    errorCode, error, id);
    if (doc.isArray())
        return fail(protocol::error::InvalidRequest, QStringLiteral("batch requests are not supported"), null,
                    errorCode, error, id);
    const QJsonObject o = doc.object();
    if (json::hasDuplicateKeys(body, o)) {
        // QJsonDocument kept the last of them: which one the sender meant is unknowable,
        // so nothing of it is acted on ("method" twice must not pick one).
        const QString key = json::firstDuplicateKey(body);
        const QJsonValue rawId = o.value(kId);
        const QJsonValue answerId = key != kId && validId(rawId) ? rawId : null;
        return fail(protocol::error::InvalidRequest,
                    QStringLiteral("duplicate key \"%1\": a key may appear only once in an object")
                        .arg(key.left(200)),
                    answerId, errorCode, error, id);
    }
    return fromJson(o, errorCode, error, id);
}

std::optional<Message> Message::fromJson(const QJsonValue &json, int *errorCode, QString *error,
                                         QJsonValue *idOut) {
    const QJsonValue null(QJsonValue::Null);
    if (!json.isObject())
        return fail(protocol::error::InvalidRequest, QStringLiteral("a message must be a JSON object"), null,
                    errorCode, error, idOut);
    const QJsonObject o = json.toObject();
    const QJsonValue rawId = o.value(kId);
    const QJsonValue id = validId(rawId) ? rawId : null;
    if (o.value(kJsonRpc) != QJsonValue(kVersion20))
        return fail(protocol::error::InvalidRequest, QStringLiteral("\"jsonrpc\" must be \"2.0\""), id,
                    errorCode, error, idOut);
    if (!rawId.isUndefined() && !validId(rawId))
        return fail(protocol::error::InvalidRequest,
                    QStringLiteral("\"id\" must be a string, a number or null"), null, errorCode, error,
                    idOut);

    Message m;
    if (o.contains(kMethod)) {
        const QJsonValue method = o.value(kMethod);
        if (!method.isString() || method.toString().isEmpty())
            return fail(protocol::error::InvalidRequest,
                        QStringLiteral("\"method\" must be a non-empty string"), id, errorCode, error, idOut);
        const QJsonValue params = o.value(kParams);
        if (!params.isUndefined() && !params.isObject() && !params.isArray())
            return fail(protocol::error::InvalidRequest,
                        QStringLiteral("\"params\" must be an object or an array"), id, errorCode, error,
                        idOut);
        if (o.contains(kResult) || o.contains(kError))
            return fail(protocol::error::InvalidRequest,
                        QStringLiteral("a request cannot carry \"result\" or \"error\""), id, errorCode,
                        error, idOut);
        m.m_kind = rawId.isUndefined() ? Kind::Notification : Kind::Request;
        m.m_id = rawId.isUndefined() ? null : rawId;
        m.m_method = method.toString();
        m.m_params = params;
        return m;
    }
    if (rawId.isUndefined())
        return fail(protocol::error::InvalidRequest, QStringLiteral("not a request: \"method\" is missing"),
                    null, errorCode, error, idOut);
    const bool hasResult = o.contains(kResult);
    const bool hasError = o.contains(kError);
    if (hasResult == hasError)
        return fail(
            protocol::error::InvalidRequest,
            QStringLiteral("not a request: \"method\" is missing, and a response needs exactly one of "
                           "\"result\" and \"error\""),
            id, errorCode, error, idOut);
    m.m_id = rawId;
    if (hasResult) {
        m.m_kind = Kind::Response;
        m.m_result = o.value(kResult);
        return m;
    }
    const QJsonValue e = o.value(kError);
    const QJsonValue code = e.toObject().value(kCode);
    if (!e.isObject() || !code.isDouble() || double(code.toInt()) != code.toDouble() ||
        !e.toObject().value(kMessage).isString())
        return fail(
            protocol::error::InvalidRequest,
            QStringLiteral("\"error\" must be an object with an integer \"code\" and a string \"message\""),
            id, errorCode, error, idOut);
    m.m_kind = Kind::Error;
    m.m_errorCode = code.toInt();
    m.m_errorMessage = e.toObject().value(kMessage).toString();
    m.m_errorData = e.toObject().value(kData).toObject();
    return m;
}

LineReader::Status LineReader::next(QIODevice *device, QByteArray *line) const {
    if (!device->canReadLine()) {
        // The buffer's rule below, which must agree: over the limit with more than max bytes,
        // except for a "\r" right after them, which may start the line's "\r\n".
        const qint64 available = device->bytesAvailable();
        if (available == m_max + 1)
            return device->peek(m_max + 1).endsWith('\r') ? Status::Incomplete : Status::TooLong;
        return available > m_max ? Status::TooLong : Status::Incomplete;
    }
    // Room for the limit, "\r\n", and one byte more to notice a line over the limit.
    QByteArray l = device->readLine(m_max + 3);
    if (!l.endsWith('\n'))
        return Status::TooLong;
    l.chop(1);
    if (l.endsWith('\r'))
        l.chop(1);
    if (l.size() > m_max)
        return Status::TooLong;
    *line = l;
    return Status::Line;
}

LineReader::Status LineReader::next(const QByteArray &buffer, qsizetype *pos, QByteArray *line) const {
    const qsizetype start = *pos;
    const qsizetype available = buffer.size() - start;
    if (available <= 0)
        return Status::Incomplete;
    // A line within the limit has its "\n" among its first max + 2 bytes (max, "\r", "\n").
    const qsizetype window = qMin<qsizetype>(available, m_max + 2);
    const char *begin = buffer.constData() + start;
    const auto *nl = static_cast<const char *>(std::memchr(begin, '\n', size_t(window)));
    if (!nl) {
        // Over the limit as soon as it has more than max bytes, except for a "\r" right after
        // them: that may be the start of the line's "\r\n". (Waiting for max + 2 bytes left a
        // line of exactly max + 1 unanswered until the idle timeout.)
        const bool over = available > m_max + 1 || (available == m_max + 1 && begin[m_max] != '\r');
        return over ? Status::TooLong : Status::Incomplete;
    }
    qsizetype length = nl - begin;
    const qsizetype consumed = length + 1;
    if (length > 0 && begin[length - 1] == '\r')
        --length;
    if (length > m_max)
        return Status::TooLong;
    *line = QByteArray(begin, length);
    *pos = start + consumed;
    return Status::Line;
}

} // namespace portico::jsonrpc

// The admin protocol's reader on arbitrary bytes: the line reader (on a buffer and on a
// QIODevice, which must agree), then every line through Message::parse and the
// duplicate-key check. Never a crash; a line is never over the limit; what parses
// survives serialize() and parse() again.
#include "jsonrpc.h"
#include "fuzztarget.h"
#include "jsonkeys.h"

#include <QBuffer>
#include <QJsonArray>
#include <QJsonDocument>

using namespace portico;
using jsonrpc::LineReader;
using jsonrpc::Message;

namespace {

void checkLine(const QByteArray &line) {
    int code = 0;
    QString error;
    QJsonValue id;
    const auto msg = Message::parse(line, &code, &error, &id);
    if (!msg) {
        PORTICO_FUZZ_CHECK(code < 0 && !error.isEmpty());
        PORTICO_FUZZ_CHECK(id.isNull() || id.isString() || id.isDouble());
        return;
    }
    const QByteArray wire = msg->serialize();
    PORTICO_FUZZ_CHECK(wire.endsWith('\n') && wire.count('\n') == 1);
    const auto back = Message::parse(wire);
    PORTICO_FUZZ_CHECK(back.has_value());
    PORTICO_FUZZ_CHECK(back->toJson() == msg->toJson());
}

} // namespace

PORTICO_FUZZ_TARGET(jsonrpc) {
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    // A small limit, so that the fuzzer reaches it.
    const LineReader reader(256);
    QBuffer device;
    device.setData(bytes);
    device.open(QIODevice::ReadOnly);
    qsizetype pos = 0;
    for (;;) {
        QByteArray fromBuffer;
        QByteArray fromDevice;
        const auto a = reader.next(bytes, &pos, &fromBuffer);
        const auto b = reader.next(&device, &fromDevice);
        PORTICO_FUZZ_CHECK(a == b);
        if (a != LineReader::Status::Line)
            break;
        PORTICO_FUZZ_CHECK(fromBuffer == fromDevice);
        PORTICO_FUZZ_CHECK(fromBuffer.size() <= reader.maxLineBytes());
        checkLine(fromBuffer);
    }
    // The whole input as one request, as a client may send it.
    checkLine(bytes);
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    if (!doc.isNull()) {
        const QJsonValue v = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
        PORTICO_FUZZ_CHECK(json::hasDuplicateKeys(bytes, v) == !json::firstDuplicateKey(bytes).isEmpty());
    }
    return 0;
}

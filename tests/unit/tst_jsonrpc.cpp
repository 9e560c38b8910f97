// The admin protocol's wire format: message shapes, parse failures, line framing.
#include "jsonkeys.h"
#include "jsonrpc.h"
#include "protocol.h"

#include <QBuffer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace portico;
using jsonrpc::LineReader;
using jsonrpc::Message;

class TestJsonRpc final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void serializeIsOneCompactLine();
    void roundTrip_data();
    void roundTrip();
    void parseFailures_data();
    void parseFailures();
    void duplicateKeyIsNamed_data();
    void duplicateKeyIsNamed();
    void framing_data();
    void framing();
    void framingAcrossChunks();
    void partialLineOverCapIsTooLong();
    void bufferFraming_data();
    void bufferFraming();
    void bufferPartialLine_data();
    void bufferPartialLine();
    void readersAgreeAtTheLimit_data();
    void readersAgreeAtTheLimit();
};

void TestJsonRpc::serializeIsOneCompactLine() {
    const QByteArray line = Message::request(7, QStringLiteral("projects.get"),
                                             {{QStringLiteral("name"), QStringLiteral("a\nb")}})
                                .serialize();
    QVERIFY(line.endsWith('\n'));
    QCOMPARE(line.count('\n'), 1); // the embedded newline is escaped
    QVERIFY(!line.contains(' '));
    const QJsonObject o = QJsonDocument::fromJson(line).object();
    QCOMPARE(o.value("jsonrpc").toString(), QStringLiteral("2.0"));
    QCOMPARE(o.value("id").toInt(), 7);
    QCOMPARE(o.value("method").toString(), QStringLiteral("projects.get"));
    QCOMPARE(o.value("params").toObject().value("name").toString(), QStringLiteral("a\nb"));

    const QJsonObject err =
        QJsonDocument::fromJson(Message::error(3, protocol::error::Conflict, QStringLiteral("busy"),
                                               {{QStringLiteral("conflicts"), QJsonArray{1}}})
                                    .serialize())
            .object();
    QCOMPARE(err.value("error").toObject().value("code").toInt(), protocol::error::Conflict);
    QCOMPARE(err.value("error").toObject().value("data").toObject().value("conflicts").toArray().size(), 1);
    QVERIFY(!err.contains("result"));

    const QJsonObject resp = QJsonDocument::fromJson(Message::response(4, QJsonValue()).serialize()).object();
    QVERIFY(resp.contains("result")); // null, but present
    const QJsonObject note =
        QJsonDocument::fromJson(Message::notification(QStringLiteral("event"), {{"kind", "x"}}).serialize())
            .object();
    QVERIFY(!note.contains("id"));
}

// Both directions against wire text written out by hand (the spec's form, keys in the
// order QJsonDocument writes them), not against what the code under test produced.
void TestJsonRpc::roundTrip_data() {
    QTest::addColumn<Message>("message");
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QJsonValue>("id");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonValue>("payload"); // params, or result
    QTest::addColumn<int>("errorCode");
    QTest::addColumn<QString>("errorMessage");
    QTest::addColumn<QJsonObject>("errorData");
    const QJsonValue none;
    QTest::newRow("request-int-id") << Message::request(1, QStringLiteral("daemon.info"))
                                    << QByteArray(
                                           R"({"id":1,"jsonrpc":"2.0","method":"daemon.info","params":{}})")
                                    << int(Message::Kind::Request) << QJsonValue(1) << "daemon.info"
                                    << QJsonValue(QJsonObject()) << 0 << QString() << QJsonObject();
    QTest::newRow("request-string-id")
        << Message::request(QStringLiteral("abc"), QStringLiteral("routes.list"), {{QStringLiteral("x"), 1}})
        << QByteArray(R"({"id":"abc","jsonrpc":"2.0","method":"routes.list","params":{"x":1}})")
        << int(Message::Kind::Request) << QJsonValue(QStringLiteral("abc")) << "routes.list"
        << QJsonValue(QJsonObject{{"x", 1}}) << 0 << QString() << QJsonObject();
    QTest::newRow("notification")
        << Message::notification(QStringLiteral("event"),
                                 {{QStringLiteral("kind"), QStringLiteral("stats.tick")}})
        << QByteArray(R"({"jsonrpc":"2.0","method":"event","params":{"kind":"stats.tick"}})")
        << int(Message::Kind::Notification) << QJsonValue(QJsonValue::Null) << "event"
        << QJsonValue(QJsonObject{{"kind", "stats.tick"}}) << 0 << QString() << QJsonObject();
    QTest::newRow("response") << Message::response(2, QJsonObject{{QStringLiteral("routes"), QJsonArray()}})
                              << QByteArray(R"({"id":2,"jsonrpc":"2.0","result":{"routes":[]}})")
                              << int(Message::Kind::Response) << QJsonValue(2) << QString()
                              << QJsonValue(QJsonObject{{"routes", QJsonArray()}}) << 0 << QString()
                              << QJsonObject();
    QTest::newRow("error-with-data")
        << Message::error(3, protocol::error::ValidationFailed, QStringLiteral("bad"),
                          {{QStringLiteral("errors"),
                            QJsonArray{QJsonObject{{"path", "name"}, {"message", "missing"}}}}})
        << QByteArray(
               R"({"error":{"code":1001,"data":{"errors":[{"message":"missing","path":"name"}]},"message":"bad"},"id":3,"jsonrpc":"2.0"})")
        << int(Message::Kind::Error) << QJsonValue(3) << QString() << none << 1001 << "bad"
        << QJsonObject{{"errors", QJsonArray{QJsonObject{{"path", "name"}, {"message", "missing"}}}}};
    QTest::newRow("error-null-id")
        << Message::error(QJsonValue(QJsonValue::Null), protocol::error::ParseError,
                          QStringLiteral("invalid JSON"))
        << QByteArray(R"({"error":{"code":-32700,"message":"invalid JSON"},"id":null,"jsonrpc":"2.0"})")
        << int(Message::Kind::Error) << QJsonValue(QJsonValue::Null) << QString() << none << -32700
        << "invalid JSON" << QJsonObject();
}

void TestJsonRpc::roundTrip() {
    QFETCH(Message, message);
    QFETCH(QByteArray, wire);
    QFETCH(int, kind);
    QFETCH(QJsonValue, id);
    QFETCH(QString, method);
    QFETCH(QJsonValue, payload);
    QFETCH(int, errorCode);
    QFETCH(QString, errorMessage);
    QFETCH(QJsonObject, errorData);
    // Out: exactly the wire text, one line.
    QCOMPARE(message.serialize(), wire + '\n');
    // In: every field read off the wire text.
    int code = 0;
    QString error;
    const auto parsed = Message::parse(wire, &code, &error);
    QVERIFY2(parsed.has_value(), qPrintable(error));
    QCOMPARE(int(parsed->kind()), kind);
    QCOMPARE(parsed->id(), id);
    QCOMPARE(parsed->method(), method);
    if (kind == int(Message::Kind::Request) || kind == int(Message::Kind::Notification))
        QCOMPARE(parsed->params(), payload);
    if (kind == int(Message::Kind::Response))
        QCOMPARE(parsed->result(), payload);
    QCOMPARE(parsed->errorCode(), errorCode);
    QCOMPARE(parsed->errorMessage(), errorMessage);
    QCOMPARE(parsed->errorData(), errorData);
}

void TestJsonRpc::parseFailures_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("code");
    QTest::addColumn<QJsonValue>("id");
    const QJsonValue null(QJsonValue::Null);
    QTest::newRow("empty") << QByteArray("\n") << protocol::error::ParseError << null;
    QTest::newRow("garbage") << QByteArray("hello") << protocol::error::ParseError << null;
    QTest::newRow("truncated") << QByteArray(R"({"jsonrpc":"2.0","id":1,"meth)")
                               << protocol::error::ParseError << null;
    QTest::newRow("batch") << QByteArray(R"([{"jsonrpc":"2.0","id":1,"method":"x"}])")
                           << protocol::error::InvalidRequest << null;
    QTest::newRow("scalar") << QByteArray("42") << protocol::error::ParseError << null;
    QTest::newRow("no-version") << QByteArray(R"({"id":5,"method":"x"})") << protocol::error::InvalidRequest
                                << QJsonValue(5);
    QTest::newRow("wrong-version") << QByteArray(R"({"jsonrpc":"1.0","id":"a","method":"x"})")
                                   << protocol::error::InvalidRequest << QJsonValue("a");
    QTest::newRow("method-not-string") << QByteArray(R"({"jsonrpc":"2.0","id":6,"method":12})")
                                       << protocol::error::InvalidRequest << QJsonValue(6);
    QTest::newRow("params-scalar") << QByteArray(R"({"jsonrpc":"2.0","id":8,"method":"x","params":3})")
                                   << protocol::error::InvalidRequest << QJsonValue(8);
    QTest::newRow("id-object") << QByteArray(R"({"jsonrpc":"2.0","id":{},"method":"x"})")
                               << protocol::error::InvalidRequest << null;
    QTest::newRow("neither-method-nor-result")
        << QByteArray(R"({"jsonrpc":"2.0","id":9})") << protocol::error::InvalidRequest << QJsonValue(9);
    QTest::newRow("error-without-code") << QByteArray(R"({"jsonrpc":"2.0","id":10,"error":{"message":"x"}})")
                                        << protocol::error::InvalidRequest << QJsonValue(10);
    // QJsonDocument would keep the last of two equal keys: the request is refused instead.
    QTest::newRow("duplicate-method")
        << QByteArray(R"({"jsonrpc":"2.0","id":11,"method":"daemon.info","method":"projects.undeploy"})")
        << protocol::error::InvalidRequest << QJsonValue(11);
    QTest::newRow("duplicate-id") << QByteArray(R"({"jsonrpc":"2.0","id":12,"id":13,"method":"daemon.info"})")
                                  << protocol::error::InvalidRequest << null;
    QTest::newRow("duplicate-escaped")
        << QByteArray(R"({"jsonrpc":"2.0","id":14,"method":"a","\u006dethod":"b"})")
        << protocol::error::InvalidRequest << QJsonValue(14);
    QTest::newRow("duplicate-in-params")
        << QByteArray(
               R"({"jsonrpc":"2.0","id":15,"method":"x","params":{"manifest":{"name":"a","name":"b"}}})")
        << protocol::error::InvalidRequest << QJsonValue(15);
    QTest::newRow("duplicate-in-array-element")
        << QByteArray(R"({"jsonrpc":"2.0","id":16,"method":"x","params":{"l":[{"p":1},{"p":2,"p":3}]}})")
        << protocol::error::InvalidRequest << QJsonValue(16);
}

void TestJsonRpc::duplicateKeyIsNamed_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("key"); // empty: no duplicate
    QTest::newRow("method") << QByteArray(R"({"jsonrpc":"2.0","id":1,"method":"a","method":"b"})")
                            << "method";
    QTest::newRow("nested") << QByteArray(R"({"params":{"manifest":{"name":"a","env":{},"name":"b"}}})")
                            << "params.manifest.name";
    QTest::newRow("in array") << QByteArray(R"({"listen":[{"port":1},{"port":2,"port":3}]})")
                              << "listen[].port";
    // Found by fuzz_jsonrpc: the empty key twice was named by an empty path, i.e. not at all.
    QTest::newRow("empty key") << QByteArray(R"({"":7,"":7})") << QStringLiteral(R"("")");
    QTest::newRow("in empty key") << QByteArray(R"({"":{"a":1,"a":2}})") << QStringLiteral(R"("".a)");
    QTest::newRow("colons and quotes in strings")
        << QByteArray(R"({"a":"x:y\":z","b":{"c":"\\"},"d":[":",{"e":1}]})") << QString();
    QTest::newRow("same key in sibling objects")
        << QByteArray(R"({"a":{"k":1},"b":{"k":2},"k":3})") << QString();
}

void TestJsonRpc::duplicateKeyIsNamed() {
    QFETCH(QByteArray, line);
    QFETCH(QString, key);
    const QJsonDocument doc = QJsonDocument::fromJson(line);
    QVERIFY(!doc.isNull());
    QCOMPARE(json::hasDuplicateKeys(line, doc.object()), !key.isEmpty());
    QCOMPARE(json::firstDuplicateKey(line), key);
    int code = 0;
    QString error;
    const bool parsed = Message::parse(line, &code, &error).has_value();
    if (!key.isEmpty()) {
        QVERIFY(!parsed);
        QCOMPARE(code, protocol::error::InvalidRequest);
        QCOMPARE(error,
                 QStringLiteral("duplicate key \"%1\": a key may appear only once in an object").arg(key));
    }
}

void TestJsonRpc::parseFailures() {
    QFETCH(QByteArray, line);
    QFETCH(int, code);
    QFETCH(QJsonValue, id);
    int gotCode = 0;
    QString error;
    QJsonValue gotId;
    QVERIFY(!Message::parse(line, &gotCode, &error, &gotId).has_value());
    QCOMPARE(gotCode, code);
    QVERIFY(!error.isEmpty());
    QCOMPARE(gotId, id);
}

void TestJsonRpc::framing_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("max");
    QTest::addColumn<QList<QByteArray>>("lines");
    QTest::addColumn<bool>("tooLong");
    QTest::newRow("two-lines") << QByteArray("a\nbb\n") << 10 << QList<QByteArray>{"a", "bb"} << false;
    QTest::newRow("crlf") << QByteArray("a\r\nb\r\n") << 10 << QList<QByteArray>{"a", "b"} << false;
    QTest::newRow("trailing-partial") << QByteArray("a\nbbb") << 10 << QList<QByteArray>{"a"} << false;
    QTest::newRow("exactly-max") << QByteArray("0123456789\n") << 10 << QList<QByteArray>{"0123456789"}
                                 << false;
    QTest::newRow("one-over-max") << QByteArray("ok\n01234567890\nnext\n") << 10 << QList<QByteArray>{"ok"}
                                  << true;
    QTest::newRow("far-over-max") << QByteArray(100, 'x') + "\n" << 10 << QList<QByteArray>{} << true;
}

void TestJsonRpc::framing() {
    QFETCH(QByteArray, input);
    QFETCH(int, max);
    QFETCH(QList<QByteArray>, lines);
    QFETCH(bool, tooLong);
    QBuffer buf(&input);
    QVERIFY(buf.open(QIODevice::ReadOnly));
    LineReader reader(max);
    QList<QByteArray> got;
    bool sawTooLong = false;
    for (int i = 0; i < 100; ++i) {
        QByteArray line;
        const auto s = reader.next(&buf, &line);
        if (s == LineReader::Status::Line) {
            got.append(line);
            continue;
        }
        sawTooLong = s == LineReader::Status::TooLong;
        break;
    }
    QCOMPARE(got, lines);
    QCOMPARE(sawTooLong, tooLong);
}

void TestJsonRpc::framingAcrossChunks() {
    // One message written a byte at a time is still one message.
    const QByteArray msg = Message::request(1, QStringLiteral("daemon.info")).serialize();
    QByteArray data;
    QBuffer buf(&data);
    QVERIFY(buf.open(QIODevice::ReadOnly));
    LineReader reader(1024);
    QByteArray line;
    for (int i = 0; i < msg.size() - 1; ++i) {
        buf.buffer().append(msg.at(i));
        QCOMPARE(reader.next(&buf, &line), LineReader::Status::Incomplete);
    }
    buf.buffer().append(msg.back());
    QCOMPARE(reader.next(&buf, &line), LineReader::Status::Line);
    QVERIFY(Message::parse(line).has_value());
}

void TestJsonRpc::partialLineOverCapIsTooLong() {
    // No newline yet, but already over the cap: no need to wait for the rest.
    QByteArray data(2048, 'x');
    QBuffer buf(&data);
    QVERIFY(buf.open(QIODevice::ReadOnly));
    QByteArray line;
    QCOMPARE(LineReader(1024).next(&buf, &line), LineReader::Status::TooLong);
    QCOMPARE(LineReader(4096).next(&buf, &line), LineReader::Status::Incomplete);
}

// The overload the admin socket reads with: the same rows, on a buffer.
void TestJsonRpc::bufferFraming_data() {
    framing_data();
}

void TestJsonRpc::bufferFraming() {
    QFETCH(QByteArray, input);
    QFETCH(int, max);
    QFETCH(QList<QByteArray>, lines);
    QFETCH(bool, tooLong);
    const LineReader reader(max);
    qsizetype pos = 0;
    QList<QByteArray> got;
    LineReader::Status s = LineReader::Status::Line;
    for (int i = 0; i < 100 && s == LineReader::Status::Line; ++i) {
        QByteArray line;
        s = reader.next(input, &pos, &line);
        if (s == LineReader::Status::Line)
            got.append(line);
    }
    QCOMPARE(got, lines);
    QCOMPARE(s == LineReader::Status::TooLong, tooLong);
}

// Bytes with no newline yet: the reader refuses them as soon as no line within the limit
// can start with them, and waits as long as one still can.
void TestJsonRpc::bufferPartialLine_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<LineReader::Status>("status");
    const QByteArray max(1024, 'x');
    QTest::newRow("max") << max << LineReader::Status::Incomplete;
    QTest::newRow("max-then-cr") << max + "\r" << LineReader::Status::Incomplete;
    QTest::newRow("max-then-crlf") << max + "\r\n" << LineReader::Status::Line;
    QTest::newRow("one-over") << max + "x" << LineReader::Status::TooLong;
    QTest::newRow("max-cr-then-more") << max + "\rx" << LineReader::Status::TooLong;
    QTest::newRow("far-over") << max + max << LineReader::Status::TooLong;
}

void TestJsonRpc::bufferPartialLine() {
    QFETCH(QByteArray, input);
    QFETCH(LineReader::Status, status);
    qsizetype pos = 0;
    QByteArray line;
    QCOMPARE(LineReader(1024).next(input, &pos, &line), status);
}

void TestJsonRpc::readersAgreeAtTheLimit_data() {
    QTest::addColumn<QByteArray>("first");  // delivered first
    QTest::addColumn<QByteArray>("second"); // then appended
    QTest::addColumn<LineReader::Status>("afterFirst");
    QTest::addColumn<LineReader::Status>("afterSecond");
    QTest::addColumn<QByteArray>("line"); // the line read after the second delivery, if any
    using S = LineReader::Status;
    // Found by fuzz_jsonrpc: a line at the limit whose "\r" came before its "\n" was
    // refused by the QIODevice reader (the admin client's) and taken by the buffer's.
    QTest::newRow("at-limit-cr-then-lf") << QByteArray("0123456789\r") << QByteArray("\n") << S::Incomplete
                                         << S::Line << QByteArray("0123456789");
    QTest::newRow("at-limit-then-crlf") << QByteArray("0123456789") << QByteArray("\r\n") << S::Incomplete
                                        << S::Line << QByteArray("0123456789");
    QTest::newRow("at-limit-cr-then-more")
        << QByteArray("0123456789\r") << QByteArray("x") << S::Incomplete << S::TooLong << QByteArray();
    QTest::newRow("one-over-no-lf") << QByteArray("0123456789x") << QByteArray("\n") << S::TooLong
                                    << S::TooLong << QByteArray();
    QTest::newRow("two-over-no-lf") << QByteArray("0123456789xy") << QByteArray("z") << S::TooLong
                                    << S::TooLong << QByteArray();
}

void TestJsonRpc::readersAgreeAtTheLimit() {
    QFETCH(QByteArray, first);
    QFETCH(QByteArray, second);
    QFETCH(LineReader::Status, afterFirst);
    QFETCH(LineReader::Status, afterSecond);
    QFETCH(QByteArray, line);
    const LineReader reader(10);
    QByteArray data = first;
    QBuffer device(&data);
    QVERIFY(device.open(QIODevice::ReadOnly));
    qsizetype pos = 0;
    QByteArray fromDevice, fromBuffer;
    QCOMPARE(reader.next(&device, &fromDevice), afterFirst);
    QCOMPARE(reader.next(data, &pos, &fromBuffer), afterFirst);
    if (afterFirst != LineReader::Status::Incomplete)
        return;
    data.append(second);
    QCOMPARE(reader.next(&device, &fromDevice), afterSecond);
    QCOMPARE(reader.next(data, &pos, &fromBuffer), afterSecond);
    QCOMPARE(fromDevice, line);
    QCOMPARE(fromBuffer, line);
}

QTEST_GUILESS_MAIN(TestJsonRpc)
#include "tst_jsonrpc.moc"

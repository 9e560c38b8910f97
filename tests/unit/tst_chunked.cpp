// The strict chunked decoder: what it passes on from valid bodies, however they are split,
// and the shapes it refuses (each is a request-smuggling vector when a proxy is lenient
// and its backend is not, or the other way round).
#include "net/http/chunked.h"

#include <QTest>

using portico::http::ChunkedDecoder;

namespace {

struct Decoded {
    QByteArray data;
    ChunkedDecoder::Status status = ChunkedDecoder::Status::NeedMore;
    qint64 consumed = 0; // input bytes up to and including the end of the body
    QByteArray error;
};

// Feeds input in pieces of `step` bytes (0: all at once), as a connection would.
Decoded decode(const QByteArray &input, int step = 0) {
    ChunkedDecoder d(64);
    Decoded out;
    qint64 pos = 0;
    qint64 available = step > 0 ? qMin<qint64>(step, input.size()) : input.size();
    while (true) {
        qint64 used = 0, offset = 0, length = 0;
        const auto st = d.next(input.constData() + pos, available - pos, &used, &offset, &length);
        if (st == ChunkedDecoder::Status::Data)
            out.data += QByteArray(input.constData() + pos + offset, length);
        pos += used;
        out.consumed = pos;
        if (st == ChunkedDecoder::Status::Done || st == ChunkedDecoder::Status::Bad) {
            out.status = st;
            out.error = d.error();
            return out;
        }
        if (st == ChunkedDecoder::Status::NeedMore && pos == available) {
            if (available == input.size())
                return out;
            available = step > 0 ? qMin<qint64>(available + step, input.size()) : input.size();
        }
    }
}

} // namespace

class TestChunked final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void valid_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("one chunk") << QByteArray("5\r\nhello\r\n0\r\n\r\n") << QByteArray("hello");
        QTest::newRow("two chunks") << QByteArray("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") << QByteArray("abcde");
        QTest::newRow("upper hex") << QByteArray("A\r\n0123456789\r\n0\r\n\r\n") << QByteArray("0123456789");
        QTest::newRow("leading zeros") << QByteArray("0003\r\nabc\r\n000\r\n\r\n") << QByteArray("abc");
        QTest::newRow("empty body") << QByteArray("0\r\n\r\n") << QByteArray();
        QTest::newRow("extension") << QByteArray("3;name=value\r\nabc\r\n0\r\n\r\n") << QByteArray("abc");
        QTest::newRow("extension no value") << QByteArray("3;flag\r\nabc\r\n0\r\n\r\n") << QByteArray("abc");
        QTest::newRow("extension quoted")
            << QByteArray("3;n=\"a \\\" b\"\r\nabc\r\n0\r\n\r\n") << QByteArray("abc");
        QTest::newRow("extension blanks") << QByteArray("3 ; n = v\r\nabc\r\n0\r\n\r\n") << QByteArray("abc");
        QTest::newRow("trailers") << QByteArray("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n")
                                  << QByteArray("abc");
        QTest::newRow("binary data") << QByteArray("4\r\n\r\n\0\n\r\n0\r\n\r\n", 14)
                                     << QByteArray("\r\n\0\n", 4);
    }
    void valid() {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, data);
        for (int step : {0, 1, 2, 3, 7}) {
            const Decoded d = decode(input, step);
            QCOMPARE(int(d.status), int(ChunkedDecoder::Status::Done));
            QCOMPARE(d.data, data);
            QCOMPARE(d.consumed, qint64(input.size()));
        }
    }

    // What follows the body is the next message's: the decoder stops exactly at the end.
    void stopsAtTheEnd() {
        const QByteArray next("GET /next HTTP/1.1\r\n\r\n");
        const Decoded d = decode("2\r\nok\r\n0\r\n\r\n" + next);
        QCOMPARE(int(d.status), int(ChunkedDecoder::Status::Done));
        QCOMPARE(d.consumed, qint64(12));
    }

    void invalid_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::newRow("bytes after chunk data") << QByteArray("3\r\nabcXY0\r\n\r\n");
        QTest::newRow("LF only after data") << QByteArray("3\r\nabc\n0\r\n\r\n");
        QTest::newRow("LF only after size") << QByteArray("3\nabc\r\n0\r\n\r\n");
        QTest::newRow("not hex") << QByteArray("g\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("no size") << QByteArray("\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("negative") << QByteArray("-3\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("0x prefix") << QByteArray("0x3\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("overflow") << QByteArray("fffffffffffffffff\r\n");
        QTest::newRow("control in extension") << QByteArray("3;n=a\x01\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("control in quoted extension") << QByteArray("3;n=\"a\x7f\"\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("bare CR in extension") << QByteArray("3;n\rx\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("space inside size") << QByteArray("1 2\r\n");
        QTest::newRow("extension without name") << QByteArray("3;=v\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("trailer with control") << QByteArray("0\r\nX: a\x01\r\n\r\n");
        QTest::newRow("trailer bare LF") << QByteArray("0\r\nX: a\nY: b\r\n\r\n");
        QTest::newRow("trailer starting with blank") << QByteArray("0\r\n X: a\r\n\r\n");
        QTest::newRow("trailers too large") << QByteArray("0\r\nX: " + QByteArray(100, 'a') + "\r\n\r\n");
        QTest::newRow("size line too long") << QByteArray("3;" + QByteArray(5000, 'a') + "\r\n");
        QTest::newRow("final CRLF missing") << QByteArray("0\r\n\rX");
    }
    void invalid() {
        QFETCH(QByteArray, input);
        for (int step : {0, 1}) {
            const Decoded d = decode(input, step);
            QCOMPARE(int(d.status), int(ChunkedDecoder::Status::Bad));
            QVERIFY(!d.error.isEmpty());
        }
    }

    void incomplete() {
        const Decoded d = decode("5\r\nhel");
        QCOMPARE(int(d.status), int(ChunkedDecoder::Status::NeedMore));
        QCOMPARE(d.data, QByteArray("hel"));
    }
};

QTEST_GUILESS_MAIN(TestChunked)
#include "tst_chunked.moc"

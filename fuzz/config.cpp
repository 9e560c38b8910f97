// The daemon's config file parser on arbitrary bytes: never a crash, every refusal with a
// sentence naming the file, and an accepted config survives its own round trip.
#include "config/config.h"
#include "fuzztarget.h"

#include <QJsonDocument>

using namespace portico;

PORTICO_FUZZ_TARGET(config) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    Config c;
    QStringList errors;
    const bool ok = Config::parse(bytes, QStringLiteral("fuzz.json"), &c, &errors);
    PORTICO_FUZZ_CHECK(ok == errors.isEmpty());
    for (const auto &e : errors)
        PORTICO_FUZZ_CHECK(e.startsWith(QStringLiteral("fuzz.json: ")));
    if (!ok)
        return 0;
    PORTICO_FUZZ_CHECK(c.allowedPortMin <= c.allowedPortMax);
    PORTICO_FUZZ_CHECK(c.backendPortMin <= c.backendPortMax);
    const QJsonObject once = c.toJson();
    Config again;
    QStringList againErrors;
    PORTICO_FUZZ_CHECK(
        Config::parse(QJsonDocument(once).toJson(), QStringLiteral("fuzz.json"), &again, &againErrors));
    PORTICO_FUZZ_CHECK(again.toJson() == once);
    return 0;
}

// The manifest parser on arbitrary bytes: never a crash, every failure an error with a
// sentence, and what parses survives its own round trip (toJson() parses back to the same
// manifest), so a deployed manifest reads back from the store as it was.
#include "manifest.h"
#include "fuzztarget.h"

#include <QJsonDocument>

using namespace portico;

PORTICO_FUZZ_TARGET(manifest) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    const ManifestParseResult r = Manifest::parse(bytes);
    PORTICO_FUZZ_CHECK(r.ok() == r.errors.isEmpty());
    for (const auto &e : r.errors)
        PORTICO_FUZZ_CHECK(!e.message.isEmpty());
    if (!r.ok())
        return 0;
    const Manifest &m = *r.manifest;
    PORTICO_FUZZ_CHECK(isValidProjectName(m.name));
    PORTICO_FUZZ_CHECK(m.listen.size() <= Manifest::kMaxListen);
    const QByteArray again = QJsonDocument(m.toJson()).toJson(QJsonDocument::Compact);
    const ManifestParseResult back = Manifest::parse(again);
    PORTICO_FUZZ_CHECK(back.ok());
    PORTICO_FUZZ_CHECK(*back.manifest == m);
    return 0;
}

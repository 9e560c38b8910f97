// libFuzzer's entry points for one target (PORTICO_FUZZ_FUNCTION, set per executable).
#include "fuzztarget.h"

#include <QtGlobal>

extern "C" int PORTICO_FUZZ_FUNCTION(const uint8_t *data, size_t size);

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    // Warnings of the code under test about bad input are expected by the million.
    qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return PORTICO_FUZZ_FUNCTION(data, size);
}

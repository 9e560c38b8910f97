#pragma once

#include <cstddef>
#include <cstdint>

// A fuzz target: one function of the bytes libFuzzer (or the regression test) gives it.
// It returns 0, and calls abort() when an invariant breaks (a sanitizer reports the rest).
//   PORTICO_FUZZ_TARGET(manifest) { ... data, size ... return 0; }
#define PORTICO_FUZZ_TARGET(name) extern "C" int portico_fuzz_##name(const uint8_t *data, size_t size)

// An invariant of the code under test; a failure is a finding, kept as a crash input.
#define PORTICO_FUZZ_CHECK(condition)                                                                        \
    do {                                                                                                     \
        if (!(condition))                                                                                    \
            ::portico::fuzz::fail(#condition, __FILE__, __LINE__);                                           \
    } while (false)

namespace portico::fuzz {

struct Target {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
};

// Every target listed in fuzz/CMakeLists.txt (the table is generated there).
const Target *targets(size_t *count);

[[noreturn]] void fail(const char *condition, const char *file, int line);

} // namespace portico::fuzz

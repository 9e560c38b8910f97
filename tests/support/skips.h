#pragma once

// Skipping a test, honestly. A QSKIP is invisible to ctest (the executable passes), so a
// machine without Deno or socat would be green with the Deno runtime untested. Two kinds:
//
//   PORTICO_REQUIRE(condition, "what is missing and where it comes from")
//       for what installer/deps.sh provides or CI arranges (Deno, socat, root): skipped on a
//       developer's machine, a failure when the CI environment variable is set.
//   PORTICO_SKIP_EXPECTED("why")
//       for what may truly be absent (a Docker engine, an IPv6 loopback): always a skip,
//       reported as expected in installer/test.sh's summary.
//
// installer/test.sh collects every skip with its reason from the text logs the tests
// write (tests/CMakeLists.txt) and prints them after the run.

#include <QTest>
#include <QtGlobal>

namespace portico::test {

// True when running under CI (any non-empty CI variable other than "0"/"false").
inline bool inCi() {
    const QByteArray ci = qgetenv("CI").trimmed().toLower();
    return !ci.isEmpty() && ci != "0" && ci != "false";
}

} // namespace portico::test

#define PORTICO_REQUIRE(condition, reason)                                                                   \
    do {                                                                                                     \
        if (!(condition)) {                                                                                  \
            if (::portico::test::inCi())                                                                     \
                QFAIL("required in CI (the installer provides it): " reason);                                \
            QSKIP("missing: " reason);                                                                       \
        }                                                                                                    \
    } while (false)

// The same with a reason made at run time (a QString).
#define PORTICO_REQUIRE_WHY(condition, reasonString)                                                         \
    do {                                                                                                     \
        if (!(condition)) {                                                                                  \
            const QString why_ = (reasonString);                                                             \
            if (::portico::test::inCi())                                                                     \
                QFAIL(qPrintable(QStringLiteral("required in CI (the installer provides it): ") + why_));    \
            QSKIP(qPrintable(QStringLiteral("missing: ") + why_));                                           \
        }                                                                                                    \
    } while (false)

#define PORTICO_SKIP_EXPECTED(reason) QSKIP("expected: " reason)

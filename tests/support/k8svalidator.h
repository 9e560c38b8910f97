#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace portico::test {

// The Kubernetes schema validators of tests/support/k8svalidate/validate.mjs: node plus the
// npm packages installer/deps.sh puts in <source>/.tools/k8s-validate/node_modules (or
// $PORTICO_K8S_VALIDATE_MODULES).
struct K8sValidation {
    bool ran = false; // false: the check itself failed (see error)
    int exitCode = -1;
    QJsonObject report; // {ok, objects: [{kind, name, ok, errors}], yaml?: {...}, parsed: [...]}
    QString error;      // the script's stderr
    bool valid() const { return ran && exitCode == 0 && report.value(QStringLiteral("ok")).toBool(); }
    // The objects as the validator read them (from YAML: as kubectl would).
    QJsonArray parsed() const { return report.value(QStringLiteral("parsed")).toArray(); }
    // Every problem, one per line, for failure messages.
    QString problems() const;
};

// Empty when the validators can run; else why not.
QString k8sValidatorMissing();
// Validates `data` (format "yaml" or "json") with a bounded wait.
K8sValidation validateK8s(const QByteArray &data, const QString &format);

} // namespace portico::test

// Skips the test when the validators are not installed, but fails it when $CI is set: a CI
// run must never pass by skipping the schema check.
#define PORTICO_REQUIRE_K8S_VALIDATOR()                                                                      \
    do {                                                                                                     \
        const QString missing_ = portico::test::k8sValidatorMissing();                                       \
        if (!missing_.isEmpty()) {                                                                           \
            if (qEnvironmentVariableIsSet("CI"))                                                             \
                QFAIL(qPrintable(QStringLiteral("CI is set and ") + missing_));                              \
            QSKIP(qPrintable(missing_ + QStringLiteral(" (installer/deps.sh installs them)")));              \
        }                                                                                                    \
    } while (false)

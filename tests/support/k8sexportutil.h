#pragma once

#include "skips.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace portico::test {

// What the tests of `porticoctl export kubernetes` share: running it, reading its output, and
// the schema validators.

struct CtlRun {
    int code = -1;
    QByteArray out; // bytes as written, for golden comparisons
    QString err;
};
// porticoctl ARGS with an environment that names no socket, so only --socket counts.
CtlRun runPorticoctl(const QStringList &args);
// "export kubernetes" + more.
QStringList exportArgs(const QStringList &more);
// The items of a JSON List (empty when it is none).
QJsonArray listItems(const QByteArray &json);
// "Kind/name" of an object, and the object of objects with that "Kind/name" (empty if none).
QString kindName(const QJsonValue &object);
QJsonObject findObject(const QJsonArray &objects, const QString &kindAndName);
QString compactJson(const QJsonValue &v);

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
        PORTICO_REQUIRE_WHY(missing_.isEmpty(),                                                              \
                            missing_ + QStringLiteral(" (installer/deps.sh installs them)"));                \
    } while (false)

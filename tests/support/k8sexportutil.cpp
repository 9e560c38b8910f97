#include "k8sexportutil.h"

#include "testutil.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

namespace portico::test {

namespace {

QString nodeProgram() {
    for (const char *name : {"node", "nodejs"}) {
        const QString found = QStandardPaths::findExecutable(QLatin1String(name));
        if (!found.isEmpty())
            return found;
    }
    return {};
}

QString modulesDir() {
    const QString env = qEnvironmentVariable("PORTICO_K8S_VALIDATE_MODULES");
    return env.isEmpty() ? QStringLiteral(PORTICO_SOURCE_DIR "/.tools/k8s-validate/node_modules") : env;
}

QString script() {
    return QStringLiteral(PORTICO_SOURCE_DIR "/tests/support/k8svalidate/validate.mjs");
}

} // namespace

CtlRun runPorticoctl(const QStringList &args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("PORTICO_SOCKET"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PORTICOCTL_PATH), args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished(5000);
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            QString::fromUtf8(p.readAllStandardError())};
}

QStringList exportArgs(const QStringList &more) {
    return QStringList{QStringLiteral("export"), QStringLiteral("kubernetes")} + more;
}

QJsonArray listItems(const QByteArray &json) {
    const QJsonObject list = QJsonDocument::fromJson(json).object();
    return list[QLatin1String("kind")].toString() == QLatin1String("List")
               ? list[QLatin1String("items")].toArray()
               : QJsonArray{};
}

QString kindName(const QJsonValue &object) {
    return object[QLatin1String("kind")].toString() + QLatin1Char('/') +
           object[QLatin1String("metadata")][QLatin1String("name")].toString();
}

QJsonObject findObject(const QJsonArray &objects, const QString &kindAndName) {
    for (const QJsonValue &o : objects) {
        if (kindName(o) == kindAndName)
            return o.toObject();
    }
    return {};
}

QString compactJson(const QJsonValue &v) {
    return QString::fromUtf8(v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                         : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
}

QString K8sValidation::problems() const {
    QStringList lines;
    if (!error.isEmpty())
        lines << error.trimmed();
    for (const QJsonValue &e : report.value(QStringLiteral("yaml"))[QLatin1String("errors")].toArray())
        lines << e.toString();
    if (report.contains(QStringLiteral("yaml")) &&
        !report.value(QStringLiteral("yaml"))[QLatin1String("same11and12")].toBool())
        lines << QStringLiteral("YAML 1.1 and 1.2 read different values");
    for (const QJsonValue &o : report.value(QStringLiteral("objects")).toArray()) {
        for (const QJsonValue &e : o[QLatin1String("errors")].toArray())
            lines << QStringLiteral("%1/%2: %3")
                         .arg(o[QLatin1String("kind")].toString(), o[QLatin1String("name")].toString(),
                              e.toString());
    }
    return lines.join(QLatin1Char('\n'));
}

QString k8sValidatorMissing() {
    if (nodeProgram().isEmpty())
        return QStringLiteral("node is not installed, so the Kubernetes schema validators cannot run");
    const QDir modules(modulesDir());
    for (const char *package : {"kubernetes-models", "@kubernetes-models/gateway-api", "yaml"}) {
        if (!QFileInfo(modules.filePath(QLatin1String(package) + QStringLiteral("/package.json"))).isFile())
            return QStringLiteral("the npm package %1 is not in %2")
                .arg(QLatin1String(package), modules.path());
    }
    return {};
}

K8sValidation validateK8s(const QByteArray &data, const QString &format) {
    K8sValidation v;
    QTemporaryDir dir;
    const QString file = writeFile(dir.path(), QStringLiteral("objects.") + format, data);
    QProcess p;
    p.start(nodeProgram(), {script(), modulesDir(), file});
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished(5000);
        v.error = QStringLiteral("validate.mjs did not finish within 120 s");
        return v;
    }
    v.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    v.error = QString::fromUtf8(p.readAllStandardError());
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(p.readAllStandardOutput(), &pe);
    v.ran = (v.exitCode == 0 || v.exitCode == 1) && pe.error == QJsonParseError::NoError && doc.isObject();
    v.report = doc.object();
    return v;
}

} // namespace portico::test

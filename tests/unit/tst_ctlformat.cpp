// porticoctl's human formats, golden: the daemon answers in tests/golden/porticoctl/
// answers.json rendered as porticoctl prints them (tables, sentences, diff lines, log
// lines, the stats view, manifest errors with line and column, the help), compared with
// the .txt files beside it. Plain, coloured, and cut to a narrow terminal. After an
// intended change of a format:
//   PORTICO_UPDATE_GOLDEN=1 ctest --test-dir build -R tst_ctlformat
// and review the diff (git diff tests/golden) before committing. Exit codes and usage
// errors of the real binary: tst_porticoctl; against a real daemon: tst_ctl_daemon.
#include "cli.h"
#include "commands.h"
#include "events.h"
#include "format.h"
#include "manifestfile.h"
#include "statsview.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <ctime>
#include <functional>

using namespace portico::ctl;

namespace {

const QString kGoldenDir = QStringLiteral(PORTICO_SOURCE_DIR "/tests/golden/porticoctl/");

QJsonObject answers() {
    QFile f(kGoldenDir + QStringLiteral("answers.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

QJsonArray array(const char *key) {
    return answers().value(QLatin1String(key)).toArray();
}

QJsonObject object(const char *key) {
    return answers().value(QLatin1String(key)).toObject();
}

// Escape codes as text, so that the golden files show where the colours are.
QString visible(QString s) {
    return s.replace(QLatin1Char('\x1b'), QStringLiteral("<ESC>"));
}

const Style kPlain = Style::fixed(false, 0);
const Style kColor = Style::fixed(true, 0);
const Style kNarrow = Style::fixed(false, 80);

QString events(const Style &style) {
    QString out;
    for (const auto &v : array("events")) {
        const QJsonObject e = v.toObject();
        out +=
            eventLine(e.value(QStringLiteral("kind")).toString(), e.value(QStringLiteral("data")).toObject(),
                      parseTime(e.value(QStringLiteral("time"))), style) +
            QLatin1Char('\n');
    }
    return out;
}

QString logLines(const Style &style) {
    QString out;
    for (const auto &v : array("logs"))
        out += logLineText(v.toObject(), style) + QLatin1Char('\n');
    return out;
}

QString diff(const QString &name, const QString &project) {
    const QJsonObject d = object("diffs").value(name).toObject();
    return diffLines(d, project, kPlain).join(QLatin1Char('\n')) + QStringLiteral("\nsummary: ") +
           diffSummary(d, project) + QLatin1Char('\n');
}

// porticoctl's output for a manifest file that cannot be deployed as it is.
QString manifestProblem(const QByteArray &content, const QJsonObject &refusal = {}) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("app/portico.json"));
    QDir().mkpath(dir.filePath(QStringLiteral("app")));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
        return QStringLiteral("cannot write %1").arg(path);
    f.close();
    ManifestFile file;
    QString headline;
    QStringList context;
    QString out;
    // A folder means its portico.json.
    if (!ManifestFile::read(dir.filePath(QStringLiteral("app")), &file, &headline, &context))
        out = (QStringList{headline} + context).join(QLatin1Char('\n'));
    else
        out = refusalLines(refusal, &file).join(QLatin1Char('\n'));
    return out.replace(dir.path(), QStringLiteral("$DIR")) + QLatin1Char('\n');
}

} // namespace

class TestCtlFormat final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void golden_data();
    void golden();
    void narrowTableFitsTheTerminal();
    void noColorWithoutColorStyle();
};

void TestCtlFormat::initTestCase() {
    // The daemon sends UTC; porticoctl prints local time. The golden files are in UTC.
    qputenv("TZ", "UTC");
    ::tzset();
    QVERIFY2(!answers().isEmpty(),
             qPrintable(kGoldenDir + QStringLiteral("answers.json is missing or invalid")));
}

void TestCtlFormat::golden_data() {
    QTest::addColumn<std::function<QString()>>("render");
    const auto row = [](const char *name, std::function<QString()> f) {
        QTest::newRow(name) << std::move(f);
    };
    row("status", [] { return infoText(object("info"), QStringLiteral("/run/portico/admin.sock")); });
    row("routes", [] { return routesTable(array("routes"), kPlain); });
    row("routes-color", [] { return visible(routesTable(array("routes"), kColor)); });
    row("routes-80-columns", [] { return routesTable(array("routes"), kNarrow); });
    row("projects", [] { return projectsTable(array("projects"), kPlain); });
    row("projects-color", [] { return visible(projectsTable(array("projects"), kColor)); });
    row("projects-80-columns", [] { return projectsTable(array("projects"), kNarrow); });
    row("projects-get", [] { return projectText(array("projects").at(1).toObject(), kPlain); });
    row("projects-get-crashy", [] { return projectText(array("projects").at(0).toObject(), kPlain); });
    row("stats", [] { return statsTable(object("stats"), kPlain); });
    row("stats-lines",
        [] { return statsLines(object("stats")).join(QLatin1Char('\n')) + QLatin1Char('\n'); });
    row("stats-frame",
        [] { return visible(statsFrame(object("stats"), Style::fixed(false, 60, 5, true), true)); });
    row("audit", [] { return auditTable(array("audit"), kPlain); });
    row("watch", [] { return events(kPlain); });
    row("watch-color", [] { return visible(events(kColor)); });
    row("logs", [] { return logLines(kPlain); });
    row("logs-color", [] { return visible(logLines(kColor)); });
    row("diff-moved", [] { return diff(QStringLiteral("moved"), QStringLiteral("my-api")); });
    row("diff-new-path-route", [] { return diff(QStringLiteral("new-path-route"), QStringLiteral("site")); });
    row("diff-path-route-dropped",
        [] { return diff(QStringLiteral("path-route-dropped"), QStringLiteral("site")); });
    row("json-trailing-comma",
        [] { return manifestProblem("{\n  \"name\": \"app\",\n  \"runtime\": \"process\",\n}\n"); });
    row("json-missing-comma",
        [] { return manifestProblem("{\n  \"name\": \"app\"\n  \"runtime\": \"process\"\n}\n"); });
    row("json-tabs", [] {
        return manifestProblem(
            "{\n\t\"name\": \"app\",\n\t\"listen\": {\"port\":\t3000 \"protocol\": \"tcp\"}\n}\n");
    });
    row("json-not-an-object", [] { return manifestProblem("[1, 2]\n"); });
    row("json-missing-colon", [] { return manifestProblem("{\n  \"name\" \"app\"\n}\n"); });
    row("json-unclosed-array",
        [] { return manifestProblem("{\"name\": \"app\", \"command\": [\"a\" \"b\"]}\n"); });
    row("json-end-of-file", [] { return manifestProblem("{\n  \"name\": \"app\",\n"); });
    row("refusal-with-lines", [] {
        const QJsonObject refusal{
            {QStringLiteral("errors"),
             QJsonArray{QJsonObject{{QStringLiteral("path"), QStringLiteral("listen[1].port")},
                                    {QStringLiteral("message"), QStringLiteral("must be 1-65535")}},
                        QJsonObject{{QStringLiteral("path"), QStringLiteral("command")},
                                    {QStringLiteral("message"), QStringLiteral("is required")}}}},
            {QStringLiteral("conflicts"),
             QJsonArray{QJsonObject{{QStringLiteral("port"), 3000},
                                    {QStringLiteral("transport"), QStringLiteral("tcp")},
                                    {QStringLiteral("holder"), QStringLiteral("my-api")},
                                    {QStringLiteral("message"),
                                     QStringLiteral("port 3000/tcp is already bound by project 'my-api'")}},
                        QJsonObject{{QStringLiteral("port"), 53},
                                    {QStringLiteral("transport"), QStringLiteral("udp")},
                                    {QStringLiteral("holder"), QStringLiteral("another program")}}}}};
        return manifestProblem("{\n  \"name\": \"app\",\n  \"runtime\": \"process\",\n  \"listen\": [\n"
                               "    {\"port\": 3000},\n    {\"port\": 70000}\n  ]\n}\n",
                               refusal);
    });
    row("help", [] { return helpText(builtinCommands()); });
}

void TestCtlFormat::golden() {
    QFETCH(std::function<QString()>, render);
    const QByteArray got = render().toUtf8();
    const QString path = kGoldenDir + QString::fromLatin1(QTest::currentDataTag()) + QStringLiteral(".txt");
    if (qEnvironmentVariable("PORTICO_UPDATE_GOLDEN") == QLatin1String("1")) {
        QFile f(path);
        QVERIFY2(f.open(QIODevice::WriteOnly) && f.write(got) == got.size() && f.flush(),
                 qPrintable(f.errorString()));
        qInfo("wrote %s", qPrintable(path));
    }
    QFile f(path);
    QVERIFY2(f.open(QIODevice::ReadOnly),
             qPrintable(path + QStringLiteral(" is missing; see the top of this file")));
    QCOMPARE(QString::fromUtf8(got), QString::fromUtf8(f.readAll()));
}

void TestCtlFormat::narrowTableFitsTheTerminal() {
    // Whatever the reasons say, no line is wider than the terminal when the other columns
    // and the reason's heading fit in it (here the routes table needs 98 characters for
    // those, the projects table 91); the reason gives way, marked with "…". (Narrower, the
    // table is as wide as that: the golden *-80-columns files.)
    const QList<std::pair<QString, int>> tables{
        {routesTable(array("routes"), Style::fixed(false, 100)), 100},
        {projectsTable(array("projects"), Style::fixed(false, 95)), 95}};
    for (const auto &[table, width] : tables) {
        for (const auto &line : table.split(QLatin1Char('\n')))
            QVERIFY2(line.size() <= width, qPrintable(line));
        QVERIFY(table.contains(QStringLiteral("…")));
    }
    // The whole reason without a width (a pipe) and in projects get.
    const QString routeReason = array("routes").at(3).toObject().value(QStringLiteral("reason")).toString();
    QVERIFY(routesTable(array("routes"), kPlain).contains(routeReason));
    const QJsonObject crashy = array("projects").at(0).toObject();
    const QString reason = crashy.value(QStringLiteral("reason")).toString();
    QVERIFY(projectText(crashy, kNarrow).contains(reason.section(QLatin1Char('\n'), 0, 0)));
    QVERIFY(projectText(crashy, kNarrow).contains(reason.section(QLatin1Char('\n'), 1)));
}

void TestCtlFormat::noColorWithoutColorStyle() {
    for (const QString &out : {routesTable(array("routes"), kPlain), projectsTable(array("projects"), kPlain),
                               events(kPlain), logLines(kPlain)})
        QVERIFY2(!out.contains(QLatin1Char('\x1b')), qPrintable(visible(out)));
    QVERIFY(routesTable(array("routes"), kColor).contains(QStringLiteral("\x1b[31mcrashed\x1b[0m")));
    QVERIFY(routesTable(array("routes"), kColor).contains(QStringLiteral("\x1b[32mactive\x1b[0m")));
    QVERIFY(projectsTable(array("projects"), kColor).contains(QStringLiteral("\x1b[33mbackoff\x1b[0m")));
}

QTEST_GUILESS_MAIN(TestCtlFormat)
#include "tst_ctlformat.moc"

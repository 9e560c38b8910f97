// Correct in light and dark themes: the state colours are readable on the tables'
// backgrounds, and the window as drawn, connected to a real porticod with a project and
// traffic, has no light panel in a dark theme (Qt Charts draws a white chart unless told)
// nor a dark one in a light theme.

#include "dashboardtest.h"
#include "models/format.h"
#include "threadedbackend.h"
#include "widgets/mainwindow.h"
#include "widgets/theme.h"
#include "widgets/trafficchart.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QImage>

#include <cmath>

using namespace portico;
using namespace portico::test;

namespace {

// WCAG 2's relative luminance and contrast ratio.
double luminance(const QColor &c) {
    const auto channel = [](double v) {
        return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast(const QColor &a, const QColor &b) {
    const double la = luminance(a), lb = luminance(b);
    return (qMax(la, lb) + 0.05) / (qMin(la, lb) + 0.05);
}

// The mean lightness (0-255) of each 16×16 block of the image: text strokes never fill a
// block, a panel does.
QList<int> blockLightness(const QImage &source) {
    const QImage image = source.convertToFormat(QImage::Format_RGB32);
    constexpr int kBlock = 16;
    QList<int> blocks;
    for (int by = 0; by + kBlock <= image.height(); by += kBlock) {
        for (int bx = 0; bx + kBlock <= image.width(); bx += kBlock) {
            int sum = 0;
            for (int y = by; y < by + kBlock; ++y) {
                const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
                for (int x = bx; x < bx + kBlock; ++x)
                    sum += QColor(line[x]).lightness();
            }
            blocks.append(sum / (kBlock * kBlock));
        }
    }
    return blocks;
}

} // namespace

class TestTheme final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void readable_data();
    void readable();

private:
    std::unique_ptr<QTemporaryDir> m_settings = isolateSettings();
    std::unique_ptr<ThreadedBackend> m_http;
    DaemonFixture m_daemon;
};

void TestTheme::initTestCase() {
    m_http = std::make_unique<ThreadedBackend>(ThreadedBackend::Mode::Http, "site");
    QString why;
    QVERIFY2(m_daemon.start(&why), qPrintable(why));
    QVERIFY(isOk(m_daemon.deploy(upstreamManifest(QStringLiteral("site"), m_http->port()))));
}

void TestTheme::cleanupTestCase() {
    m_daemon.stop();
}

void TestTheme::readable_data() {
    QTest::addColumn<QString>("theme");
    QTest::newRow("light") << QStringLiteral("light");
    QTest::newRow("dark") << QStringLiteral("dark");
}

void TestTheme::readable() {
    QFETCH(QString, theme);
    QString error;
    QVERIFY2(applyTheme(theme, &error), qPrintable(error));
    const bool dark = theme == QLatin1String("dark");
    QCOMPARE(dash::isDarkPalette(), dark);

    // Every state's colour on both row colours of a table: at least 3:1 (WCAG's minimum
    // for text that must be told apart; the state is also spelled out).
    const QPalette palette = QApplication::palette();
    for (const char *state : {"active", "starting", "backoff", "crashed", "conflict", "stopped"}) {
        const QColor c = dash::stateColor(QLatin1String(state));
        for (auto role : {QPalette::Base, QPalette::AlternateBase}) {
            const double ratio = contrast(c, palette.color(role));
            QVERIFY2(ratio >= 3.0,
                     qPrintable(QStringLiteral("%1 (%2) on %3: %4:1")
                                    .arg(QLatin1String(state), c.name(), palette.color(role).name())
                                    .arg(ratio, 0, 'f', 2)));
        }
    }

    // The window, connected, with a project and some traffic on the chart.
    AdminClient client;
    client.setSocketPath(m_daemon.socketPath());
    MainWindow window(&client);
    window.resize(1280, 820);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    client.connectToDaemon();
    QTRY_VERIFY_WITH_TIMEOUT(window.hasData(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(DaemonFixture::httpGet(m_daemon.ingressPort(), "/site/").status == 200 &&
                                 window.trafficChart()->title().isEmpty(),
                             15000);
    // The chart follows the palette (Qt Charts' own theme would be white or dark blue).
    const QChart *chart = window.trafficChart()->findChild<QChartView *>()->chart();
    QCOMPARE(chart->backgroundBrush().color(), palette.color(QPalette::Base));

    const QList<int> blocks = blockLightness(window.grab().toImage());
    QVERIFY(!blocks.isEmpty());
    int wrong = 0, darkest = 255, lightest = 0;
    for (int b : blocks) {
        darkest = qMin(darkest, b);
        lightest = qMax(lightest, b);
        wrong += dark ? (b > 160 ? 1 : 0) : (b < 96 ? 1 : 0);
    }
    QVERIFY2(wrong == 0,
             qPrintable(QStringLiteral("%1 of %2 blocks of the %3 window are %4 (lightness %5-%6)")
                            .arg(wrong)
                            .arg(blocks.size())
                            .arg(theme, dark ? QStringLiteral("light") : QStringLiteral("dark"))
                            .arg(darkest)
                            .arg(lightest)));
}

QTEST_MAIN(TestTheme)
#include "tst_theme.moc"

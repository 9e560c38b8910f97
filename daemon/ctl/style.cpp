#include "style.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace portico::ctl {

Style Style::detect(int fd, ColorMode mode) {
    Style s;
    s.m_terminal = ::isatty(fd) == 1;
    switch (mode) {
    case ColorMode::Always:
        s.m_color = true;
        break;
    case ColorMode::Never:
        s.m_color = false;
        break;
    case ColorMode::Auto:
        s.m_color = s.m_terminal && qEnvironmentVariableIsEmpty("NO_COLOR");
        break;
    }
    winsize ws{};
    if (s.m_terminal && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        s.m_width = ws.ws_col;
        s.m_height = ws.ws_row;
    } else {
        bool ok = false;
        const int columns = qEnvironmentVariableIntValue("COLUMNS", &ok);
        s.m_width = ok && columns > 0 ? columns : 0;
    }
    return s;
}

Style Style::fixed(bool color, int width, int height, bool terminal) {
    Style s;
    s.m_color = color;
    s.m_width = width;
    s.m_height = height;
    s.m_terminal = terminal;
    return s;
}

std::optional<ColorMode> Style::colorModeFromName(const QString &name) {
    if (name == QLatin1String("auto"))
        return ColorMode::Auto;
    if (name == QLatin1String("always"))
        return ColorMode::Always;
    if (name == QLatin1String("never"))
        return ColorMode::Never;
    return std::nullopt;
}

QString Style::paint(const QString &text, Color c) const {
    if (!m_color || c == Color::None || text.isEmpty())
        return text;
    const char *code = "";
    switch (c) {
    case Color::Green:
        code = "32";
        break;
    case Color::Yellow:
        code = "33";
        break;
    case Color::Red:
        code = "31";
        break;
    case Color::Cyan:
        code = "36";
        break;
    case Color::Dim:
        code = "2";
        break;
    case Color::Bold:
        code = "1";
        break;
    case Color::None:
        break;
    }
    return QStringLiteral("\x1b[%1m%2\x1b[0m").arg(QLatin1String(code), text);
}

Color Style::stateColor(const QString &state) {
    if (state == QLatin1String("active") || state == QLatin1String("ok"))
        return Color::Green;
    if (state == QLatin1String("starting") || state == QLatin1String("backoff") ||
        state == QLatin1String("draining") || state == QLatin1String("refused"))
        return Color::Yellow;
    if (state == QLatin1String("crashed") || state == QLatin1String("conflict") ||
        state == QLatin1String("failed") || state == QLatin1String("unhealthy"))
        return Color::Red;
    return Color::None;
}

} // namespace portico::ctl

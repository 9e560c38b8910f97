#pragma once

#include <QString>

#include <optional>

// How porticoctl's human output looks where it goes: colours only on a terminal (and not
// with NO_COLOR, https://no-color.org), the width of that terminal for truncating.
namespace portico::ctl {

enum class ColorMode { Auto, Always, Never };
enum class Color { None, Green, Yellow, Red, Cyan, Dim, Bold };

class Style {
public:
    Style() = default;
    // For the descriptor fd (1: stdout, 2: stderr). Auto: colour when fd is a terminal
    // and NO_COLOR is unset or empty. The width is the terminal's, else $COLUMNS, else
    // 0 (no limit).
    static Style detect(int fd, ColorMode mode);
    static std::optional<ColorMode> colorModeFromName(const QString &name); // auto, always, never
    // A style given rather than detected: for output to a known target (the golden tests).
    static Style fixed(bool color, int width, int height = 0, bool terminal = false);

    bool color() const { return m_color; }
    bool terminal() const { return m_terminal; }
    int width() const { return m_width; }   // 0: no limit
    int height() const { return m_height; } // 0: unknown

    QString paint(const QString &text, Color c) const;
    // A route's or project's state in its colour: green when serving, yellow on the way,
    // red when it is not.
    QString state(const QString &state) const { return paint(state, stateColor(state)); }
    static Color stateColor(const QString &state);

private:
    bool m_color = false;
    bool m_terminal = false;
    int m_width = 0;
    int m_height = 0;
};

} // namespace portico::ctl

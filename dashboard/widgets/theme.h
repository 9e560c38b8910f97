#pragma once

#include <QString>

namespace portico {

// --theme: "system" leaves the desktop's style and palette alone; "light" and "dark" use
// Qt's Fusion style with a palette of that kind (for desktops whose dark setting Qt does
// not pick up, and for screenshots). False with *error for an unknown name.
bool applyTheme(const QString &name, QString *error);

} // namespace portico

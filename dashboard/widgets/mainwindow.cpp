#include "mainwindow.h"

namespace portico {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Portico"));
}

} // namespace portico

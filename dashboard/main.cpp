#include "widgets/mainwindow.h"

#include <QApplication>

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    portico::MainWindow w;
    w.show();
    return app.exec();
}

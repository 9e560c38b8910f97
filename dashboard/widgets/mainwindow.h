#pragma once

#include <QMainWindow>

namespace portico {

// The dashboard's window (being written; a later issue fills it).
class MainWindow final : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
};

} // namespace portico

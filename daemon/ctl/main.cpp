// porticoctl: a client of the admin socket. (Being written; see issue 5.)
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QTextStream(stderr) << "porticoctl: not built yet\n";
    return 2;
}

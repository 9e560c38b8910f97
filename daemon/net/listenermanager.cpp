// PLACEHOLDER (replaced by the port-routing work, issue 4).
#include "listenermanager.h"

Q_LOGGING_CATEGORY(lcNet, "portico.net")

namespace portico {

struct ListenerManager::Impl {};

ListenerManager::ListenerManager(const Config &, RouteTableHolder *, WorkerPool *, AccessLog *, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>()) {}
ListenerManager::~ListenerManager() = default;
ListenerId ListenerManager::open(const ListenerOptions &, QString *error) {
    *error = QStringLiteral("listeners are not built yet");
    return 0;
}
quint16 ListenerManager::boundPort(ListenerId) const { return 0; }
void ListenerManager::drain(ListenerId id, int) { Q_EMIT drained(id); }
void ListenerManager::close(ListenerId) {}
void ListenerManager::closeAll() {}
bool ListenerManager::probe(const QHostAddress &, quint16, Transport, QString *) { return true; }

} // namespace portico

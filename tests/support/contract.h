#pragma once

#include <QJsonValue>
#include <QString>
#include <QStringList>

// The admin protocol's reply and event shapes (docs/admin-protocol.md), written down once
// and checked on both sides: against a real porticod (tst_contract_e2e) and against
// FakeAdminApi behind the real Dispatcher (tst_dispatcher). A fake that answers something
// the daemon never would (daemon.reload's "reloaded") fails its own test, so the tests
// built on the fake cannot drift from the product.
//
// A shape lists its keys with their types; a key ending in '?' may be absent. "Closed"
// shapes allow no other keys (so that a key the daemon does not send cannot appear in the
// fake); "open" ones (daemon.info, a project, a route, whose fields grow with the product)
// only require theirs.
namespace portico::test::contract {

// What in `result` does not match the documented result of `method`; empty when it conforms.
QStringList checkResult(const QString &method, const QJsonValue &result);
// The same for the data of an event of `kind`.
QStringList checkEvent(const QString &kind, const QJsonValue &data);
// Every method and every event kind the contract describes.
QStringList methods();
QStringList eventKinds();

} // namespace portico::test::contract

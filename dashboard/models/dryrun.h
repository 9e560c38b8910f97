#pragma once

#include "jsonrpc.h"

#include <QList>
#include <QString>

namespace portico {

// What projects.validate said about a manifest, as lines to show before a deploy: the
// route diff, every validation error with its path, every conflict with its port,
// transport and holder. Also reads projects.deploy's refusals, which have the same shape.
struct DryRun {
    enum class Outcome { Clean, Invalid, Conflict, Failed };
    struct Item {
        enum class Kind { Summary, Added, Removed, Kept, Error, Conflict, Warning };
        Kind kind;
        QString text;
        friend bool operator==(const Item &, const Item &) = default;
    };

    Outcome outcome = Outcome::Failed;
    QString project;
    QString message;        // the daemon's one-line message when not clean
    bool unchanged = false; // clean, and exactly this runs already (protocol 2)
    QList<Item> items;
    struct PortConflict {
        int port = 0;
        QString transport; // "tcp" or "udp"
        QString holder;
        friend bool operator==(const PortConflict &, const PortConflict &) = default;
    };
    QList<PortConflict> conflicts;

    bool isClean() const { return outcome == Outcome::Clean; }
    int count(Item::Kind kind) const;
    static DryRun fromReply(const jsonrpc::Message &reply);
};

} // namespace portico

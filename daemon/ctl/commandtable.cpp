#include "commandtable.h"

namespace portico::ctl {

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
// two neighbours ("deplyo") each count one.
int editDistance(const QString &a, const QString &b) {
    const qsizetype n = a.size(), m = b.size();
    QList<QList<int>> d(n + 1, QList<int>(m + 1, 0));
    for (qsizetype i = 0; i <= n; ++i)
        d[i][0] = int(i);
    for (qsizetype j = 0; j <= m; ++j)
        d[0][j] = int(j);
    for (qsizetype i = 1; i <= n; ++i) {
        for (qsizetype j = 1; j <= m; ++j) {
            const int cost = a.at(i - 1) == b.at(j - 1) ? 0 : 1;
            d[i][j] = qMin(qMin(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a.at(i - 1) == b.at(j - 2) && a.at(i - 2) == b.at(j - 1))
                d[i][j] = qMin(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

} // namespace

void CommandTable::add(Command command) {
    m_commands.append(std::move(command));
}

const Command *CommandTable::find(const QStringList &positional, int *wordsUsed) const {
    const Command *best = nullptr;
    for (const auto &c : m_commands) {
        if (c.words.size() > positional.size() || (best && best->words.size() >= c.words.size()))
            continue;
        if (positional.mid(0, c.words.size()) == c.words)
            best = &c;
    }
    if (wordsUsed)
        *wordsUsed = best ? int(best->words.size()) : 0;
    return best;
}

QList<const Command *> CommandTable::subcommands(const QString &word) const {
    QList<const Command *> out;
    for (const auto &c : m_commands)
        if (c.words.size() > 1 && c.words.first() == word)
            out.append(&c);
    return out;
}

QString CommandTable::suggest(const QString &typo) const {
    QString best;
    int bestDistance = 3; // more than two edits away is no suggestion
    for (const auto &c : m_commands) {
        const int d = editDistance(typo, c.words.first());
        if (d < bestDistance) {
            bestDistance = d;
            best = c.words.first();
        }
    }
    return best;
}

QList<OptionSpec> CommandTable::allOptions() const {
    QList<OptionSpec> out;
    QStringList seen;
    for (const auto &c : m_commands) {
        for (const auto &o : c.options) {
            if (seen.contains(o.names.last()))
                continue;
            seen.append(o.names.last());
            out.append(o);
        }
    }
    return out;
}

} // namespace portico::ctl

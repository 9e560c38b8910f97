#include "exposition.h"

#include <cmath>

namespace portico {

void Exposition::family(const QByteArray &name, Type type, const QByteArray &help) {
    if (find(name))
        return;
    m_families.append({name, type, help, {}});
}

Exposition::Family *Exposition::find(const QByteArray &name) {
    for (auto &f : m_families)
        if (f.name == name)
            return &f;
    return nullptr;
}

void Exposition::sample(const QByteArray &family, const Labels &labels, double value) {
    append(family, labels, formatValue(value));
}

void Exposition::sample(const QByteArray &family, const Labels &labels, quint64 value) {
    // Exact, where a double would round counters past 2^53.
    append(family, labels, QByteArray::number(value));
}

void Exposition::append(const QByteArray &family, const Labels &labels, const QByteArray &value) {
    Family *f = find(family);
    if (!f) {
        // A sample without its HELP/TYPE would be untyped: declare it so that nothing is lost.
        m_families.append({family, Type::Gauge, {}, {}});
        f = &m_families.last();
    }
    QByteArray &out = f->samples;
    out += family;
    if (!labels.isEmpty()) {
        out += '{';
        for (qsizetype i = 0; i < labels.size(); ++i) {
            if (i)
                out += ',';
            out += labels[i].first;
            out += "=\"";
            out += escapeLabelValue(labels[i].second);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

QByteArray Exposition::text() const {
    QByteArray out;
    for (const auto &f : m_families) {
        if (!f.help.isEmpty())
            out += "# HELP " + f.name + ' ' + escapeHelp(f.help) + '\n';
        out += "# TYPE " + f.name + (f.type == Type::Counter ? " counter\n" : " gauge\n");
        out += f.samples;
    }
    return out;
}

namespace {

// The format escapes a backslash and a newline everywhere, and a double quote in label
// values, where it would end the value.
QByteArray escape(const QByteArray &text, bool quote) {
    QByteArray out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

} // namespace

QByteArray Exposition::escapeLabelValue(const QByteArray &value) {
    return escape(value, true);
}

QByteArray Exposition::escapeHelp(const QByteArray &help) {
    return escape(help, false);
}

QByteArray Exposition::formatValue(double value) {
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    if (std::floor(value) == value && std::fabs(value) < 9e15)
        return QByteArray::number(qint64(value));
    return QByteArray::number(value, 'g', 17);
}

} // namespace portico

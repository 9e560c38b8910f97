#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace portico {

// Writes the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): every family's samples
// together, under one `# HELP` and one `# TYPE` line, label values escaped.
class Exposition {
public:
    enum class Type { Counter, Gauge };
    using Labels = QList<QPair<QByteArray, QByteArray>>; // name, value (UTF-8, unescaped)

    // Declares a family (its whole name: a counter's ends in "_total", as format 0.0.4 has
    // it) with help as one sentence. Declaring a name again is harmless: its samples join
    // the first declaration's, under one HELP and one TYPE line.
    void family(const QByteArray &name, Type type, const QByteArray &help);
    // One sample of a declared family.
    void sample(const QByteArray &family, const Labels &labels, double value);
    void sample(const QByteArray &family, const Labels &labels, quint64 value);

    QByteArray text() const;

    static QByteArray escapeLabelValue(const QByteArray &value);
    static QByteArray escapeHelp(const QByteArray &help);
    static QByteArray formatValue(double value);

private:
    struct Family {
        QByteArray name;
        Type type = Type::Gauge;
        QByteArray help;
        QByteArray samples; // lines, already formatted
    };
    Family *find(const QByteArray &name);
    void append(const QByteArray &family, const Labels &labels, const QByteArray &value);
    QList<Family> m_families;
};

} // namespace portico

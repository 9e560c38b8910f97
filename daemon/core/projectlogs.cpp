#include "projectlogs.h"

#include <algorithm>

namespace portico {

QJsonObject LogLine::toJson() const {
    return {{QStringLiteral("time"), time.toString(Qt::ISODateWithMs)},
            {QStringLiteral("stream"), logStreamName(stream)},
            {QStringLiteral("text"), text}};
}

const LogLine &ProjectLogs::append(const QString &project, LogStream stream, const QString &text) {
    auto &ring = m_rings[project];
    ring.push_back({QDateTime::currentDateTimeUtc(), stream, text});
    while (ring.size() > size_t(m_cap))
        ring.pop_front();
    return ring.back();
}

QJsonArray ProjectLogs::tail(const QString &project, int lines) const {
    QJsonArray out;
    const auto it = m_rings.find(project);
    if (it == m_rings.end() || lines <= 0)
        return out;
    const auto &ring = it->second;
    const size_t from = ring.size() > size_t(lines) ? ring.size() - size_t(lines) : 0;
    for (size_t i = from; i < ring.size(); ++i)
        out.append(ring[i].toJson());
    return out;
}

void ProjectLogs::keepRefused(const QString &project) {
    if (!contains(project) || isRefused(project))
        return;
    m_refused.push_back(project);
    while (m_refused.size() > size_t(kMaxRefused)) {
        m_rings.erase(m_refused.front());
        m_refused.pop_front();
    }
}

bool ProjectLogs::isRefused(const QString &project) const {
    return std::find(m_refused.begin(), m_refused.end(), project) != m_refused.end();
}

void ProjectLogs::drop(const QString &project) {
    m_rings.erase(project);
    m_refused.erase(std::remove(m_refused.begin(), m_refused.end(), project), m_refused.end());
}

} // namespace portico

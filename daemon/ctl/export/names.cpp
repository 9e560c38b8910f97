#include "names.h"

#include <QCryptographicHash>
#include <QHostAddress>
#include <QRegularExpression>

namespace portico::ctl::k8s {

namespace {
bool matches(const QString &s, const QRegularExpression &re) {
    return re.match(s).hasMatch();
}
} // namespace

bool isDnsLabel(const QString &s) {
    static const QRegularExpression re(QStringLiteral("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
    return s.size() <= 63 && matches(s, re);
}

bool isDnsSubdomain(const QString &s) {
    static const QRegularExpression re(
        QStringLiteral("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"));
    return s.size() <= 253 && matches(s, re);
}

bool isDns1035Label(const QString &s) {
    static const QRegularExpression re(QStringLiteral("^[a-z]([-a-z0-9]*[a-z0-9])?$"));
    return s.size() <= 63 && matches(s, re);
}

QString objectName(const QString &project) {
    if (isDns1035Label(project))
        return project;
    const QString hash = QString::fromLatin1(
        QCryptographicHash::hash(project.toUtf8(), QCryptographicHash::Sha256).toHex().left(6));
    QString base = project;
    while (base.endsWith(QLatin1Char('-')))
        base.chop(1);
    if (base.isEmpty() || !base.front().isLetter())
        base.prepend(QStringLiteral("p-"));
    base.truncate(63 - 1 - hash.size());
    while (base.endsWith(QLatin1Char('-')))
        base.chop(1);
    return base + QLatin1Char('-') + hash;
}

bool isImageReference(const QString &ref, QString *why) {
    // The grammar of github.com/distribution/reference (what docker, containerd and the
    // kubelet accept), without the rarely used bracketed IPv6 registry.
    static const QString component = QStringLiteral("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    static const QString domainPart = QStringLiteral("(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])");
    static const QString domain =
        domainPart + QStringLiteral("(?:\\.") + domainPart + QStringLiteral(")*(?::[0-9]+)?");
    static const QString name = QStringLiteral("(?:%1/)?%2(?:/%2)*").arg(domain, component);
    static const QRegularExpression re(QStringLiteral("^(%1)(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*"
                                                      "(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")
                                           .arg(name));
    if (ref.isEmpty()) {
        *why = QStringLiteral("the image reference is empty");
        return false;
    }
    const auto m = re.match(ref);
    if (!m.hasMatch()) {
        *why =
            QStringLiteral("not an image reference (registry/name[:tag][@digest], the name in lower case)");
        return false;
    }
    if (m.captured(1).size() > 255) {
        *why = QStringLiteral("the image name is longer than 255 characters");
        return false;
    }
    return true;
}

QString UpstreamAddress::addressType() const {
    return type == Type::IPv6 ? QStringLiteral("IPv6") : QStringLiteral("IPv4");
}

std::optional<UpstreamAddress> upstreamAddress(const QString &upstream, QString *why) {
    if (upstream.startsWith(QLatin1String("unix:"))) {
        *why = QStringLiteral("a unix socket (%1) cannot be reached from a cluster; serve the project on "
                              "a TCP address, or move it into a container and give it an image")
                   .arg(upstream);
        return std::nullopt;
    }
    // Manifest::parse accepted it: "host:port" or "[v6]:port".
    const qsizetype colon = upstream.lastIndexOf(QLatin1Char(':'));
    QString host = upstream.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    bool ok = false;
    const uint port = upstream.mid(colon + 1).toUInt(&ok);
    if (!ok || port < 1 || port > 65535) {
        *why = QStringLiteral("%1 has no port from 1 to 65535").arg(upstream);
        return std::nullopt;
    }
    UpstreamAddress a;
    a.port = quint16(port);
    QHostAddress ip;
    if (ip.setAddress(host)) {
        // The API server refuses these in an EndpointSlice, and they would mean the pod or
        // the node itself rather than this host.
        const QString hereOnly = QStringLiteral(
            "%1 is %2: it names this host only, and an EndpointSlice may not hold it; export from a "
            "copy of the manifest whose upstream is an address the cluster reaches");
        if (ip.isLoopback()) {
            *why = hereOnly.arg(upstream, QStringLiteral("a loopback address"));
            return std::nullopt;
        }
        if (ip == QHostAddress(QHostAddress::AnyIPv4) || ip == QHostAddress(QHostAddress::AnyIPv6)) {
            *why = hereOnly.arg(upstream, QStringLiteral("the unspecified address"));
            return std::nullopt;
        }
        if (ip.isLinkLocal() || ip.isMulticast()) {
            *why = hereOnly.arg(upstream, QStringLiteral("a link-local or multicast address"));
            return std::nullopt;
        }
        a.type = ip.protocol() == QAbstractSocket::IPv6Protocol ? UpstreamAddress::Type::IPv6
                                                                : UpstreamAddress::Type::IPv4;
        a.address = ip.toString();
        return a;
    }
    QString fqdn = host.toLower();
    if (fqdn.endsWith(QLatin1Char('.')))
        fqdn.chop(1);
    if (fqdn == QLatin1String("localhost") || fqdn.endsWith(QLatin1String(".localhost"))) {
        *why = QStringLiteral("%1 is a loopback name: it names this host only; export from a copy of the "
                              "manifest whose upstream is an address the cluster reaches")
                   .arg(upstream);
        return std::nullopt;
    }
    if (!isDnsSubdomain(fqdn)) {
        *why = QStringLiteral("the host of %1 is not a DNS name Kubernetes accepts (RFC 1123)").arg(upstream);
        return std::nullopt;
    }
    a.type = UpstreamAddress::Type::DnsName;
    a.address = fqdn;
    return a;
}

} // namespace portico::ctl::k8s

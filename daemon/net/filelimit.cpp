#include "filelimit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace portico {

qint64 raiseFileLimit(QString *error) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        if (error)
            *error = QStringLiteral("getrlimit: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return -1;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            if (error)
                *error = QStringLiteral("setrlimit: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
            return -1;
        }
    }
    return qint64(lim.rlim_cur);
}

qint64 softFileLimit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return 1024;
    return qint64(lim.rlim_cur);
}

} // namespace portico

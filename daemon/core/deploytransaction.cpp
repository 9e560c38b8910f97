#include "deploytransaction.h"

#include "protocol.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QPointer>

namespace portico {

namespace {

// The conflict the plan found for this listen entry, if any.
const Conflict *conflictFor(const Plan &plan, const ListenSpec &spec) {
    for (const auto &c : plan.conflicts) {
        if (c.port == spec.port && c.transport == spec.transport())
            return &c;
    }
    return nullptr;
}

// A runtime that cannot run on this host (no Docker engine, no backend user) is 1005,
// anything else 1004: the backend says which.
int refusalCode(RefusalKind kind) {
    return kind == RefusalKind::RuntimeUnavailable ? protocol::error::RuntimeUnavailable
                                                   : protocol::error::BackendFailed;
}

} // namespace

Plan planOnHost(const DeployEnv &env, const Manifest &m) {
    const Project *current = env.state->find(m.name);
    const Manifest *previous = current ? &current->stored.manifest : nullptr;
    Plan plan = planDeploy(env.state->claims(), m, previous, env.limits);
    for (const auto &spec : plan.diff.added) {
        if (conflictFor(plan, spec))
            continue;
        QString error;
        if (env.ports->probe(spec, &error))
            continue;
        // The same port in the same transport, held by this project's current version with
        // another protocol, is released at the swap; the OS would refuse the test bind.
        const bool ownOld =
            previous &&
            std::any_of(previous->listen.begin(), previous->listen.end(), [&](const ListenSpec &o) {
                return o.port == spec.port && o.transport() == spec.transport();
            });
        if (!ownOld)
            plan.conflicts.append(hostConflict(spec, error));
    }
    return plan;
}

ApiResult conflictResult(const QString &project, const Plan &plan) {
    QString message = plan.conflicts.first().message;
    if (plan.conflicts.size() > 1)
        message += QStringLiteral(" (and %1 more)").arg(plan.conflicts.size() - 1);
    return ApiResult::failure(protocol::error::Conflict, message,
                              {{QStringLiteral("project"), project},
                               {QStringLiteral("conflicts"), plan.conflictsJson()},
                               {QStringLiteral("diff"), plan.diff.toJson()}});
}

void preflight(const DeployEnv &env, const Manifest &m, const QString &sourceDir, QObject *context,
               const std::function<void(const ApiResult &)> &done) {
    QString error;
    RefusalKind kind = RefusalKind::BackendFailed;
    auto backend = std::make_shared<BackendPtr>(env.backends->create(m, sourceDir, &error, &kind).release());
    if (!*backend) {
        done(ApiResult::failure(refusalCode(kind), error, {{QStringLiteral("project"), m.name}}));
        return;
    }
    QPointer<QObject> alive(context);
    const QString name = m.name;
    (*backend)->preflight([backend, alive, done, name](const QString &problem) {
        // Called from inside the backend: it goes later, with the last holder of the pointer.
        const BackendPtr made = std::move(*backend);
        if (!alive)
            return;
        if (problem.isEmpty())
            done(ApiResult::success(QJsonObject{{QStringLiteral("project"), name}}));
        else
            done(ApiResult::failure(refusalCode(made->failureKind()), problem,
                                    {{QStringLiteral("project"), name}}));
    });
}

DeployTransaction::DeployTransaction(const DeployEnv &env, DeployRequest request, Finished finished,
                                     QObject *parent)
    : QObject(parent), m_env(env), m_request(std::move(request)), m_finished(std::move(finished)) {
    m_guard.setSingleShot(true);
    connect(&m_guard, &QTimer::timeout, this, [this] {
        unwind(protocol::error::BackendFailed,
               QStringLiteral("not ready after %1 ms").arg(m_env.readyTimeoutMs + m_env.readyMarginMs), {});
    });
}

DeployTransaction::~DeployTransaction() {
    if (m_step != Step::Starting)
        return;
    // Still in flight while the daemon goes away: let go of everything, answer nobody.
    m_guard.stop();
    for (const auto &b : std::as_const(m_opened))
        if (b.id)
            m_env.ports->close(b.id);
    stopBackendLater(std::move(m_backend), 0, this);
    release();
}

void DeployTransaction::run() {
    Q_ASSERT(m_step == Step::Idle);
    m_step = Step::Starting;
    const Manifest &m = m_request.manifest;

    if (m_request.fromStore && !m_request.sourceDir.isEmpty() && !QFileInfo(m_request.sourceDir).isDir()) {
        // A moved or re-cloned checkout: nothing of this project can run, so it keeps no
        // port; it stays listed (failed, with the reason) until deployed again.
        const QString reason =
            QStringLiteral("its source folder %1 no longer exists (moved or deleted?); not started, "
                           "its ports are free. Deploy it again from where it is now, or undeploy it")
                .arg(m_request.sourceDir);
        if (!m_env.state->find(m.name))
            registerFailed(reason);
        finish(ApiResult::failure(protocol::error::BackendFailed, reason,
                                  {{QStringLiteral("project"), m.name}}));
        return;
    }

    // Plan: conflicts with other projects, deploys in progress, the configuration and the host.
    m_plan = planOnHost(m_env, m);
    if (!m_plan.ok() && !m_request.fromStore) {
        finish(conflictResult(m.name, m_plan));
        return;
    }

    // Reserve: from here until publish or unwind, a concurrent deploy of another project
    // that wants one of these ports loses in its plan.
    QList<ListenSpec> claim;
    for (const auto &spec : std::as_const(m_plan.diff.added))
        if (!conflictFor(m_plan, spec))
            claim.append(spec);
    if (!claim.isEmpty())
        m_env.state->reserved[m.name] = claim;

    // Create the backend (nothing runs yet): a runtime that cannot be had refuses here.
    QString error;
    RefusalKind kind = RefusalKind::BackendFailed;
    m_backend.reset(m_env.backends->create(m, m_request.sourceDir, &error, &kind).release());
    if (!m_backend) {
        unwind(refusalCode(kind), error, {});
        return;
    }

    // Bind the new ports: once bound they are ours, whatever the backend does.
    if (!bind(!m_request.fromStore))
        return;

    // Start, and wait for ready() or failed() (upstream and static say so inside start()).
    Backend *raw = m_backend.get();
    connect(raw, &Backend::ready, this, [this] {
        if (m_step == Step::Starting)
            onReady();
    });
    connect(raw, &Backend::failed, this, [this](const QString &reason) {
        if (m_step != Step::Starting)
            return;
        unwind(refusalCode(m_backend ? m_backend->failureKind() : RefusalKind::BackendFailed), reason, {});
    });
    m_guard.start(m_env.readyTimeoutMs + m_env.readyMarginMs);
    raw->start();
}

bool DeployTransaction::bind(bool refuseOnConflict) {
    if (m_bound)
        return true;
    m_bound = true;
    const QString name = m_request.manifest.name;
    for (const auto &spec : std::as_const(m_plan.diff.added)) {
        Binding b;
        b.spec = spec;
        b.stats = std::make_shared<RouteStats>();
        if (const Conflict *conflict = conflictFor(m_plan, spec)) {
            b.conflict = *conflict; // only from the store: shown in the route
            m_opened.append(b);
            continue;
        }
        QString bindError;
        b.id = m_env.ports->open(name, spec, b.stats, &bindError);
        if (b.id == 0) {
            b.conflict = hostConflict(spec, bindError);
            if (refuseOnConflict) {
                Plan failed = m_plan;
                failed.conflicts = {b.conflict};
                const ApiResult r = conflictResult(name, failed);
                unwind(r.errorCode, r.errorMessage, r.errorData);
                return false;
            }
        }
        m_opened.append(b);
    }
    return true;
}

void DeployTransaction::onReady() {
    m_guard.stop();
    m_backend->disconnect(this);
    const StoredProject stored{m_request.manifest, m_request.sourceDir};
    const Project *current = m_env.state->find(stored.manifest.name);
    // Persist: only what is not on disk already. A manifest that cannot be written is not
    // deployed: after a restart the daemon would bring back something else.
    if (!m_request.fromStore && (!current || !(current->stored == stored))) {
        QString error;
        if (!m_env.store->save(stored, &error)) {
            unwind(protocol::error::StateWriteFailed,
                   QStringLiteral("cannot save project state: %1").arg(error), {});
            return;
        }
    }
    commit();
}

void DeployTransaction::commit() {
    const QString name = m_request.manifest.name;
    auto &projects = m_env.state->projects;
    const auto it = projects.find(name);

    Project next;
    next.stored = {m_request.manifest, m_request.sourceDir};
    next.backend = std::move(m_backend);
    next.ingressStats = std::make_shared<RouteStats>();
    BackendPtr oldBackend;
    if (it != projects.end()) {
        Project &prev = it->second;
        next.ingressStats = prev.ingressStats; // counters carry over a redeploy
        oldBackend = std::move(prev.backend);
        const QString oldText =
            oldBackend && oldBackend->target().isValid() ? oldBackend->target().describe() : QString();
        for (const auto &b : std::as_const(prev.bindings)) {
            if (m_plan.diff.kept.contains(b.spec)) {
                next.bindings.append(b);
            } else if (b.id) {
                // Drain: stop accepting, let what it carries finish.
                m_env.state->draining[b.id] = {name, b.spec, b.stats, oldText};
                m_env.ports->drain(b.id);
            }
        }
    }
    next.bindings.append(m_opened);
    m_opened.clear();
    // Keep the manifest's order of listen entries.
    const auto &order = m_request.manifest.listen;
    std::stable_sort(next.bindings.begin(), next.bindings.end(), [&](const Binding &a, const Binding &b) {
        return order.indexOf(a.spec) < order.indexOf(b.spec);
    });
    m_env.sink->watch(name, next.backend.get());
    projects[name] = std::move(next);
    release();
    // Publish: from this turn on the new version takes the traffic.
    m_env.sink->publish();
    // The old version finishes what it carries before it stops; its state and output are
    // no longer the project's.
    if (oldBackend)
        m_env.sink->unwatch(oldBackend.get());
    stopBackendLater(std::move(oldBackend), m_env.drainTimeoutMs, nullptr);

    const Project &p = projects[name];
    m_env.sink->event(QString::fromLatin1(protocol::event::ProjectDeployed),
                      {{QStringLiteral("project"), name}, {QStringLiteral("diff"), m_plan.diff.toJson()}});
    for (const auto &b : p.bindings) {
        if (b.id == 0)
            m_env.sink->event(QString::fromLatin1(protocol::event::Conflict),
                              {{QStringLiteral("project"), name},
                               {QStringLiteral("port"), int(b.spec.port)},
                               {QStringLiteral("transport"), transportName(b.spec.transport())},
                               {QStringLiteral("reason"), b.conflict.message}});
    }
    finish(ApiResult::success(
        QJsonObject{{QStringLiteral("project"), name}, {QStringLiteral("diff"), m_plan.diff.toJson()}}));
}

void DeployTransaction::unwind(int code, const QString &message, const QJsonObject &data) {
    m_guard.stop();
    const QString name = m_request.manifest.name;
    const QStringList tail = m_backend ? m_backend->logTail(20) : QStringList();
    stopBackendLater(std::move(m_backend), 0, this);
    const bool keepPlace = m_request.fromStore && !m_env.state->find(name);
    if (keepPlace) {
        // A persisted project that cannot come up keeps its place (and the ports it could
        // bind) and shows why in its routes.
        bind(false);
        registerFailed(message);
    } else {
        for (const auto &b : std::as_const(m_opened))
            if (b.id)
                m_env.ports->close(b.id);
        m_opened.clear();
        release();
    }
    QJsonObject details = data;
    details.insert(QStringLiteral("project"), name);
    QString sentence = message;
    if (code == protocol::error::BackendFailed && m_bound) {
        sentence = QStringLiteral("project '%1' did not start: %2").arg(name, message);
        details.insert(QStringLiteral("log"), QJsonArray::fromStringList(tail));
    }
    finish(ApiResult::failure(code, sentence, details));
}

void DeployTransaction::registerFailed(const QString &reason) {
    const QString name = m_request.manifest.name;
    Project p;
    p.stored = {m_request.manifest, m_request.sourceDir};
    p.ingressStats = std::make_shared<RouteStats>();
    p.failure = reason;
    p.bindings = m_opened;
    m_opened.clear();
    m_env.state->projects[name] = std::move(p);
    release();
    m_env.sink->publish();
}

void DeployTransaction::release() {
    m_env.state->reserved.erase(m_request.manifest.name);
}

void DeployTransaction::finish(const ApiResult &result) {
    m_step = Step::Done;
    if (!result.ok()) {
        QJsonObject data = result.errorData;
        data.insert(QStringLiteral("project"), m_request.manifest.name);
        data.insert(QStringLiteral("message"), result.errorMessage);
        m_env.sink->event(QString::fromLatin1(protocol::event::DeployRefused), data);
    }
    if (auto f = std::exchange(m_finished, nullptr))
        f(result);
}

} // namespace portico

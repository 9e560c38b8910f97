// The deploy transaction step by step, without sockets or processes: every collaborator
// is a fake that records what was asked of it in one journal and can be told to fail,
// so that each step's failure is provoked on its own and its unwinding checked.
#include "core/deploytransaction.h"
#include "protocol.h"

#include <QDir>
#include <QPointer>
#include <QSignalSpy>
#include <QTest>

using namespace portico;

namespace {

// A backend that starts the way it is told to and records its life in the journal.
class FakeBackend final : public Backend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeBackend)
public:
    enum class OnStart { Wait, Ready, Fail };
    FakeBackend(const QString &name, OnStart onStart, QStringList *journal)
        : m_name(name), m_onStart(onStart), m_journal(journal) {}
    void start() override {
        m_journal->append(QStringLiteral("start ") + m_name);
        m_state = BackendState::Starting;
        if (m_onStart == OnStart::Ready)
            becomeReady();
        else if (m_onStart == OnStart::Fail)
            Q_EMIT failed(QStringLiteral("exited with code 3"));
    }
    void stop() override {
        m_journal->append(QStringLiteral("stop ") + m_name);
        m_state = BackendState::Stopped;
        Q_EMIT stopped();
    }
    void restart() override {}
    BackendTarget target() const override { return m_target; }
    BackendState state() const override { return m_state; }
    QStringList logTail(int) const override { return {QStringLiteral("last words of ") + m_name}; }

    void becomeReady() {
        m_state = BackendState::Running;
        m_target.kind = BackendTarget::Kind::Tcp;
        m_target.host = QStringLiteral("127.0.0.1");
        m_target.port = 20000;
        Q_EMIT ready();
    }
    void fail() { Q_EMIT failed(QStringLiteral("exited with code 3")); }
    QString name() const { return m_name; }

private:
    QString m_name;
    OnStart m_onStart;
    QStringList *m_journal;
    BackendState m_state = BackendState::Stopped;
    BackendTarget m_target;
};

// Every collaborator of a deploy, with a journal of what it was asked, in order.
struct World final : DeployPorts, BackendMaker, StateWriter, DeploySink {
    QStringList journal;
    ProjectSet state;
    // What fails.
    QSet<quint16> busyOnHost;                            // the test bind says no
    QSet<quint16> bindFails;                             // the bind says no
    QString createError;                                 // the backend cannot be made
    RefusalKind createKind = RefusalKind::BackendFailed; // what that failure means (1004 or 1005)
    QString saveError;                                   // the state cannot be written
    FakeBackend::OnStart onStart = FakeBackend::OnStart::Ready;
    // What is.
    ListenerId nextId = 1;
    QSet<ListenerId> live; // bound and not closed or drained
    QList<QPointer<FakeBackend>> made;
    QMap<QString, StoredProject> saved;
    QStringList events;

    DeployEnv env() {
        DeployEnv e;
        e.state = &state;
        e.ports = this;
        e.backends = this;
        e.store = this;
        e.sink = this;
        e.limits = {8080, {}, 1024, 65535};
        e.readyTimeoutMs = 100;
        e.readyMarginMs = 0;
        e.drainTimeoutMs = 0;
        return e;
    }

    bool probe(const ListenSpec &spec, QString *error) override {
        journal << QStringLiteral("probe ") + spec.portLabel();
        if (busyOnHost.contains(spec.port)) {
            *error = QStringLiteral("address already in use");
            return false;
        }
        return true;
    }
    ListenerId open(const QString &project, const ListenSpec &spec, const std::shared_ptr<RouteStats> &,
                    QString *error) override {
        if (bindFails.contains(spec.port)) {
            journal << QStringLiteral("open %1 %2 refused").arg(project, spec.portLabel());
            *error = QStringLiteral("address already in use");
            return 0;
        }
        const ListenerId id = nextId++;
        journal << QStringLiteral("open %1 %2 #%3").arg(project, spec.portLabel()).arg(id);
        live.insert(id);
        return id;
    }
    void close(ListenerId id) override {
        journal << QStringLiteral("close #%1").arg(id);
        live.remove(id);
    }
    void drain(ListenerId id) override {
        journal << QStringLiteral("drain #%1").arg(id);
        live.remove(id);
    }
    std::unique_ptr<Backend> create(const Manifest &m, const QString &, QString *error,
                                    RefusalKind *kind) override {
        journal << QStringLiteral("create ") + m.name;
        if (!createError.isEmpty()) {
            *error = createError;
            *kind = createKind;
            return nullptr;
        }
        auto b = std::make_unique<FakeBackend>(m.name + QLatin1Char('#') + QString::number(made.size() + 1),
                                               onStart, &journal);
        made.append(b.get());
        return b;
    }
    bool save(const StoredProject &p, QString *error) override {
        journal << QStringLiteral("save ") + p.manifest.name;
        if (!saveError.isEmpty()) {
            *error = saveError;
            return false;
        }
        saved.insert(p.manifest.name, p);
        return true;
    }
    void publish() override { journal << QStringLiteral("publish"); }
    void watch(const QString &project, Backend *) override { journal << QStringLiteral("watch ") + project; }
    void unwatch(Backend *) override {}
    void event(const QString &kind, const QJsonObject &) override { events << kind; }

    // The steps' entries only (probe/open/close/...), for comparing orders.
    QStringList steps() const { return journal; }
};

ListenSpec spec(quint16 port, Protocol p = Protocol::Http) {
    ListenSpec s;
    s.port = port;
    s.protocol = p;
    return s;
}

Manifest manifest(const QString &name, const QList<quint16> &ports, const QString &upstream = {}) {
    Manifest m;
    m.name = name;
    m.runtime = RuntimeKind::Upstream;
    m.upstream = upstream.isEmpty() ? QStringLiteral("127.0.0.1:9000") : upstream;
    for (quint16 p : ports)
        m.listen.append(spec(p));
    m.listenShape = ports.isEmpty() ? Manifest::ListenShape::Absent : Manifest::ListenShape::Array;
    return m;
}

// Runs one deploy to its answer (or leaves it in flight when the backend waits).
struct Run {
    std::unique_ptr<DeployTransaction> t;
    std::shared_ptr<std::optional<ApiResult>> result = std::make_shared<std::optional<ApiResult>>();
    bool answered() const { return result->has_value(); }
    const ApiResult &r() const { return **result; }
};

Run deploy(World &w, const Manifest &m, bool fromStore = false, const QString &sourceDir = QDir::rootPath()) {
    Run run;
    auto result = run.result;
    run.t = std::make_unique<DeployTransaction>(w.env(), DeployRequest{m, sourceDir, fromStore},
                                                [result](const ApiResult &r) {
                                                    if (result->has_value())
                                                        qFatal("a deploy answered twice");
                                                    *result = r;
                                                });
    run.t->run();
    return run;
}

// Deploys version 1 of "app" (port 3000) and checks it took.
void deployVersion1(World &w) {
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000}));
    QVERIFY(r.answered());
    QVERIFY2(r.r().ok(), qPrintable(r.r().errorMessage));
    w.journal.clear();
    w.events.clear();
}

} // namespace

class TestDeployTransaction : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void newProjectGoesThroughEveryStepInOrder();
    void eachFailureUnwindsWhatThisDeployDid_data();
    void eachFailureUnwindsWhatThisDeployDid();
    void redeployDrainsWhatTheOldVersionHeld();
    void unchangedRedeployIsNotWrittenAgain();
    void reservationMakesASecondClaimLose();
    void reservationIsReleasedWhenTheDeployUnwinds();
    void readyLaterFinishesTheDeploy();
    void fromStoreKeepsAFailedProjectInPlace();
    void fromStoreIsNotWrittenAgain();
    void fromStoreWithItsFolderGoneHoldsNoPort();
    void destroyedInFlightLetsGoWithoutAnswer();
};

void TestDeployTransaction::newProjectGoesThroughEveryStepInOrder() {
    World w;
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000}));
    QVERIFY(r.answered());
    QVERIFY2(r.r().ok(), qPrintable(r.r().errorMessage));
    QCOMPARE(w.steps(), (QStringList{"probe 3000/tcp", "create app", "open app 3000/tcp #1", "start app#1",
                                     "save app", "watch app", "publish"}));
    const Project *p = w.state.find(QStringLiteral("app"));
    QVERIFY(p);
    QCOMPARE(p->bindings.size(), 1);
    QCOMPARE(p->bindings.first().id, ListenerId(1));
    QVERIFY(p->backend);
    QVERIFY(w.state.reserved.empty());
    QCOMPARE(w.events, QStringList{protocol::event::ProjectDeployed});
}

// Every row is a redeploy of "app" (running on 3000) to a version that adds 3001 and 3002;
// one step fails. Whatever fails, version 1 keeps running untouched, every port this
// deploy bound is closed, the backend it made is stopped, nothing is written or published.
void TestDeployTransaction::eachFailureUnwindsWhatThisDeployDid_data() {
    QTest::addColumn<QString>("failure");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QStringList>("steps"); // of the failed deploy

    QTest::newRow("plan: port held by another project")
        << "other" << protocol::error::Conflict << "port 3001/tcp is already bound by project 'other'"
        << QStringList{"probe 3002/tcp"};
    QTest::newRow("plan: port busy on the host")
        << "host" << protocol::error::Conflict << "port 3001/tcp is in use on this host by another program"
        << QStringList{"probe 3001/tcp", "probe 3002/tcp"};
    QTest::newRow("create: runtime unavailable")
        << "docker" << protocol::error::RuntimeUnavailable
        << "the dockerfile runtime needs a Docker engine, none answers"
        << QStringList{"probe 3001/tcp", "probe 3002/tcp", "create app"};
    QTest::newRow("create: backend cannot be made")
        << "create" << protocol::error::BackendFailed << "workdir /nowhere is not a directory"
        << QStringList{"probe 3001/tcp", "probe 3002/tcp", "create app"};
    QTest::newRow("bind: second port refused")
        << "bind" << protocol::error::Conflict << "port 3002/tcp is in use on this host by another program"
        << QStringList{"probe 3001/tcp",
                       "probe 3002/tcp",
                       "create app",
                       "open app 3001/tcp #2",
                       "open app 3002/tcp refused",
                       "stop app#2",
                       "close #2"};
    QTest::newRow("start: backend fails")
        << "fails" << protocol::error::BackendFailed << "project 'app' did not start: exited with code 3"
        << QStringList{"probe 3001/tcp",
                       "probe 3002/tcp",
                       "create app",
                       "open app 3001/tcp #2",
                       "open app 3002/tcp #3",
                       "start app#2",
                       "stop app#2",
                       "close #2",
                       "close #3"};
    QTest::newRow("start: backend never ready")
        << "hangs" << protocol::error::BackendFailed << "project 'app' did not start: not ready after 100 ms"
        << QStringList{"probe 3001/tcp",
                       "probe 3002/tcp",
                       "create app",
                       "open app 3001/tcp #2",
                       "open app 3002/tcp #3",
                       "start app#2",
                       "stop app#2",
                       "close #2",
                       "close #3"};
    QTest::newRow("persist: state cannot be written")
        << "save" << protocol::error::StateWriteFailed
        << "cannot save project state: no space left on device (state dir /state)"
        << QStringList{"probe 3001/tcp",
                       "probe 3002/tcp",
                       "create app",
                       "open app 3001/tcp #2",
                       "open app 3002/tcp #3",
                       "start app#2",
                       "save app",
                       "stop app#2",
                       "close #2",
                       "close #3"};
}

void TestDeployTransaction::eachFailureUnwindsWhatThisDeployDid() {
    QFETCH(QString, failure);
    QFETCH(int, code);
    QFETCH(QString, message);
    QFETCH(QStringList, steps);

    World w;
    deployVersion1(w);
    const Project *v1 = w.state.find(QStringLiteral("app"));
    const Backend *v1Backend = v1->backend.get();
    const StoredProject v1Stored = v1->stored;
    const QSet<ListenerId> v1Open = w.live;

    if (failure == QLatin1String("other")) {
        w.state.projects[QStringLiteral("other")].bindings.append({spec(3001), 77, {}, {}});
    } else if (failure == QLatin1String("host")) {
        w.busyOnHost.insert(3001);
    } else if (failure == QLatin1String("docker")) {
        w.createError = QStringLiteral("the dockerfile runtime needs a Docker engine, none answers at "
                                       "unix:///var/run/docker.sock");
        w.createKind = RefusalKind::RuntimeUnavailable;
    } else if (failure == QLatin1String("create")) {
        w.createError = QStringLiteral("workdir /nowhere is not a directory");
    } else if (failure == QLatin1String("bind")) {
        w.bindFails.insert(3002);
    } else if (failure == QLatin1String("fails")) {
        w.onStart = FakeBackend::OnStart::Fail;
    } else if (failure == QLatin1String("hangs")) {
        w.onStart = FakeBackend::OnStart::Wait;
    } else if (failure == QLatin1String("save")) {
        w.saveError = QStringLiteral("no space left on device (state dir /state)");
    }

    Run r = deploy(w, manifest(QStringLiteral("app"), {3000, 3001, 3002}, QStringLiteral("127.0.0.1:9001")));
    QTRY_VERIFY(r.answered()); // at once, but for the ready timeout
    QCOMPARE(r.r().errorCode, code);
    QVERIFY2(r.r().errorMessage.startsWith(message), qPrintable(r.r().errorMessage));
    QCOMPARE(r.r().errorData.value(QStringLiteral("project")).toString(), QStringLiteral("app"));
    QCOMPARE(w.steps(), steps);

    // Version 1 is untouched: same backend, same file, same listeners, nothing drained.
    const Project *now = w.state.find(QStringLiteral("app"));
    QVERIFY(now);
    QCOMPARE(now->backend.get(), v1Backend);
    QVERIFY(now->stored == v1Stored);
    QCOMPARE(now->backend->state(), BackendState::Running);
    QCOMPARE(w.live, v1Open);
    QVERIFY(w.state.draining.empty());
    QVERIFY(w.state.reserved.empty());
    QCOMPARE(w.state.projects.size(), size_t(failure == QLatin1String("other") ? 2 : 1));
    QVERIFY(!w.journal.contains(QStringLiteral("publish")));
    QCOMPARE(w.events, QStringList{protocol::event::DeployRefused});
    // The backend this deploy made is stopped, then deleted.
    if (w.made.size() > 1) {
        QTRY_VERIFY(w.made.last().isNull());
    }
}

void TestDeployTransaction::redeployDrainsWhatTheOldVersionHeld() {
    World w;
    Run v1 = deploy(w, manifest(QStringLiteral("app"), {3000, 3001}));
    QVERIFY(v1.answered() && v1.r().ok());
    QPointer<FakeBackend> oldBackend = w.made.first();
    w.journal.clear();

    Run v2 = deploy(w, manifest(QStringLiteral("app"), {3000, 3002}, QStringLiteral("127.0.0.1:9001")));
    QVERIFY(v2.answered());
    QVERIFY2(v2.r().ok(), qPrintable(v2.r().errorMessage));
    // 3000 is kept (same listener), 3001 drains, 3002 is new; the old backend stops after
    // the drain timeout (0 here), the new one is watched before the table is published.
    QCOMPARE(w.steps(), (QStringList{"probe 3002/tcp", "create app", "open app 3002/tcp #3", "start app#2",
                                     "save app", "drain #2", "watch app", "publish", "stop app#1"}));
    const Project *p = w.state.find(QStringLiteral("app"));
    QCOMPARE(p->bindings.size(), 2);
    QCOMPARE(p->bindings.at(0).id, ListenerId(1));
    QCOMPARE(p->bindings.at(1).id, ListenerId(3));
    QCOMPARE(w.state.draining.size(), size_t(1));
    QCOMPARE(w.state.draining.begin()->second.spec.port, quint16(3001));
    QCOMPARE(w.saved.value(QStringLiteral("app")).manifest.upstream, QStringLiteral("127.0.0.1:9001"));
    QTRY_VERIFY(oldBackend.isNull());
}

void TestDeployTransaction::unchangedRedeployIsNotWrittenAgain() {
    World w;
    deployVersion1(w);
    w.saveError = QStringLiteral("would fail"); // not asked
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000}));
    QVERIFY(r.answered());
    QVERIFY2(r.r().ok(), qPrintable(r.r().errorMessage));
    QVERIFY(!w.journal.contains(QStringLiteral("save app")));
}

void TestDeployTransaction::reservationMakesASecondClaimLose() {
    World w;
    w.onStart = FakeBackend::OnStart::Wait;
    Run slow = deploy(w, manifest(QStringLiteral("slow"), {3000}));
    QVERIFY(!slow.answered());
    QCOMPARE(w.state.reserved.size(), size_t(1));

    // While "slow" waits for its backend, another project asks for the same port.
    w.onStart = FakeBackend::OnStart::Ready;
    Run rival = deploy(w, manifest(QStringLiteral("rival"), {3000, 3001}));
    QVERIFY(rival.answered());
    QCOMPARE(rival.r().errorCode, protocol::error::Conflict);
    QCOMPARE(rival.r().errorMessage,
             QStringLiteral("port 3000/tcp is being taken by a deploy of project 'slow' in progress"));
    const QJsonObject conflict =
        rival.r().errorData.value(QStringLiteral("conflicts")).toArray().first().toObject();
    QCOMPARE(conflict.value(QStringLiteral("holder")).toString(), QStringLiteral("slow"));
    QVERIFY(!w.state.find(QStringLiteral("rival")));

    w.made.first()->becomeReady();
    QVERIFY(slow.answered());
    QVERIFY(slow.r().ok());
    QVERIFY(w.state.reserved.empty());
    // Published: now the port is simply bound.
    Run late = deploy(w, manifest(QStringLiteral("late"), {3000}));
    QCOMPARE(late.r().errorMessage, QStringLiteral("port 3000/tcp is already bound by project 'slow'"));
}

void TestDeployTransaction::reservationIsReleasedWhenTheDeployUnwinds() {
    World w;
    w.onStart = FakeBackend::OnStart::Wait;
    Run slow = deploy(w, manifest(QStringLiteral("slow"), {3000}));
    QVERIFY(!w.state.reserved.empty());
    w.made.first()->fail();
    QVERIFY(slow.answered());
    QCOMPARE(slow.r().errorCode, protocol::error::BackendFailed);
    QVERIFY(w.state.reserved.empty());
    QVERIFY(w.live.isEmpty());

    w.onStart = FakeBackend::OnStart::Ready;
    Run next = deploy(w, manifest(QStringLiteral("next"), {3000}));
    QVERIFY2(next.r().ok(), qPrintable(next.r().errorMessage));
}

void TestDeployTransaction::readyLaterFinishesTheDeploy() {
    World w;
    w.onStart = FakeBackend::OnStart::Wait;
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000}));
    QCOMPARE(r.t->step(), DeployTransaction::Step::Starting);
    QVERIFY(!w.state.find(QStringLiteral("app"))); // not published before it is ready
    w.made.first()->becomeReady();
    QVERIFY(r.answered() && r.r().ok());
    QCOMPARE(r.t->step(), DeployTransaction::Step::Done);
    // A later ready() (a supervised restart) is not a second answer.
    w.made.first()->becomeReady();
}

void TestDeployTransaction::fromStoreKeepsAFailedProjectInPlace() {
    World w;
    w.state.projects[QStringLiteral("other")].bindings.append({spec(3001), 77, {}, {}});
    w.onStart = FakeBackend::OnStart::Fail;
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000, 3001}), true);
    QVERIFY(r.answered());
    QCOMPARE(r.r().errorCode, protocol::error::BackendFailed);
    const Project *p = w.state.find(QStringLiteral("app"));
    QVERIFY(p);
    QCOMPARE(p->failure, QStringLiteral("exited with code 3"));
    QCOMPARE(p->bindings.size(), 2);
    QCOMPARE(p->bindings.at(0).id, ListenerId(1)); // it keeps the port it could have
    QCOMPARE(p->bindings.at(1).id, ListenerId(0)); // and shows the conflict of the other
    QCOMPARE(p->bindings.at(1).conflict.holder, QStringLiteral("other"));
    QVERIFY(w.live.contains(1));
    QVERIFY(w.state.reserved.empty());
    QVERIFY(!w.journal.contains(QStringLiteral("save app")));
    QVERIFY(w.journal.contains(QStringLiteral("publish")));
}

void TestDeployTransaction::fromStoreIsNotWrittenAgain() {
    World w;
    w.saveError = QStringLiteral("read-only file system");
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000}), true);
    QVERIFY(r.answered());
    QVERIFY2(r.r().ok(), qPrintable(r.r().errorMessage));
    QVERIFY(!w.journal.contains(QStringLiteral("save app")));
    QVERIFY(w.state.find(QStringLiteral("app")));
}

void TestDeployTransaction::fromStoreWithItsFolderGoneHoldsNoPort() {
    World w;
    Run r =
        deploy(w, manifest(QStringLiteral("gone"), {3000}), true, QStringLiteral("/nonexistent/checkout"));
    QVERIFY(r.answered());
    QCOMPARE(r.r().errorCode, protocol::error::BackendFailed);
    QVERIFY(r.r().errorMessage.contains(
        QStringLiteral("its source folder /nonexistent/checkout no longer exists")));
    const Project *p = w.state.find(QStringLiteral("gone"));
    QVERIFY(p);
    QVERIFY(!p->failure.isEmpty());
    QVERIFY(p->bindings.isEmpty());
    QCOMPARE(w.steps(), QStringList{QStringLiteral("publish")}); // nothing probed, made or bound
}

void TestDeployTransaction::destroyedInFlightLetsGoWithoutAnswer() {
    World w;
    w.onStart = FakeBackend::OnStart::Wait;
    Run r = deploy(w, manifest(QStringLiteral("app"), {3000, 3001}));
    QCOMPARE(w.live.size(), 2);
    QPointer<FakeBackend> backend = w.made.first();
    r.t.reset();
    QVERIFY(!r.answered());
    QVERIFY(w.live.isEmpty());
    QVERIFY(w.state.reserved.empty());
    QVERIFY(w.journal.contains(QStringLiteral("stop app#1")));
    QTRY_VERIFY(backend.isNull());
}

QTEST_GUILESS_MAIN(TestDeployTransaction)
#include "tst_deploytransaction.moc"

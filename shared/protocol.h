#pragma once

// The admin protocol's names and numbers, shared by the daemon, porticoctl and the
// dashboard. See docs/admin-protocol.md for the changelog.
namespace portico::protocol {

inline constexpr int kVersion = 2;

namespace method {
inline constexpr char DaemonInfo[] = "daemon.info";
inline constexpr char DaemonReload[] = "daemon.reload";
inline constexpr char RoutesList[] = "routes.list";
inline constexpr char ProjectsList[] = "projects.list";
inline constexpr char ProjectsGet[] = "projects.get";
inline constexpr char ProjectsValidate[] = "projects.validate";
inline constexpr char ProjectsDeploy[] = "projects.deploy";
inline constexpr char ProjectsUndeploy[] = "projects.undeploy";
inline constexpr char ProjectsRestart[] = "projects.restart";
inline constexpr char ProjectsLogs[] = "projects.logs";
inline constexpr char StatsGet[] = "stats.get";
inline constexpr char EventsSubscribe[] = "events.subscribe";
inline constexpr char AuditList[] = "audit.list";
inline constexpr char Event[] = "event"; // notification method
} // namespace method

// JSON-RPC 2.0 codes, then Portico's own (stable: scripts match on them).
namespace error {
inline constexpr int ParseError = -32700;
inline constexpr int InvalidRequest = -32600;
inline constexpr int MethodNotFound = -32601;
inline constexpr int InvalidParams = -32602;
inline constexpr int InternalError = -32603;
inline constexpr int ValidationFailed = 1001;   // data.errors: [{path, message}]
inline constexpr int Conflict = 1002;           // data.conflicts: [{port, transport, holder, message}]
inline constexpr int NotFound = 1003;           // no such project
inline constexpr int BackendFailed = 1004;      // the backend did not start; data.log: tail of its output
inline constexpr int RuntimeUnavailable = 1005; // e.g. dockerfile without an engine
inline constexpr int LineTooLong = 1006;        // the request line is over the limit; the connection closes
inline constexpr int Busy = 1007;               // too many clients / queued operations
inline constexpr int StateWriteFailed = 1008; // the daemon cannot write its state (disk full, read-only, ...)
} // namespace error

// Event kinds carried by "event" notifications: params = {kind, data, time}.
namespace event {
inline constexpr char RoutesChanged[] = "routes.changed"; // data: {routes: [...]}
inline constexpr char ProjectState[] = "project.state";   // data: {project, state, reason}
inline constexpr char ProjectDeployed[] = "project.deployed";
inline constexpr char ProjectUndeployed[] = "project.undeployed";
inline constexpr char DeployRefused[] = "deploy.refused"; // data: {project, errors|conflicts}
inline constexpr char Conflict[] = "route.conflict";      // data: {project, port, transport, reason}
inline constexpr char StatsTick[] = "stats.tick";         // 1 Hz: stats.get's result
inline constexpr char Log[] = "project.log";              // data: {project, time, stream, text}
} // namespace event

} // namespace portico::protocol

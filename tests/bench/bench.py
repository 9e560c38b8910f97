#!/usr/bin/env python3
"""Portico benchmark driver (started by tests/bench/run.sh, which builds what it needs).

Starts, on 127.0.0.1 with probed-free ports and a temp dir: one origin (nginx: a small
response and a 1 MiB file, keep-alive on), a raw TCP sink/source (tcpbench), and three
proxies in front of them: porticod (an `upstream` project routed on the ingress by path and
on a dedicated http port, plus a `tcp` project), HAProxy (mode http + mode tcp) and nginx
(proxy_pass with upstream keepalive + `stream`). Then it measures with wrk and tcpbench,
interleaving the targets round by round, and prints a Markdown report of medians and
porticod/HAProxy, porticod/nginx ratios.

Every process runs in its own process group with PR_SET_PDEATHSIG, and is stopped in a
`finally` (also on Ctrl-C / SIGTERM / SIGHUP). Every wait and loop is bounded.
"""
import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

SMALL_BODY = "portico-bench small response: " + "x" * 70 + "\n"  # 101 bytes
BIG_BYTES = 1 << 20
PR_SET_PDEATHSIG = 1


class Abort(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def die_with_parent():
    """preexec_fn: the child gets SIGTERM if this driver dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def free_ports(n):
    """n distinct ports the OS just handed out on 127.0.0.1 (probed free, then released)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def wait_port(port, seconds, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Abort(f"process for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Abort(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def proc_children(pid):
    """Direct children of pid (nginx workers of a master)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def cpu_seconds(pids):
    """utime+stime of the given processes (all their threads), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Procs:
    """Every process the benchmark started; stop_all() is idempotent and bounded."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []  # (name, Popen)

    def start(self, name, argv, **kw):
        out = open(os.path.join(self.tmp, f"{name}.log"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, preexec_fn=die_with_parent, **kw)
        out.close()
        self.procs.append((name, p))
        return p

    def log_tail(self, name, lines=15):
        try:
            with open(os.path.join(self.tmp, f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)  # its own group: the process and its workers
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)
        self.procs = []


# ---------------------------------------------------------------- configurations

def nginx_common(tmp, sub, workers):
    d = os.path.join(tmp, sub)
    os.makedirs(d, exist_ok=True)
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    temps = "\n".join(f"    {k}_temp_path {d}/{k}_temp;" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return d, user, temps


def origin_conf(tmp, port, www):
    d, user, temps = nginx_common(tmp, "origin", 1)
    conf = f"""{user}
worker_processes 1;
# The idle and burst runs open up to 10,000 connections at once through each proxy.
worker_rlimit_nofile 20000;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
{temps}
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
        location = /small {{ default_type text/plain; return 200 "{SMALL_BODY.strip()}\\n"; }}
        location / {{ default_type application/octet-stream; }}
    }}
}}
"""
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return d, path


def nginx_proxy_conf(tmp, port, tcp_port, origin_port, sink_port, ws_port, stream_module):
    d, user, temps = nginx_common(tmp, "nginx", 2)
    load = f"load_module {stream_module};" if stream_module else ""
    stream = f"""
stream {{
    upstream sink {{ server 127.0.0.1:{sink_port}; }}
    server {{
        listen 127.0.0.1:{tcp_port};
        proxy_pass sink;
    }}
}}""" if stream_module else ""
    conf = f"""{load}
{user}
worker_processes 2;
worker_rlimit_nofile 20000;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 20000; }}
http {{
    access_log off;
{temps}
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    upstream origin {{
        server 127.0.0.1:{origin_port};
        keepalive 64;
        keepalive_requests 10000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /ws {{
            proxy_pass http://127.0.0.1:{ws_port};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1h;
        }}
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Stream through memory buffers, never spill a 1 MiB body to a temp file.
            proxy_max_temp_file_size 0;
        }}
    }}
}}{stream}
"""
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return d, path


def haproxy_conf(tmp, port, tcp_port, origin_port, sink_port, ws_port):
    d = os.path.join(tmp, "haproxy")
    os.makedirs(d, exist_ok=True)
    conf = f"""global
    nbthread 2
    # HAProxy sizes its descriptor limit as 2 x maxconn + a few and refuses to start above
    # the hard limit (20000 here): 9990 is the most it takes.
    maxconn 9990

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option http-keep-alive

frontend fe_http
    bind 127.0.0.1:{port}
    use_backend be_ws if {{ path_beg /ws }}
    default_backend be_http

backend be_ws
    option forwardfor
    server wsecho 127.0.0.1:{ws_port}

backend be_http
    option forwardfor
    server origin 127.0.0.1:{origin_port}

frontend fe_tcp
    mode tcp
    bind 127.0.0.1:{tcp_port}
    default_backend be_tcp

backend be_tcp
    mode tcp
    server sink 127.0.0.1:{sink_port}
"""
    path = os.path.join(d, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(conf)
    return path


# ---------------------------------------------------------------- measurements

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(out):
    r = {"rps": None, "p50": None, "p99": None, "requests": 0, "errors": 0}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            r["rps"] = float(line.split()[1])
        elif line.startswith("50%"):
            r["p50"] = parse_duration_ms(line.split()[1])
        elif line.startswith("99%"):
            r["p99"] = parse_duration_ms(line.split()[1])
        elif re.match(r"^\d+ requests in", line):
            r["requests"] = int(line.split()[0])
        elif line.startswith("Socket errors:"):
            r["errors"] += sum(int(x) for x in re.findall(r"\d+", line))
        elif line.startswith("Non-2xx or 3xx responses:"):
            r["errors"] += int(line.split()[-1])
    if r["rps"] is None or r["p50"] is None or r["p99"] is None:
        raise Abort("cannot parse wrk output:\n" + out)
    return r


def run_wrk(url, threads, conns, duration, cpu_pids):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "5s", url]
    c0 = cpu_seconds(cpu_pids())
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30,
                       preexec_fn=die_with_parent)
    wall = time.monotonic() - t0
    c1 = cpu_seconds(cpu_pids())
    if p.returncode != 0:
        raise Abort(f"wrk failed on {url}: {p.stderr.strip()}")
    r = parse_wrk(p.stdout)
    r["cpu"] = c1 - c0
    r["cpu_us_per_req"] = (c1 - c0) / r["requests"] * 1e6 if r["requests"] else None
    r["cpu_pct"] = 100.0 * (c1 - c0) / wall
    return r


def run_tcp(tcpbench, port, mode, total, streams, timeout, cpu_pids):
    argv = [tcpbench, "client", "127.0.0.1", str(port), mode, str(total), str(streams), str(timeout)]
    c0 = cpu_seconds(cpu_pids())
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10,
                       preexec_fn=die_with_parent)
    c1 = cpu_seconds(cpu_pids())
    if p.returncode != 0:
        raise Abort(f"tcpbench {mode} x{streams} via port {port} failed: {p.stderr.strip()}")
    m = dict(kv.split("=") for kv in p.stdout.split())
    mib = float(m["bytes"]) / (1 << 20)
    return {"mibps": float(m["mib_per_s"]), "cpu": c1 - c0,
            "cpu_ms_per_gib": (c1 - c0) * 1000.0 / (mib / 1024.0)}


def run_ws(httpload, port, path, total, timeout, cpu_pids):
    """One upgraded connection: total bytes echoed through the tunnel."""
    argv = [httpload, "ws", "127.0.0.1", str(port), path, str(total), str(timeout)]
    c0 = cpu_seconds(cpu_pids())
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, preexec_fn=die_with_parent)
    c1 = cpu_seconds(cpu_pids())
    if p.returncode != 0:
        raise Abort(f"httpload ws via port {port}{path} failed: {p.stderr.strip()}")
    m = dict(kv.split("=") for kv in p.stdout.split())
    mib = float(m["bytes"]) / (1 << 20)
    return {"mibps": float(m["mib_per_s"]), "cpu_ms_per_gib": (c1 - c0) * 1000.0 / (mib / 1024.0)}


def rss_kib(pids):
    return sum(filter(None, (status_kib(p, "VmRSS") for p in pids)))


def idle_memory(httpload, port, path, n, pids, timeout=120):
    """RSS growth per idle keep-alive connection: n connections, each answered once, held."""
    import select
    time.sleep(1)
    before = rss_kib(pids)
    p = subprocess.Popen([httpload, "idle", "127.0.0.1", str(port), path, str(n), str(timeout)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
    try:
        ready, _, _ = select.select([p.stdout], [], [], timeout + 30)
        line = p.stdout.readline() if ready else ""
        if not line.startswith("ready"):
            p.kill()
            raise Abort(f"httpload idle via {port}{path}: {p.stderr.read().strip() or 'no answer'}")
        time.sleep(1)  # let the proxy settle (pooled buffers go back once everything is written)
        during = rss_kib(pids)
    finally:
        if p.stdin:
            p.stdin.close()
        p.wait(timeout=60)
    time.sleep(1)
    after = rss_kib(pids)
    return {"before": before, "during": during, "after": after, "per_conn": (during - before) / n, "n": n}


def burst_memory(httpload, port, path, bursts, size, pids):
    """RSS after each of `bursts` bursts of `size` concurrent requests."""
    rss = []
    for _ in range(bursts):
        p = subprocess.run([httpload, "burst", "127.0.0.1", str(port), path, str(size), "120"],
                           capture_output=True, text=True, timeout=180, preexec_fn=die_with_parent)
        if p.returncode != 0:
            raise Abort(f"httpload burst via {port}{path}: {p.stdout.strip()} {p.stderr.strip()}")
        time.sleep(0.5)
        rss.append(rss_kib(pids))
    return rss


# ---------------------------------------------------------------- report helpers

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def fmt_range(values, digits=0):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"{fmt(min(values), digits)}–{fmt(max(values), digits)}"


def paired_ratios(results, a, b, key, rounds):
    """Per-round a/b (the two ran minutes apart at most, under the same load), then median."""
    out = []
    for r in range(rounds):
        va, vb = results[a][r].get(key), results[b][r].get(key)
        if va is not None and vb:
            out.append(va / vb)
    return out


def profile(args, pid, http_targets, tcp_targets, threads, conns, duration, tcp_bytes):
    """perf record (flat, by DSO and symbol) of porticod under one load at a time."""
    if not shutil.which("perf"):
        raise Abort("perf not found (apt-get install linux-perf)")
    os.makedirs(args.perf, exist_ok=True)
    base = {k: b for k, _, b, _ in http_targets}
    tcp_port = {k: p for k, _, p, _ in tcp_targets}["porticod"]
    loads = [
        ("http-small", lambda: run_wrk(base["pport"] + "/small", threads, conns, duration, lambda: [])),
        ("http-1mib", lambda: run_wrk(base["pport"] + "/1m.bin", threads, conns, duration, lambda: [])),
        ("tcp-down", lambda: [run_tcp(args.tcpbench, tcp_port, "D", tcp_bytes, 1, 60, lambda: [])
                              for _ in range(3)]),
    ]
    lines = ["# porticod profiles", ""]
    for name, load in loads:
        data = os.path.join(args.perf, f"{name}.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-p", str(pid), "-o", data],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=die_with_parent)
        try:
            time.sleep(0.5)
            load()
        finally:
            rec.send_signal(signal.SIGINT)
            rec.wait(timeout=30)
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym",
                              "--percent-limit", "0.7"], capture_output=True, text=True, timeout=120)
        path = os.path.join(args.perf, f"{name}.txt")
        with open(path, "w") as f:
            f.write(rep.stdout)
        top = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")][:25]
        lines += [f"## {name} ({path})", "```", *top, "```", ""]
        log(f"profiled {name}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--porticod", required=True)
    ap.add_argument("--porticoctl", required=True)
    ap.add_argument("--tcpbench", required=True)
    ap.add_argument("--httpload", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--quick", action="store_true", help="short run: -d3s, 256 MiB TCP transfers")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, quick 3)")
    ap.add_argument("--duration", type=int, default=None, help="wrk seconds per run (default 10, quick 3)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--many", type=int, default=1000, help="connections of the many-connections test")
    ap.add_argument("--idle", type=int, default=10000, help="idle keep-alive connections held open")
    ap.add_argument("--bursts", type=int, default=8, help="bursts of --burst-size concurrent requests")
    ap.add_argument("--burst-size", type=int, default=3000)
    ap.add_argument("--ws-mib", type=int, default=None, help="MiB per WebSocket echo (default 512, quick 128)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tcp-mib", type=int, default=None, help="MiB per TCP transfer (default 1024, quick 256)")
    ap.add_argument("--out", default=None, help="report file (default tests/bench/results/latest.md)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    ap.add_argument("--perf", metavar="DIR", default=None,
                    help="instead of the rounds: profile porticod with `perf record` under each load "
                         "(http port, small and 1 MiB; tcp download) and write the reports to DIR")
    args = ap.parse_args()

    rounds = max(1, min(args.rounds or (3 if args.quick else 5), 20))
    duration = max(1, min(args.duration or (3 if args.quick else 10), 120))
    conns = max(1, min(args.connections, 1024))
    threads = max(1, min(args.threads, conns))
    tcp_bytes = max(1, min(args.tcp_mib or (256 if args.quick else 1024), 16384)) << 20
    tcp_timeout = 60
    out_path = args.out or os.path.join(args.repo, "tests", "bench", "results", "latest.md")

    for tool in ("nginx", "haproxy", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found; run installer/deps.sh --bench")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps it so.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    # 10,000 idle connections need 10,000 descriptors in the client and in each proxy.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    tmp = tempfile.mkdtemp(prefix="portico-bench-")
    os.chmod(tmp, 0o755)  # nginx workers run as nobody when we are root
    procs = Procs(tmp)
    try:
        report = bench(args, procs, tmp, rounds, duration, conns, threads, tcp_bytes, tcp_timeout)
    except (Abort, subprocess.TimeoutExpired) as e:
        log(f"FAILED: {e}")
        for name, _ in procs.procs:
            tail = procs.log_tail(name)
            if tail:
                log(f"--- {name}.log (tail) ---\n{tail}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        return 130
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(report)
    if args.perf:
        return 0
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(report)
    log(f"report written to {out_path}")
    return 0


def bench(args, procs, tmp, rounds, duration, conns, threads, tcp_bytes, tcp_timeout):
    (p_origin, p_sink, p_ingress, p_phttp, p_ptcp, p_hhttp, p_htcp, p_nhttp, p_ntcp, p_ws) = free_ports(10)
    ws_bytes = max(1, min(args.ws_mib or (128 if args.quick else 512), 16384)) << 20
    started_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    loads = [loadavg()]

    # Origin content.
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "1m.bin"), "wb") as f:
        f.write(os.urandom(BIG_BYTES))
    os.chmod(www, 0o755)
    os.chmod(os.path.join(www, "1m.bin"), 0o644)

    # Origin + TCP sink.
    _, oconf = origin_conf(tmp, p_origin, www)
    origin = procs.start("origin", ["nginx", "-p", os.path.join(tmp, "origin"), "-c", oconf,
                                    "-e", os.path.join(tmp, "origin", "error.log"), "-g", "daemon off;"])
    # The sink's own deadline: longer than the whole plan, so it never ends mid-run.
    sink_seconds = rounds * (10 * (duration + 5) + 12 * 60) + 600
    sink = procs.start("tcpsink", [args.tcpbench, "server", str(p_sink), str(sink_seconds)])
    wsecho = procs.start("wsecho", [args.httpload, "wsecho", str(p_ws), str(sink_seconds)])
    wait_port(p_origin, 10, origin)
    wait_port(p_sink, 10, sink)
    wait_port(p_ws, 10, wsecho)

    # HAProxy.
    hconf = haproxy_conf(tmp, p_hhttp, p_htcp, p_origin, p_sink, p_ws)
    chk = subprocess.run(["haproxy", "-c", "-q", "-f", hconf], capture_output=True, text=True, timeout=20)
    if chk.returncode != 0:
        raise Abort("haproxy config: " + chk.stdout + chk.stderr)
    haproxy = procs.start("haproxy", ["haproxy", "-db", "-f", hconf])

    # nginx (stream module if the package is there).
    stream_module = next((m for m in ("/usr/lib/nginx/modules/ngx_stream_module.so",
                                      "/usr/share/nginx/modules/ngx_stream_module.so")
                          if os.path.exists(m)), None)
    if stream_module is None:
        log("nginx stream module not found (libnginx-mod-stream); nginx is left out of the TCP test")
    _, nconf = nginx_proxy_conf(tmp, p_nhttp, p_ntcp, p_origin, p_sink, p_ws, stream_module)
    nginx = procs.start("nginx", ["nginx", "-p", os.path.join(tmp, "nginx"), "-c", nconf,
                                  "-e", os.path.join(tmp, "nginx", "error.log"), "-g", "daemon off;"])

    # porticod: 2 workers, no access log, everything in the temp dir.
    pdir = os.path.join(tmp, "porticod")
    os.makedirs(os.path.join(pdir, "state"))
    sock = os.path.join(pdir, "admin.sock")
    pconf = os.path.join(pdir, "config.json")
    with open(pconf, "w") as f:
        json.dump({"workers": 2, "access_log": False, "bind": "127.0.0.1", "ingress_port": p_ingress,
                   "admin_socket": sock, "state_dir": os.path.join(pdir, "state"),
                   # Every bench client comes from 127.0.0.1: the per-source cap (1000 by
                   # default, for a host facing many addresses) and the per-listener cap
                   # (10,000) would refuse the idle and many-connection runs.
                   "max_connections_per_source": 0, "max_connections_per_listener": 20000}, f, indent=2)
    env = dict(os.environ, XDG_RUNTIME_DIR=pdir, PORTICO_SOCKET=sock)
    porticod = procs.start("porticod", [args.porticod, "--config", pconf], env=env)
    wait_port(p_ingress, 15, porticod)
    manifests = {
        # A project with `listen` is served on its port only, so the ingress gets its own.
        "bench": {"name": "bench", "runtime": "upstream", "upstream": f"127.0.0.1:{p_origin}"},
        "benchport": {"name": "benchport", "runtime": "upstream", "upstream": f"127.0.0.1:{p_origin}",
                      "listen": {"port": p_phttp, "protocol": "http"}},
        "benchtcp": {"name": "benchtcp", "runtime": "upstream", "upstream": f"127.0.0.1:{p_sink}",
                     "listen": {"port": p_ptcp, "protocol": "tcp"}},
        "benchws": {"name": "benchws", "runtime": "upstream", "upstream": f"127.0.0.1:{p_ws}"},
    }
    for name, m in manifests.items():
        mpath = os.path.join(pdir, f"{name}.json")
        with open(mpath, "w") as f:
            json.dump(m, f)
        r = subprocess.run([args.porticoctl, "--socket", sock, "deploy", mpath], capture_output=True,
                           text=True, timeout=40, env=env)
        if r.returncode != 0:
            raise Abort(f"porticoctl deploy {name}: {r.stdout}{r.stderr}")
    for port, p in ((p_hhttp, haproxy), (p_htcp, haproxy), (p_nhttp, nginx), (p_phttp, porticod),
                    (p_ptcp, porticod)):
        wait_port(port, 15, p)
    if stream_module:
        wait_port(p_ntcp, 15, nginx)
    rss_idle = status_kib(porticod.pid, "VmRSS")

    http_targets = [
        ("direct", "origin (direct)", f"http://127.0.0.1:{p_origin}", lambda: [origin.pid] + proc_children(origin.pid)),
        ("pingress", "porticod ingress", f"http://127.0.0.1:{p_ingress}/bench", lambda: [porticod.pid]),
        ("pport", "porticod http port", f"http://127.0.0.1:{p_phttp}", lambda: [porticod.pid]),
        ("haproxy", "HAProxy", f"http://127.0.0.1:{p_hhttp}", lambda: [haproxy.pid]),
        ("nginx", "nginx", f"http://127.0.0.1:{p_nhttp}", lambda: [nginx.pid] + proc_children(nginx.pid)),
    ]
    tcp_targets = [
        ("direct", "sink (direct)", p_sink, lambda: []),
        ("porticod", "porticod tcp", p_ptcp, lambda: [porticod.pid]),
        ("haproxy", "HAProxy", p_htcp, lambda: [haproxy.pid]),
    ]
    if stream_module:
        tcp_targets.append(("nginx", "nginx stream", p_ntcp, lambda: [nginx.pid] + proc_children(nginx.pid)))
    ws_targets = [
        ("direct", "echo origin (direct)", p_ws, "/ws", lambda: []),
        ("porticod", "porticod ingress", p_ingress, "/benchws/ws", lambda: [porticod.pid]),
        ("haproxy", "HAProxy", p_hhttp, "/ws", lambda: [haproxy.pid]),
        ("nginx", "nginx", p_nhttp, "/ws", lambda: [nginx.pid] + proc_children(nginx.pid)),
    ]

    # Sanity: every target answers with the right bytes before anything is timed.
    for key, label, base, _ in http_targets:
        for path, size in (("/small", len(SMALL_BODY)), ("/1m.bin", BIG_BYTES)):
            try:
                with urllib.request.urlopen(base + path, timeout=10) as resp:
                    body = resp.read()
            except OSError as e:
                raise Abort(f"{label} {base + path}: {e}")
            if resp.status != 200 or len(body) != size:
                raise Abort(f"{label} {base + path}: status {resp.status}, {len(body)} bytes, want {size}")
    for key, label, port, _ in tcp_targets:
        run_tcp(args.tcpbench, port, "U", 1 << 20, 1, 10, lambda: [])
        run_tcp(args.tcpbench, port, "D", 1 << 20, 1, 10, lambda: [])
    for key, label, port, path, _ in ws_targets:
        run_ws(args.httpload, port, path, 1 << 20, 10, lambda: [])
    log(f"all targets answer; {rounds} rounds, wrk -t{threads} -c{conns} -d{duration}s, "
        f"TCP {tcp_bytes >> 20} MiB per transfer")

    if args.perf:
        return profile(args, porticod.pid, http_targets, tcp_targets, threads, conns, duration, tcp_bytes)

    # Warm-up: fill every connection pool, fault in every page, once.
    many = max(conns, min(args.many, 5000))
    for key, label, base, _ in http_targets:
        for path, n in (("/small", conns), ("/1m.bin", conns), ("/small", many)):
            run_wrk(base + path, threads, n, 1, lambda: [])

    http_tests = [("small", f"small response ({len(SMALL_BODY)} B), {conns} connections", "/small", conns),
                  ("many", f"small response ({len(SMALL_BODY)} B), {many} connections", "/small", many),
                  ("big", f"1 MiB response, {conns} connections", "/1m.bin", conns)]
    tcp_tests = [("up1", "upload, 1 stream", "U", 1), ("down1", "download, 1 stream", "D", 1),
                 ("down4", "download, 4 streams", "D", 4)]
    http_res = {t: {k: [] for k, *_ in http_targets} for t, *_ in http_tests}
    tcp_res = {t: {k: [] for k, *_ in tcp_targets} for t, *_ in tcp_tests}
    ws_res = {k: [] for k, *_ in ws_targets}
    t_start = time.monotonic()
    round_loads = []
    for r in range(rounds):
        # ABCABC…, with the starting target rotated every round so no proxy always runs
        # right after the same neighbour.
        for tkey, tlabel, path, n in http_tests:
            order = http_targets[r % len(http_targets):] + http_targets[:r % len(http_targets)]
            for key, label, base, pids in order:
                res = run_wrk(base + path, threads, n, duration, pids)
                http_res[tkey][key].append(res)
                log(f"round {r + 1}/{rounds} {tkey:5} {label:20} {res['rps']:>10,.0f} req/s "
                    f"p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms cpu {res['cpu_pct']:.0f}%"
                    + (f"  ERRORS {res['errors']}" if res["errors"] else ""))
        for tkey, tlabel, mode, streams in tcp_tests:
            order = tcp_targets[r % len(tcp_targets):] + tcp_targets[:r % len(tcp_targets)]
            for key, label, port, pids in order:
                res = run_tcp(args.tcpbench, port, mode, tcp_bytes, streams, tcp_timeout, pids)
                tcp_res[tkey][key].append(res)
                log(f"round {r + 1}/{rounds} {tkey:5} {label:20} {res['mibps']:>10,.0f} MiB/s "
                    f"cpu {res['cpu_ms_per_gib']:.0f} ms/GiB")
        order = ws_targets[r % len(ws_targets):] + ws_targets[:r % len(ws_targets)]
        for key, label, port, path, pids in order:
            res = run_ws(args.httpload, port, path, ws_bytes, tcp_timeout, pids)
            ws_res[key].append(res)
            log(f"round {r + 1}/{rounds} ws    {label:20} {res['mibps']:>10,.0f} MiB/s "
                f"cpu {res['cpu_ms_per_gib']:.0f} ms/GiB")
        loads.append(loadavg())
        round_loads.append(loads[-1])
    elapsed = time.monotonic() - t_start

    # Memory under connection count: idle keep-alive connections, then bursts.
    nginx_pids = lambda: [nginx.pid] + proc_children(nginx.pid)
    mem_targets = [("pingress", "porticod ingress", p_ingress, "/bench/small", lambda: [porticod.pid]),
                   ("haproxy", "HAProxy", p_hhttp, "/small", lambda: [haproxy.pid]),
                   ("nginx", "nginx (master + workers)", p_nhttp, "/small", nginx_pids)]
    # HAProxy's maxconn (above) caps how many it holds at once.
    idle_count = {"haproxy": min(args.idle, 9900)}
    idle_res, burst_res = {}, {}
    for key, label, port, path, pids in mem_targets:
        try:
            idle_res[key] = idle_memory(args.httpload, port, path, idle_count.get(key, args.idle), pids(),
                                        120 if key == "pingress" else 45)
        except Abort as e:
            if key == "pingress":
                raise
            # The others are there for scale: one that does not hold the connections is
            # reported as such, and the run goes on.
            idle_res[key] = {"error": str(e).splitlines()[0][:160], "n": idle_count.get(key, args.idle)}
            log(f"idle {label}: {idle_res[key]['error']}")
            continue
        log(f"idle {idle_res[key]['n']} connections {label:20} {idle_res[key]['per_conn']:.2f} KiB each "
            f"(RSS {idle_res[key]['before']} -> {idle_res[key]['during']} -> {idle_res[key]['after']} KiB)")
    for key, label, port, path, pids in mem_targets:
        try:
            burst_res[key] = burst_memory(args.httpload, port, path, args.bursts, args.burst_size, pids())
        except Abort as e:
            if key == "pingress":
                raise
            burst_res[key] = str(e).splitlines()[0][:160]
            log(f"bursts {label}: {burst_res[key]}")
            continue
        log(f"{args.bursts} bursts of {args.burst_size} {label:20} RSS KiB {burst_res[key]}")

    rss_hwm = status_kib(porticod.pid, "VmHWM")
    rss_end = status_kib(porticod.pid, "VmRSS")
    other_hwm = {"HAProxy": status_kib(haproxy.pid, "VmHWM"),
                 "nginx (master + workers)": sum(filter(None, (status_kib(p, "VmHWM") for p in
                                                               [nginx.pid] + proc_children(nginx.pid))))}
    if porticod.poll() is not None:
        raise Abort(f"porticod exited during the run with {porticod.returncode}")

    # ------------------------------------------------------------ report
    L = []
    L.append("# Portico benchmark: porticod vs HAProxy vs nginx\n")
    L.append(f"Run {started_at} ({'quick' if args.quick else 'full'}; {elapsed / 60:.1f} min of "
             f"measurement). All on 127.0.0.1; one origin, three proxies, one load generator.\n")
    L.append("## Machine\n")
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    # The daemon's own sources, not the bench's: the commit that last changed what was built.
    git = subprocess.run(["git", "-C", args.repo, "log", "-1", "--format=%h", "--", "daemon", "shared",
                          "CMakeLists.txt"], capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", args.repo, "status", "--porcelain", "--", "daemon", "shared"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        git += " + uncommitted changes"
    versions = {
        "haproxy": subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
                   .split(" - ")[0].replace("HAProxy version ", "HAProxy ").split(" 20")[0],
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
        "wrk": (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n") or [""])[0],
    }
    L.append(f"- nproc: {os.cpu_count()} ({cpu_model}); kernel {os.uname().release}")
    L.append(f"- load average (1 min) during the run: min {min(loads):.2f}, median {med(loads):.2f}, "
             f"max {max(loads):.2f} (sampled {len(loads)} times; the box is shared, so absolute "
             f"numbers move, ratios much less)")
    L.append(f"- porticod at {git} ({os.path.relpath(args.porticod, args.repo)}, Release, `workers: 2`, `access_log: false`); {versions['haproxy'].strip()} "
             f"(`nbthread 2`, no log); {versions['nginx'].replace('nginx version: ', '')} "
             f"(`worker_processes 2`, `access_log off`, upstream `keepalive 64`); "
             f"{versions['wrk'].split(' [')[0]}")
    L.append(f"- origin: nginx, 1 worker, `return 200` for the small response, sendfile for the 1 MiB file; "
             f"raw TCP origin: tests/bench/tcpbench.cpp (thread per connection)")
    L.append(f"- load: `wrk -t{threads} -c{conns} -d{duration}s --latency`; TCP: {tcp_bytes >> 20} MiB per "
             f"transfer; {rounds} rounds, targets interleaved (ABCABC…, start rotated each round)\n")

    L.append("## HTTP\n")
    L.append("Median over the rounds (min–max in brackets). `vs direct` = req/s relative to wrk "
             "hitting the origin itself. `proxy CPU` = CPU time the proxy process(es) used per "
             "request (for `origin (direct)`: the origin's own), which depends less on what else "
             "the box is doing than req/s does.\n")
    for tkey, tlabel, _, _ in http_tests:
        L.append(f"### {tlabel}\n")
        L.append("| target | req/s | p50 ms | p99 ms | vs direct | proxy CPU µs/req | errors |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        direct_rps = med([x["rps"] for x in http_res[tkey]["direct"]])
        for key, label, _, _ in http_targets:
            rs = http_res[tkey][key]
            rps = med([x["rps"] for x in rs])
            L.append(f"| {label} | {fmt(rps)} ({fmt_range([x['rps'] for x in rs])}) | "
                     f"{fmt(med([x['p50'] for x in rs]), 2)} | {fmt(med([x['p99'] for x in rs]), 2)} | "
                     f"{fmt(rps / direct_rps if direct_rps else None, 2)} | "
                     f"{fmt(med([x['cpu_us_per_req'] for x in rs]), 1)} | {sum(x['errors'] for x in rs)} |")
        L.append("")

    L.append("## Raw TCP relay\n")
    L.append("Median MiB/s over the rounds (min–max); `proxy CPU` = CPU ms the proxy spent per GiB "
             "relayed.\n")
    L.append("| target | " + " | ".join(f"{tl} MiB/s" for _, tl, _, _ in tcp_tests) + " | proxy CPU ms/GiB (down, 1 stream) |")
    L.append("|---|" + "---:|" * (len(tcp_tests) + 1))
    for key, label, _, _ in tcp_targets:
        cells = [f"{fmt(med([x['mibps'] for x in tcp_res[t][key]]))} ({fmt_range([x['mibps'] for x in tcp_res[t][key]])})"
                 for t, *_ in tcp_tests]
        cpu = med([x["cpu_ms_per_gib"] for x in tcp_res["down1"][key]]) if key != "direct" else None
        L.append(f"| {label} | " + " | ".join(cells) + f" | {fmt(cpu) if cpu is not None else '–'} |")
    L.append("")

    L.append("## Ratios (the result)\n")
    L.append("porticod ÷ other proxy, computed per round (the two ran back to back under the same "
             "load) and then the median (min–max). Throughput: **> 1 means porticod is faster**. "
             "Latency and CPU per request: **< 1 means porticod is better**.\n")
    L.append("| measurement | porticod ÷ HAProxy | porticod ÷ nginx |")
    L.append("|---|---:|---:|")

    def ratio_row(label, res, a, key, others=("haproxy", "nginx")):
        cells = []
        for b in others:
            if b not in res:
                cells.append("n/a")
                continue
            rr = paired_ratios(res, a, b, key, rounds)
            cells.append(f"**{fmt(med(rr), 2)}** ({fmt_range(rr, 2)})" if rr else "n/a")
        L.append(f"| {label} | " + " | ".join(cells) + " |")

    for tkey, tlabel, _, _ in http_tests:
        for a, alabel in (("pport", "http port"), ("pingress", "ingress")):
            ratio_row(f"{tlabel}, {alabel}: req/s", http_res[tkey], a, "rps")
            ratio_row(f"{tlabel}, {alabel}: p99 latency", http_res[tkey], a, "p99")
            ratio_row(f"{tlabel}, {alabel}: CPU per request", http_res[tkey], a, "cpu_us_per_req")
    for tkey, tlabel, _, _ in tcp_tests:
        ratio_row(f"TCP {tlabel}: MiB/s", tcp_res[tkey], "porticod", "mibps")
    ratio_row("TCP download, 1 stream: CPU per GiB", tcp_res["down1"], "porticod", "cpu_ms_per_gib")
    ratio_row("WebSocket echo, 1 connection: MiB/s", ws_res, "porticod", "mibps")
    ratio_row("WebSocket echo: CPU per GiB", ws_res, "porticod", "cpu_ms_per_gib")
    L.append("")
    L.append("Against no proxy at all (porticod ÷ direct, per round):\n")
    L.append("| measurement | porticod ÷ direct |")
    L.append("|---|---:|")
    for tkey, tlabel, _, _ in tcp_tests:
        rr = paired_ratios(tcp_res[tkey], "porticod", "direct", "mibps", rounds)
        L.append(f"| TCP {tlabel}: MiB/s | **{fmt(med(rr), 2)}** ({fmt_range(rr, 2)}) |")
    rr = paired_ratios(ws_res, "porticod", "direct", "mibps", rounds)
    L.append(f"| WebSocket echo: MiB/s | **{fmt(med(rr), 2)}** ({fmt_range(rr, 2)}) |")
    L.append("")

    L.append("## WebSocket echo\n")
    L.append(f"One upgraded connection, {ws_bytes >> 20} MiB echoed through it per round; median (min–max).\n")
    L.append("| target | MiB/s | proxy CPU ms/GiB |")
    L.append("|---|---:|---:|")
    for key, label, *_ in ws_targets:
        rs = ws_res[key]
        L.append(f"| {label} | {fmt(med([x['mibps'] for x in rs]))} ({fmt_range([x['mibps'] for x in rs])}) | "
                 f"{fmt(med([x['cpu_ms_per_gib'] for x in rs])) if key != 'direct' else '–'} |")
    L.append("")

    L.append("## Memory under connection count\n")
    L.append(f"**Idle keep-alive connections**: {args.idle} connections (HAProxy: as many as its maxconn "
             f"allows under this box's descriptor limit), each answered once (`/small`) "
             f"and held open; RSS of the proxy before, while held, after they closed.\n")
    L.append("| proxy | connections | RSS before KiB | RSS held KiB | RSS after KiB | **KiB per idle connection** |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for key, label, *_ in mem_targets:
        m = idle_res[key]
        if "error" in m:
            L.append(f"| {label} | {m['n']} | – | – | – | failed: {m['error']} |")
            continue
        L.append(f"| {label} | {m['n']} | {m['before']} | {m['during']} | {m['after']} | **{m['per_conn']:.2f}** |")
    L.append("")
    L.append(f"**Bursts**: {args.bursts} bursts of {args.burst_size} concurrent requests (`/small`, "
             f"Connection: close), RSS after each.\n")
    L.append("| proxy | after burst 1 KiB | after burst " + str(args.bursts) + " KiB | growth after the first KiB | every burst |")
    L.append("|---|---:|---:|---:|---|")
    for key, label, *_ in mem_targets:
        b = burst_res[key]
        if isinstance(b, str):
            L.append(f"| {label} | – | – | – | failed: {b} |")
            continue
        L.append(f"| {label} | {b[0]} | {b[-1]} | **{b[-1] - b[0]:+d}** | {', '.join(str(x) for x in b)} |")
    L.append("")

    L.append("## porticod memory\n")
    L.append(f"- VmRSS after start and deploy: {fmt(rss_idle)} KiB; at the end: {fmt(rss_end)} KiB")
    L.append(f"- **peak RSS (VmHWM) over the whole run: {fmt(rss_hwm)} KiB** "
             f"(for scale: HAProxy {fmt(other_hwm['HAProxy'])} KiB, nginx master + workers "
             f"{fmt(other_hwm['nginx (master + workers)'])} KiB, both VmHWM)\n")

    L.append("## Every round\n")
    L.append("| test | target | " + " | ".join(f"round {i + 1}" for i in range(rounds)) + " |")
    L.append("|---|---|" + "---:|" * rounds)
    for tkey, tlabel, _, _ in http_tests:
        for key, label, _, _ in http_targets:
            L.append(f"| {tlabel} req/s | {label} | " + " | ".join(fmt(x["rps"]) for x in http_res[tkey][key]) + " |")
    for tkey, tlabel, _, _ in tcp_tests:
        for key, label, _, _ in tcp_targets:
            L.append(f"| TCP {tlabel} MiB/s | {label} | " + " | ".join(fmt(x["mibps"]) for x in tcp_res[tkey][key]) + " |")
    L.append("| load average (1 min) | at the end of the round | " + " | ".join(f"{x:.2f}" for x in round_loads) + " |")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())

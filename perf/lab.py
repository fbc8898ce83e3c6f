#!/usr/bin/env python3
"""The performance lab: ringgate against nginx and HAProxy, side by side, on the same pinned core.

Question: what does each proxy cost per request, and how fast is it, in front of the same origin,
with the same worker count, on the same core? The origin (examples/bench_backend.rs) and wrk share
CPU 0; the proxy under test runs alone on CPU 1 (nginx `worker_processes 1`, HAProxy `nbthread 1`,
ringgate `runtime.workers=1`). Targets alternate inside each repetition; the summary gives medians
and the median of the per-repetition ratios to nginx, which is what to compare: these machines are
shared and noisy, absolute numbers from different runs are not comparable.

    python3 perf/lab.py [--reps 3] [--duration 10] [--scenarios 1k,64k] [--targets nginx,haproxy,ringgate]
                        [--connections 64] [--no-build] [--label NAME] [--base REV]

Scenario names: a body size (128, 1k, 16k, 64k, 256k) for passthrough GETs; `logs` adds a ringgate
target with telemetry fully on (Prometheus metrics + the JSON access log, to /dev/null);
`telemetry` adds three ringgate targets, run at the first body size: `ringgate-off`
(telemetry.metrics.requests=false, telemetry.logs.requests=false), `ringgate-metrics` (per-request
metrics only) and `ringgate-telemetry` (metrics + JSON access log), compared to `ringgate-off`
within each repetition ("ratio to off"). The order of targets rotates from one repetition to the next.
`https` (wrk over kept-alive TLS), `handshake` and `resumed` (`openssl s_time`, a new TLS
connection per request: full handshakes, or resuming one session), `handshake-wrk` (wrk
reconnecting after every response: full handshakes from 64 clients in parallel) compare ringgate and nginx
on the same P-256 certificate. `policy` adds `ringgate-policy`: the issue's typical policy set (subscription key check, two
set-headers, a choose on a header, rewrite-uri) on an operation, compared to pass-through ringgate.
`--base REV` (an A/B run) adds `ringgate-base` (and `ringgate-policy-base` with `policy`): the same
targets built from commit REV, and gives each ringgate target's ratio to its base in the same
repetition (req/s and proxy CPU per request): the figure that says whether a change made things
slower. `websocket`: ringgate and nginx proxying the same WebSocket echo origin (perf/tools
ws_echo), loaded by perf/tools wsload (64 connections, closed loop: a binary message, its echo,
the next) at 128 B and 16 KiB: messages per second, and proxy CPU per message (whose inverse is
messages per second per proxy core). `json-rewrite`: ringgate pass-through (`ringgate`) against
ringgate with an API whose outbound policy parses the 4,073-byte JSON answer with
Body.As<JObject>(), changes some fields and set-bodies it (`ringgate-json`), both in front of a
second nginx serving that JSON as origin: req/s, proxy CPU per request, and the CPU per request
over pass-through (median of the per-repetition differences). Runs made only of `json-rewrite`
or `websocket` (or with --no-latest) leave bench-results/LATEST.md alone. Writes bench-results/<UTC stamp>-<label>.json (machine, kernel, CPU, commit, every command, every
raw figure) and .md (the summary), and copies the summary to bench-results/LATEST.md.
"""
import argparse, json, os, platform, re, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "perf", "tools")
# The websocket scenario: message sizes (scenario name -> bytes) and connections.
WS_SIZES = {"ws-128": 128, "ws-16k": 16384}
WS_CONNECTIONS = 64
SIZES = {"5b": "/", "128": "/128", "1k": "/1k", "16k": "/16k", "64k": "/64k", "256k": "/256k"}
PROXY_CPU, LOAD_CPU = "1", "0"
TELEMETRY_TARGETS = ("ringgate-off", "ringgate-metrics", "ringgate-telemetry")
# Targets measured against another ringgate target in the same repetition ("base").
BASE = {"ringgate-metrics": "ringgate-off", "ringgate-telemetry": "ringgate-off", "ringgate-policy": "ringgate",
        "ringgate-json": "ringgate"}
# Measured at the first body size and connection count only.
ONLY_PRIMARY = TELEMETRY_TARGETS + ("ringgate-policy", "ringgate-policy-base")
POLICY_TARGETS = ("ringgate-policy", "ringgate-policy-base")
# With --base: the binary built from the base commit (set by build_base).
BASE_BINARY = None
POLICY_KEY = "lab-policy-subscription-key-0123456789"
# The typical policy set: key check (subscription), rate-limit-by-key (a limit this
# run never reaches, so every request is counted and admitted), two set-headers, a choose on a
# header, rewrite-uri.
POLICY = """<policies><inbound><base />
  <rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Subscription.Id)" />
  <set-header name="X-Gateway" exists-action="override"><value>ringgate</value></set-header>
  <set-header name="X-Caller" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>
  <choose><when condition="@(context.Request.Headers.GetValueOrDefault("X-Tier", "") == "gold")">
    <set-header name="X-Lane" exists-action="override"><value>fast</value></set-header></when></choose>
  <rewrite-uri template="/{size}" />
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""


# The json-rewrite scenario: the origin's JSON body (exactly this many bytes) and the policy.
JSON_BYTES = 4073
JSON_POLICY = """<policies><inbound><base /></inbound><backend><base /></backend><outbound><base />
  <set-body>@{
    var body = context.Response.Body.As<JObject>();
    body["gateway"] = "ringgate";
    body["customer"]["tier"] = ((string)body["customer"]["tier"]).ToUpperInvariant();
    body.Remove("internal");
    var items = (JArray)body["items"];
    body["itemCount"] = items.Count;
    body["total"] = items.Sum(i => (double)i["price"] * (int)i["qty"]);
    return body.ToString(Newtonsoft.Json.Formatting.None);
  }</set-body>
</outbound><on-error><base /></on-error></policies>"""


def json_body():
    """A compact JSON order of exactly JSON_BYTES bytes (padded in its `note`)."""
    order = {"id": "ord-4711", "customer": {"id": 42, "name": "Contoso Ltd", "tier": "gold",
                                            "email": "orders@contoso.example"},
             "internal": {"trace": "x" * 16, "shard": 7},
             "items": [{"sku": f"sku-{i:04d}", "name": f"Item number {i}", "price": round(1.5 + i * 0.25, 2),
                        "qty": 1 + i % 5, "tags": ["a", "b", "c"][: 1 + i % 3]} for i in range(30)],
             "note": ""}
    base = len(json.dumps(order, separators=(",", ":")))
    order["note"] = "n" * (JSON_BYTES - base)
    text = json.dumps(order, separators=(",", ":"))
    assert len(text) == JSON_BYTES, len(text)
    return text


def json_rewrite_runs(lab, args):
    """The json-rewrite scenario: an nginx origin serving the JSON body, ringgate pass-through
    and ringgate with the rewriting policy in front of it; stopped when done."""
    origin = free_port()
    root = os.path.join(lab.work, "json-root")
    os.makedirs(root, exist_ok=True)
    open(os.path.join(root, "order.json"), "w").write(json_body())
    # nginx's worker (not the master's user when run as root) must read the file.
    for path, mode in ((lab.work, 0o755), (root, 0o755), (os.path.join(root, "order.json"), 0o644)):
        os.chmod(path, mode)
    conf = os.path.join(lab.work, "nginx-origin.conf")
    open(conf, "w").write(f"""worker_processes 1; daemon off; master_process on;
pid {lab.work}/nginx-origin.pid; error_log {lab.work}/nginx-origin.err;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; keepalive_timeout 120s; etag off;
  server {{ listen 127.0.0.1:{origin} reuseport backlog=4096; root {root};
    location / {{ default_type application/json; }} }} }}
""")
    lab.spawn("nginx-origin", ["nginx", "-c", conf], LOAD_CPU)
    wait_ok(f"http://127.0.0.1:{origin}/order.json")
    ports = {}
    for name, policy in (("ringgate", None), ("ringgate-json", JSON_POLICY)):
        api = {"id": "origin", "path": "", "subscriptionRequired": False, "serviceUrl": f"http://127.0.0.1:{origin}"}
        if policy:
            api["policy"] = policy
        doc = os.path.join(lab.work, f"{name}.json")
        json.dump({"revision": f"lab-{name}", "apis": [api]}, open(doc, "w"))
        port, admin = free_port(), free_port()
        lab.spawn(name, ringgate_cmd(doc, port, admin), PROXY_CPU)
        ports[name] = port
    for name, port in ports.items():
        wait_ok(f"http://127.0.0.1:{port}/order.json")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/order.json", timeout=5).read()
        rewritten = b'"gateway":"ringgate"' in body and b'"internal"' not in body
        if rewritten != (name == "ringgate-json"):
            raise RuntimeError(f"{name}: unexpected body ({len(body)} bytes): {body[:200]!r}")
    runs = []
    for rep in range(args.reps):
        order = list(ports.items())
        order = order[rep % len(order):] + order[:rep % len(order)]
        for name, port in order:
            runs.append(wrk_run(lab, args, rep, "json-rewrite", name, port, "/order.json", args.connections[0]))
            time.sleep(1)
    for name in ("ringgate", "ringgate-json", "nginx-origin"):
        p = lab.procs.pop(name, None)
        if p:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
    return runs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url, deadline=20, headers=None):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200")


def cpu_seconds(pids):
    """utime+stime (all threads) of the given processes and their children, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    seen = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for t in os.listdir(f"/proc/{pid}/task"):
                try:
                    todo.extend(int(c) for c in open(f"/proc/{pid}/task/{t}/children").read().split())
                except OSError:
                    pass
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def machine():
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
    return {"hostname": platform.node(), "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
            "mem_kb": mem, "proxy_cpu": PROXY_CPU, "load_cpu": LOAD_CPU,
            "tools": {t: subprocess.run([t, "-v"], capture_output=True, text=True).stderr.strip().splitlines()[:1]
                      for t in ("nginx", "haproxy") if shutil.which(t)}}


def git_commit():
    try:
        c = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "HEAD"], text=True).strip()
        dirty = subprocess.call(["git", "-C", ROOT, "diff", "--quiet", "HEAD"]) != 0
        return c + ("-dirty" if dirty else "")
    except Exception:
        return "unknown"


def parse_wrk(out):
    r = {"rps": 0.0, "latency_ms": {}, "errors": 0, "requests": 0}
    for line in out.splitlines():
        if line.startswith("Requests/sec"):
            r["rps"] = float(line.split()[1])
        m = re.match(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", line)
        if m:
            r["latency_ms"][m.group(1)] = float(m.group(2)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(3)]
        m = re.match(r"^\s+(\d+) requests in", line)
        if m:
            r["requests"] = int(m.group(1))
        if "Non-2xx" in line or "Socket errors" in line:
            r["errors"] += sum(int(x) for x in re.findall(r"\d+", line.split(":", 1)[1]))
    return r


class Lab:
    def __init__(self, work):
        self.work = work
        self.procs = {}
        self.commands = {}

    def spawn(self, name, cmd, cpu, **kw):
        full = ["taskset", "-c", cpu] + cmd
        self.commands[name] = " ".join(full)
        p = subprocess.Popen(full, stdout=kw.get("stdout", subprocess.DEVNULL), stderr=subprocess.DEVNULL)
        self.procs[name] = p
        return p

    def stop(self):
        for p in self.procs.values():
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            except Exception:
                p.kill()


TLS_SCENARIOS = ("https", "handshake", "resumed", "handshake-wrk")
TLS_PORTS = {}  # target -> HTTPS port (nginx and ringgate, when a TLS scenario is asked for)


def make_cert(work):
    """A P-256 certificate for the HTTPS scenarios (generated per run, never committed)."""
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.check_call(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def ringgate_cmd(config, port, admin, https=0, logs="false", metrics="true", binary=None):
    """ringgate with one worker on loopback (the lab pins it with taskset)."""
    return [binary or os.path.join(ROOT, "target/release/ringgate"), "run", "--set", f"config.local.path={config}",
            "--set", "runtime.workers=1", "--set", "net.server.bind=127.0.0.1",
            "--set", f"net.server.http.port={port}", "--set", f"net.server.https.port={https}",
            "--set", f"net.server.admin.port={admin}", "--set", f"telemetry.logs.requests={logs}",
            "--set", f"telemetry.metrics.requests={metrics}",
            "--set", "telemetry.logs.std.level=warn"]


def start_targets(lab, args, backend):
    ports = {}
    tls = any(s in TLS_SCENARIOS for s in args.scenarios)
    cert, key = make_cert(lab.work) if tls else (None, None)
    if "nginx" in args.targets:
        port = free_port()
        tls_server = ""
        if tls:
            TLS_PORTS["nginx"] = free_port()
            tls_server = f"""
  server {{ listen 127.0.0.1:{TLS_PORTS["nginx"]} ssl reuseport backlog=4096;
    ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m; ssl_session_tickets on;
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_max_temp_file_size 0; }} }}"""
        conf = os.path.join(lab.work, "nginx.conf")
        open(conf, "w").write(f"""worker_processes 1; worker_cpu_affinity 10; daemon off; master_process on;
pid {lab.work}/nginx.pid; error_log {lab.work}/nginx.err;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  upstream origin {{ server 127.0.0.1:{backend}; keepalive 256; keepalive_requests 1000000; }}
  server {{ listen 127.0.0.1:{port} reuseport backlog=4096;
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_max_temp_file_size 0; }} }}{tls_server} }}
""")
        lab.spawn("nginx", ["nginx", "-c", conf], PROXY_CPU)
        ports["nginx"] = port
    if "haproxy" in args.targets and shutil.which("haproxy"):
        port = free_port()
        conf = os.path.join(lab.work, "haproxy.cfg")
        open(conf, "w").write(f"""global
  nbthread 1
  cpu-map auto:1/1 {PROXY_CPU}
  maxconn 5000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend f
  bind 127.0.0.1:{port}
  default_backend b
backend b
  server origin 127.0.0.1:{backend} maxconn 1000
""")
        lab.spawn("haproxy", ["haproxy", "-f", conf], PROXY_CPU)
        ports["haproxy"] = port
    doc = os.path.join(lab.work, "ringgate.json")
    document = {"revision": "lab", "apis": [{"id": "origin", "path": "", "subscriptionRequired": False,
                                             "serviceUrl": f"http://127.0.0.1:{backend}"}]}
    if tls:  # no gateway.hostnames: the certificate is the default for any SNI
        document["certificates"] = [{"id": "lab", "pem": open(cert).read(), "key": open(key).read()}]
    json.dump(document, open(doc, "w"))
    variants = []  # (name, telemetry.logs.requests, telemetry.metrics.requests)
    if "ringgate" in args.targets:
        variants.append(("ringgate", "false", "true"))
    if "telemetry" in args.scenarios:
        variants += [("ringgate-off", "false", "false"), ("ringgate-metrics", "false", "true")]
    if "logs" in args.scenarios or "telemetry" in args.scenarios:
        variants.append(("ringgate-telemetry", "true", "true"))
    if "policy" in args.scenarios:
        variants.append(("ringgate-policy", "false", "true"))
    if args.base:
        variants += [(n + "-base", l, m) for n, l, m in variants if n in ("ringgate", "ringgate-policy")]
    policy_doc = os.path.join(lab.work, "ringgate-policy.json")
    json.dump({"revision": "lab-policy",
               "apis": [{"id": "origin", "path": "", "serviceUrl": f"http://127.0.0.1:{backend}",
                         "operations": [{"id": "get", "method": "GET", "urlTemplate": "/{size}", "policy": POLICY}]}],
               "products": [{"id": "lab", "apis": ["origin"]}],
               "subscriptions": [{"id": "lab-sub", "scope": "/products/lab", "primaryKey": POLICY_KEY}]},
              open(policy_doc, "w"))
    for name, logs, metrics in variants:
        port, admin = free_port(), free_port()
        config = policy_doc if name in POLICY_TARGETS else doc
        https = 0
        if tls and name == "ringgate":
            https = TLS_PORTS["ringgate"] = free_port()
        binary = BASE_BINARY if name.endswith("-base") else None
        cmd = ringgate_cmd(config, port, admin, https=https, logs=logs, metrics=metrics, binary=binary)
        lab.spawn(name, cmd, PROXY_CPU, stdout=subprocess.DEVNULL)
        ports[name] = port
    for name, port in ports.items():
        try:
            key = {"Ocp-Apim-Subscription-Key": POLICY_KEY} if name in POLICY_TARGETS else {}
            wait_ok(f"http://127.0.0.1:{port}/1k", headers=key)
        except RuntimeError as e:
            raise RuntimeError(f"{name}: {e} ({lab.commands.get(name)})") from None
    return ports


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--scenarios", default="1k,64k")
    ap.add_argument("--targets", default="nginx,haproxy,ringgate")
    ap.add_argument("--connections", default="64", help="comma-separated client connection counts")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--label", default="lab")
    ap.add_argument("--base", default=None, help="A/B: also run ringgate built from this commit")
    ap.add_argument("--no-latest", action="store_true", help="do not copy the summary to bench-results/LATEST.md")
    return ap


def normalize(args):
    for field in ("scenarios", "targets", "connections"):
        value = getattr(args, field)
        if isinstance(value, str):
            setattr(args, field, [v.strip() for v in value.split(",") if v.strip()])
    args.connections = [int(c) for c in args.connections]
    return args


def check_tools():
    for tool in ("nginx", "wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y nginx-light haproxy wrk util-linux")


def build():
    subprocess.check_call(["cargo", "build", "--release", "--bin", "ringgate", "--example", "bench_backend",
                           "--example", "config_bench"], cwd=ROOT)
    subprocess.check_call(["cargo", "build", "--release", "--bin", "ws_echo", "--bin", "wsload"], cwd=TOOLS)


def build_base(rev):
    """Builds `rev`'s ringgate (in a temporary worktree, sharing the target directory so the
    dependencies are not rebuilt) and keeps the binary beside the current one."""
    global BASE_BINARY
    sha = subprocess.check_output(["git", "rev-parse", "--short", rev], cwd=ROOT, text=True).strip()
    BASE_BINARY = os.path.join(ROOT, "target", f"ringgate-base-{sha}")
    if os.path.exists(BASE_BINARY):
        return False  # built by an earlier run (a commit's binary does not change)
    tree = os.path.join(tempfile.gettempdir(), f"ringgate-base-{sha}")
    if not os.path.exists(tree):
        subprocess.check_call(["git", "worktree", "add", "--detach", tree, sha], cwd=ROOT)
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target"))
    subprocess.check_call(["cargo", "build", "--release", "--bin", "ringgate"], cwd=tree, env=env)
    shutil.copy2(os.path.join(ROOT, "target/release/ringgate"), BASE_BINARY)
    subprocess.call(["git", "worktree", "remove", "--force", tree], cwd=ROOT)
    return True


def raise_priority():
    try:  # the lab's processes run at higher priority than the rest of the (shared) machine
        open("/proc/self/autogroup", "w").write("-15")
    except OSError:
        pass
    # wrk with 1,024 connections and the idle-connection test need many descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def scenario_name(size, conns, args):
    """`1k`, or `1k-c1024` when the run has several connection counts (the first one is bare)."""
    return size if conns == args.connections[0] else f"{size}-c{conns}"


def run(args):
    """Runs the closed-loop scenarios; returns the result (not yet written)."""
    work = tempfile.mkdtemp(prefix="ringgate-lab-")
    lab = Lab(work)
    runs = []
    rss_idle = {}
    try:
        if "websocket" in args.scenarios:
            runs += websocket_runs(lab, args)
        if "json-rewrite" in args.scenarios:
            runs += json_rewrite_runs(lab, args)
        if not [s for s in args.scenarios if s in SIZES or s in TLS_SCENARIOS]:
            return result_of(args, lab, rss_idle, runs)
        backend = free_port()
        lab.spawn("backend", [os.path.join(ROOT, "target/release/examples/bench_backend"), f"127.0.0.1:{backend}"], LOAD_CPU)
        wait_ok(f"http://127.0.0.1:{backend}/1k")
        ports = start_targets(lab, args, backend)
        rss_idle = {n: rss_kb([lab.procs[n].pid]) for n in ports}
        sizes = [s for s in args.scenarios if s in SIZES]
        primary = "1k" if "1k" in sizes else (sizes[0] if sizes else None)
        for rep in range(args.reps):
            for conns in args.connections:
                for size in sizes:
                    order = list(ports.items())
                    order = order[rep % len(order):] + order[:rep % len(order)]
                    for name, port in order:
                        # Variants compared to a base run at the first size and connection count only.
                        if name in ONLY_PRIMARY and (size != primary or conns != args.connections[0]):
                            continue
                        runs.append(wrk_run(lab, args, rep, scenario_name(size, conns, args), name, port, SIZES[size], conns))
                        time.sleep(1)
            for scenario in [s for s in args.scenarios if s in TLS_SCENARIOS]:
                order = list(TLS_PORTS.items())
                order = order[rep % len(order):] + order[:rep % len(order)]
                for name, port in order:
                    runs.append(tls_run(lab, args, rep, scenario, name, port))
                    time.sleep(1)
    finally:
        lab.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result_of(args, lab, rss_idle, runs)


def result_of(args, lab, rss_idle, runs):
    return {"question": __doc__.split("\n\n")[1].strip(), "machine": machine(), "commit": git_commit(),
            "date": datetime.now(timezone.utc).isoformat(), "args": vars(args), "commands": lab.commands,
            "rss_idle_kb": rss_idle, "runs": runs, "summary": summarize(runs)}


def websocket_runs(lab, args):
    """The websocket scenario: its own origin and proxies (nginx with the upgrade headers,
    ringgate with a `websocket` API), stopped when done."""
    echo = subprocess.Popen(["taskset", "-c", LOAD_CPU, os.path.join(TOOLS, "target/release/ws_echo")],
                            stdout=subprocess.PIPE, text=True)
    lab.procs["ws-echo"] = echo
    origin = int(echo.stdout.readline().split()[1])
    ports = {}
    if "nginx" in args.targets:
        port = ports["nginx"] = free_port()
        conf = os.path.join(lab.work, "nginx-ws.conf")
        open(conf, "w").write(f"""worker_processes 1; worker_cpu_affinity 10; daemon off; master_process on;
pid {lab.work}/nginx-ws.pid; error_log {lab.work}/nginx-ws.err;
events {{ worker_connections 20000; }}
http {{ access_log off;
  server {{ listen 127.0.0.1:{port} reuseport backlog=4096;
    location / {{ proxy_pass http://127.0.0.1:{origin}; proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";
      proxy_read_timeout 300s; proxy_buffering off; }} }} }}
""")
        lab.spawn("nginx-ws", ["nginx", "-c", conf], PROXY_CPU)
    if "ringgate" in args.targets:
        port, admin = free_port(), free_port()
        ports["ringgate"] = port
        doc = os.path.join(lab.work, "ringgate-ws.json")
        json.dump({"revision": "lab-ws", "apis": [{"id": "ws", "path": "", "type": "websocket", "subscriptionRequired": False,
                                                   "serviceUrl": f"ws://127.0.0.1:{origin}"}]}, open(doc, "w"))
        lab.spawn("ringgate-ws", ringgate_cmd(doc, port, admin), PROXY_CPU)
        if args.base:  # A/B: the base commit's binary on the same origin
            port, admin = free_port(), free_port()
            ports["ringgate-base"] = port
            lab.spawn("ringgate-ws-base", ringgate_cmd(doc, port, admin, binary=BASE_BINARY), PROXY_CPU)
    procs = {"nginx": "nginx-ws", "ringgate": "ringgate-ws", "ringgate-base": "ringgate-ws-base"}
    for port in ports.values():
        wait_ws(args, port)
    runs = []
    for rep in range(args.reps):
        for scenario, size in WS_SIZES.items():
            order = list(ports.items())
            order = order[rep % len(order):] + order[:rep % len(order)]
            for name, port in order:
                pids = [lab.procs[procs[name]].pid]  # with its children (nginx's worker)
                c0 = cpu_seconds(pids)
                w, cmd = wsload(args, port, size, args.duration)
                c1 = cpu_seconds(pids)
                # The CPU window covers wsload's warm-up too, so it is divided by every echo
                # (messages_total), not by the counted ones.
                messages, total = w["messages"], w["messages_total"]
                r = {"rep": rep, "scenario": scenario, "target": name, "command": " ".join(cmd),
                     "rps": w["msgs_per_s"], "requests": messages, "messages_total": total, "errors": w["errors"],
                     "latency_ms": {"50": w["p50_us"] / 1000, "99": w["p99_us"] / 1000},
                     "proxy_cpu_s": round(c1 - c0, 3),
                     "cpu_us_per_req": round((c1 - c0) * 1e6 / total, 3) if total else None,
                     "rss_kb": rss_kb(pids)}
                print(f"rep {rep} {scenario:>10} {name:<20} {r['rps']:>10.0f} msg/s  p99 {r['latency_ms']['99']:.2f} ms"
                      f"  cpu {r['cpu_us_per_req']} us/msg  errors {r['errors']}", flush=True)
                runs.append(r)
                time.sleep(1)
    for name in procs.values():
        p = lab.procs.pop(name, None)
        if p:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
    return runs


def wait_ws(args, port, deadline=20):
    """Until a short wsload run through the proxy gets its echoes (the proxy is up, and warm)."""
    end = time.time() + deadline
    while True:
        try:
            w, _ = wsload(args, port, 128, 1)
            if w["messages"] and not w["errors"]:
                return
        except (RuntimeError, ValueError, subprocess.TimeoutExpired):
            pass
        if time.time() > end:
            raise RuntimeError(f"no WebSocket echo through 127.0.0.1:{port}")
        time.sleep(0.2)


def wsload(args, port, size, duration):
    cmd = ["taskset", "-c", LOAD_CPU, os.path.join(TOOLS, "target/release/wsload"), "--url", f"ws://127.0.0.1:{port}/",
           "--connections", str(WS_CONNECTIONS), "--size", str(size), "--duration", str(duration)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wsload failed: {out.stderr.strip()} ({' '.join(cmd)})")
    return json.loads(out.stdout.strip().splitlines()[-1]), cmd


def wrk_run(lab, args, rep, scenario, name, port, path, conns):
    key = ["-H", f"Ocp-Apim-Subscription-Key: {POLICY_KEY}"] if name in POLICY_TARGETS else []
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{args.duration}s",
           "--latency", *key, f"http://127.0.0.1:{port}{path}"]
    pid = lab.procs[name].pid
    c0 = cpu_seconds([pid])
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    c1 = cpu_seconds([pid])
    w = parse_wrk(out)
    w.update({"rep": rep, "scenario": scenario, "target": name, "command": " ".join(cmd),
              "proxy_cpu_s": round(c1 - c0, 3),
              "cpu_us_per_req": round((c1 - c0) * 1e6 / w["requests"], 2) if w["requests"] else None,
              "rss_kb": rss_kb([pid])})
    print(f"rep {rep} {scenario:>10} {name:<20} {w['rps']:>10.0f} req/s  p99 {w['latency_ms'].get('99', 0):.2f} ms"
          f"  cpu {w['cpu_us_per_req']} us/req  errors {w['errors']}", flush=True)
    return w


def write(result, label, md, latest=True):
    """bench-results/<stamp>-<label>.json and .md, and LATEST.md (unless `latest` is false);
    returns the path stem."""
    stamp = result.setdefault("stamp", datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    base = os.path.join(ROOT, "bench-results", f"{stamp}-{label}")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    json.dump(result, open(base + ".json", "w"), indent=2)
    open(base + ".md", "w").write(md)
    if latest:
        open(os.path.join(ROOT, "bench-results", "LATEST.md"), "w").write(md)
    return base


def main():
    args = normalize(parser().parse_args())
    check_tools()
    built_base = False
    if args.base:
        BASE.update({"ringgate": "ringgate-base", "ringgate-policy": "ringgate-policy-base"})
        built_base = build_base(args.base)  # first: the current build below replaces target/release/ringgate
    if not args.no_build or built_base:
        build()
    raise_priority()
    result = run(args)
    result["stamp"] = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    md = render(result, result["stamp"], args)
    only_own = set(args.scenarios) <= {"json-rewrite", "websocket"}
    write(result, args.label, md, latest=not (args.no_latest or only_own))
    print(md)


def tls_run(lab, args, rep, scenario, name, port):
    """`https`: wrk over kept-alive TLS connections; `handshake`/`resumed`: `openssl s_time`
    opening a new TLS connection per request (full handshakes, or resuming the first session)."""
    if scenario == "https":
        cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{args.connections[0]}", f"-d{args.duration}s",
               "--latency", f"https://127.0.0.1:{port}/1k"]
    elif scenario == "handshake-wrk":
        # wrk reconnects after every response: a full TLS handshake per request, many in parallel.
        cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{args.connections[0]}", f"-d{args.duration}s",
               "-H", "Connection: close", f"https://127.0.0.1:{port}/1k"]
    else:
        cmd = ["taskset", "-c", LOAD_CPU, "openssl", "s_time", "-connect", f"127.0.0.1:{port}",
               "-time", str(args.duration), "-www", "/1k"]
        # s_time resumes reliably with TLS 1.2 session IDs/tickets; full handshakes use TLS 1.3.
        cmd += ["-new", "-tls1_3"] if scenario == "handshake" else ["-reuse", "-tls1_2"]
    pid = lab.procs[name].pid
    c0 = cpu_seconds([pid])
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    c1 = cpu_seconds([pid])
    if scenario in ("https", "handshake-wrk"):
        w = parse_wrk(out)
    else:
        w = {"rps": 0.0, "latency_ms": {}, "errors": 0, "requests": 0}
        m = re.search(r"(\d+) connections in ([\d.]+) real seconds", out)
        if m and float(m.group(2)) > 0:
            w["requests"] = int(m.group(1))
            w["rps"] = int(m.group(1)) / float(m.group(2))
    w.update({"rep": rep, "scenario": scenario, "target": name, "command": " ".join(cmd),
              "proxy_cpu_s": round(c1 - c0, 3),
              "cpu_us_per_req": round((c1 - c0) * 1e6 / w["requests"], 2) if w["requests"] else None,
              "rss_kb": rss_kb([pid])})
    print(f"rep {rep} {scenario:>9} {name:<20} {w['rps']:>10.0f} /s  cpu {w['cpu_us_per_req']} us each", flush=True)
    return w


def summarize(runs):
    out = {}
    for (scenario, target) in sorted({(r["scenario"], r["target"]) for r in runs}):
        mine = [r for r in runs if r["scenario"] == scenario and r["target"] == target]
        ratios, p99_ratios, off_ratios, off_cpu_ratios, cpu_ratios, cpu_over = [], [], [], [], [], []
        for r in mine:
            base = BASE.get(target, "ringgate-off")
            off = next((x for x in runs if x["scenario"] == scenario and x["target"] == base and x["rep"] == r["rep"]), None)
            if off and off["rps"]:
                off_ratios.append(r["rps"] / off["rps"])
                if off["cpu_us_per_req"] and r["cpu_us_per_req"]:
                    off_cpu_ratios.append(r["cpu_us_per_req"] / off["cpu_us_per_req"])
                    cpu_over.append(r["cpu_us_per_req"] - off["cpu_us_per_req"])
            ref = next((x for x in runs if x["scenario"] == scenario and x["target"] == "nginx" and x["rep"] == r["rep"]), None)
            if ref and ref["rps"]:
                ratios.append(r["rps"] / ref["rps"])
                if ref["cpu_us_per_req"] and r["cpu_us_per_req"]:
                    cpu_ratios.append(r["cpu_us_per_req"] / ref["cpu_us_per_req"])
                if ref["latency_ms"].get("99"):
                    p99_ratios.append(r["latency_ms"].get("99", 0) / ref["latency_ms"]["99"])
        cpu = [r["cpu_us_per_req"] for r in mine if r["cpu_us_per_req"]]
        out[f"{scenario}/{target}"] = {
            "rps_median": statistics.median(r["rps"] for r in mine),
            "p99_ms_median": statistics.median(r["latency_ms"].get("99", 0) for r in mine),
            "cpu_us_per_req_median": statistics.median(cpu) if cpu else None,
            "rps_ratio_to_nginx_median": round(statistics.median(ratios), 3) if ratios else None,
            "p99_ratio_to_nginx_median": round(statistics.median(p99_ratios), 3) if p99_ratios else None,
            "cpu_ratio_to_nginx_median": round(statistics.median(cpu_ratios), 3) if cpu_ratios else None,
            "rps_ratio_to_off_median": round(statistics.median(off_ratios), 3) if off_ratios else None,
            "rps_ratios_to_off": [round(x, 3) for x in off_ratios],
            "cpu_ratio_to_off_median": round(statistics.median(off_cpu_ratios), 3) if off_cpu_ratios else None,
            "cpu_us_over_base_median": round(statistics.median(cpu_over), 2) if cpu_over else None,
            "cpu_us_over_base": [round(x, 2) for x in cpu_over],
            "errors": sum(r["errors"] for r in mine),
        }
    return out


def render(result, stamp, args):
    m = result["machine"]
    lines = [f"# Lab run {stamp} ({args.label})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}; commit `{result['commit']}`.",
             f"Proxy under test on CPU {PROXY_CPU}, origin and wrk on CPU {LOAD_CPU}; 1 worker each; "
             + (f"wrk -t1 -c{'/'.join(str(c) for c in args.connections)} -d{args.duration}s" if [s for s in args.scenarios if s != "websocket"]
              else f"wsload (perf/tools) {WS_CONNECTIONS} connections, {args.duration}s after 1s of warm-up")
             + f", {args.reps} repetitions, targets alternating.", "",
             "| scenario | target | req/s (median) | ratio to nginx | ratio to base (per rep) | p99 ms | p99 ratio | proxy CPU us/req | CPU/req ratio to nginx | CPU/req ratio to base | errors |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, s in result["summary"].items():
        scenario, target = key.split("/", 1)
        off = s.get("rps_ratio_to_off_median")
        off_text = f"{off} ({', '.join(str(x) for x in s['rps_ratios_to_off'])})" if off is not None else "None"
        lines.append(f"| {scenario} | {target} | {s['rps_median']:.0f} | {s['rps_ratio_to_nginx_median']} | {off_text} | "
                     f"{s['p99_ms_median']:.2f} | {s['p99_ratio_to_nginx_median']} | {s['cpu_us_per_req_median']} | "
                     f"{s.get('cpu_ratio_to_nginx_median')} | {s.get('cpu_ratio_to_off_median')} | {s['errors']} |")
    over = result["summary"].get("json-rewrite/ringgate-json", {}).get("cpu_us_over_base_median")
    if over is not None:
        per_rep = ", ".join(str(x) for x in result["summary"]["json-rewrite/ringgate-json"]["cpu_us_over_base"])
        lines += ["", f"`json-rewrite`: ringgate-json parses the origin's {JSON_BYTES}-byte JSON answer with "
                  "Body.As<JObject>(), changes five fields and set-bodies it; its proxy CPU over pass-through "
                  f"ringgate: **{over} us per request** (median of per-repetition differences: {per_rep}). "
                  "Origin: a second nginx serving the file on CPU " + LOAD_CPU + "."]
    if any(k.startswith("ws-") for k in result["summary"]):
        lines += ["", f"`ws-*` rows: WebSocket messages (echo round trips) per second through the proxy, {WS_CONNECTIONS} "
                  "connections, closed loop, binary messages of 128 B or 16 KiB; \"proxy CPU us/req\" is per message "
                  "(its inverse is messages per second per proxy core)."]
    lines += ["", "Ratios are medians of per-repetition ratios (same repetition, same machine state); "
              "the base of ringgate-metrics and ringgate-telemetry is ringgate-off (no per-request metrics, no access log), "
              + ("with `--base`, the base of ringgate and ringgate-policy is the same target built from "
               f"commit `{args.base}` (an A/B run)." if args.base else
               "the base of ringgate-policy (the policy set) is ringgate (pass-through)."),
              f"Reproduce: `python3 perf/lab.py --reps {args.reps} --duration {args.duration} --scenarios {','.join(args.scenarios)} "
              f"--targets {','.join(args.targets)} --connections {','.join(str(c) for c in args.connections)}"
              f"{' --base ' + args.base if args.base else ''}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Instructions per request: the lab's figure that does not move with the machine's noise.

How many user-space instructions does each proxy execute per request, for the same requests
over the same keep-alive connection? Counted with `valgrind --tool=callgrind` (the proxy runs
under valgrind, the origin and the client do not): for each target and scenario the proxy is
started twice, serving N1 and then N2 requests, and the figure is (Ir(N2) - Ir(N1)) / (N2 - N1),
so that start-up, configuration load and shutdown cancel out. nginx's and HAProxy's counts repeat
within 0.1% whatever else the machine does; ringgate's move by about 3% between runs, because its
housekeeping is driven by the wall clock (the workers' 50 ms tick, the control thread's polls)
and so grows with how long the run takes: compare commits on the same machine state, or with
several runs (left open: counting only the worker's request path).

valgrind cannot follow io_uring (the kernel fills shared rings behind its back), so ringgate runs
on its epoll driver here (RINGGATE_DRIVER=epoll); nginx and HAProxy use epoll anyway.

    python3 perf/cost.py [--targets ringgate,nginx,haproxy] [--scenarios pass,policy,https]
                         [--requests 400,2000] [--base REV] [--label NAME] [--no-build]
    python3 perf/cost.py --diff OLD.json NEW.json

`--base REV` also counts ringgate built from REV (as `ringgate-base`) and prints the change.
Results go to bench-results/<stamp>-<label>.json and .md (the machine, kernel, commit and the
commands). `--diff` prints the change per scenario between two result files (two commits).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (the lab's targets, documents and helpers)

SCENARIOS = ("pass", "policy", "https")
PATH = "/1k"


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default="ringgate,nginx,haproxy")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--requests", default="400,2000", help="the two request counts N1,N2")
    ap.add_argument("--base", default=None)
    ap.add_argument("--label", default="cost")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"))
    return ap


def client(port, n, headers=None, tls=False):
    """Sends `n` GETs one after another on one kept-alive connection, reading each response
    whole (Content-Length framing, as the origin sends); fails on anything but 200."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    req = f"GET {PATH} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()
    buf = b""
    for _ in range(n):
        sock.sendall(req)
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed mid-response")
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise RuntimeError(f"status {status.decode()}: {head[:200]!r}")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed mid-body")
            buf += chunk
        buf = buf[length:]
    sock.close()


def wait_port(port, deadline=120):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never opened")


def total_ir(out_file):
    """The total instruction count of a callgrind output file (its `totals:`/`summary:` line)."""
    for line in open(out_file):
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out_file}")


class Setup:
    """The origin and the configuration files every target's runs share."""

    def __init__(self, work):
        self.work = work
        self.backend = lab.free_port()
        self.origin = subprocess.Popen(["taskset", "-c", lab.LOAD_CPU, os.path.join(lab.ROOT, "target/release/examples/bench_backend"),
                                        f"127.0.0.1:{self.backend}"], stdout=subprocess.DEVNULL)
        wait_port(self.backend)
        self.cert, self.key = lab.make_cert(work)
        self.doc = os.path.join(work, "ringgate.json")
        json.dump({"revision": "cost", "apis": [{"id": "origin", "path": "", "subscriptionRequired": False,
                                                 "serviceUrl": f"http://127.0.0.1:{self.backend}"}],
                   "certificates": [{"id": "lab", "pem": open(self.cert).read(), "key": open(self.key).read()}]},
                  open(self.doc, "w"))
        self.policy_doc = os.path.join(work, "ringgate-policy.json")
        json.dump({"revision": "cost-policy",
                   "apis": [{"id": "origin", "path": "", "serviceUrl": f"http://127.0.0.1:{self.backend}",
                             "operations": [{"id": "get", "method": "GET", "urlTemplate": "/{size}", "policy": lab.POLICY}]}],
                   "products": [{"id": "lab", "apis": ["origin"]}],
                   "subscriptions": [{"id": "lab-sub", "scope": "/products/lab", "primaryKey": lab.POLICY_KEY}]},
                  open(self.policy_doc, "w"))

    def close(self):
        self.origin.terminate()
        self.origin.wait(timeout=10)

    def command(self, target, scenario, port, binary):
        """The proxy's command line (without valgrind), or None when it has no such scenario."""
        tls = scenario == "https"
        if target.startswith("ringgate"):
            doc = self.policy_doc if scenario == "policy" else self.doc
            cmd = lab.ringgate_cmd(doc, 0 if tls else port, lab.free_port(), https=port if tls else 0, binary=binary)
            # With http.port 0 the HTTP listener takes a free port of its own; that is fine.
            return cmd
        if scenario == "policy":
            return None  # the policy set is ringgate's (APIM's policies); peers have no equivalent
        if target == "nginx":
            conf = os.path.join(self.work, f"nginx-{scenario}.conf")
            listen = f"listen 127.0.0.1:{port} ssl; ssl_certificate {self.cert}; ssl_certificate_key {self.key};" if tls \
                else f"listen 127.0.0.1:{port};"
            open(conf, "w").write(f"""worker_processes 1; daemon off; master_process off;
pid {self.work}/nginx-cost.pid; error_log {self.work}/nginx-cost.err;
events {{ worker_connections 1024; }}
http {{ access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  upstream origin {{ server 127.0.0.1:{self.backend}; keepalive 16; keepalive_requests 1000000; }}
  server {{ {listen}
    location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_max_temp_file_size 0; }} }} }}
""")
            return ["nginx", "-c", conf]
        if target == "haproxy":
            pem = os.path.join(self.work, "haproxy.pem")
            open(pem, "w").write(open(self.cert).read() + open(self.key).read())
            bind = f"bind 127.0.0.1:{port}" + (f" ssl crt {pem}" if tls else "")
            conf = os.path.join(self.work, f"haproxy-{scenario}.cfg")
            open(conf, "w").write(f"""global
  nbthread 1
  maxconn 1000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend f
  {bind}
  default_backend b
backend b
  server origin 127.0.0.1:{self.backend} maxconn 100
""")
            return ["haproxy", "-db", "-f", conf]
        raise SystemExit(f"unknown target {target}")


def count(setup, target, scenario, n, binary):
    """Total user-space instructions of one proxy process that served `n` requests."""
    port = lab.free_port()
    cmd = setup.command(target, scenario, port, binary)
    out = os.path.join(setup.work, f"callgrind.{target}.{scenario}.{n}")
    env = dict(os.environ, RINGGATE_DRIVER="epoll")
    vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-line=no", "--compress-strings=no"]
    proc = subprocess.Popen(["taskset", "-c", lab.PROXY_CPU] + vg + cmd, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(out + ".log", "w"))
    try:
        wait_port(port)
        headers = {"Ocp-Apim-Subscription-Key": lab.POLICY_KEY} if scenario == "policy" else None
        client(port, n, headers=headers, tls=scenario == "https")
    finally:
        proc.send_signal(signal.SIGINT if target == "haproxy" else signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return total_ir(out), " ".join(vg + cmd)


def measure(args, setup, binaries):
    n1, n2 = args.requests
    rows = []
    for scenario in args.scenarios:
        for target in args.targets:
            if setup.command(target, scenario, 1, binaries.get(target)) is None:
                continue
            a, cmd = count(setup, target, scenario, n1, binaries.get(target))
            b, _ = count(setup, target, scenario, n2, binaries.get(target))
            per = (b - a) / (n2 - n1)
            rows.append({"scenario": scenario, "target": target, "instructions_per_request": round(per),
                         "ir": {str(n1): a, str(n2): b}, "command": cmd})
            print(f"{scenario:>7} {target:<14} {per:>10.0f} instructions/request", flush=True)
    return rows


def render(result):
    m = result["machine"]
    lines = [f"# Instructions per request {result['stamp']} ({result['label']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}; commit `{result['commit']}`.",
             f"User-space instructions per request under `valgrind --tool=callgrind` (valgrind {result['valgrind']}), "
             f"(Ir({result['requests'][1]}) - Ir({result['requests'][0]})) / {result['requests'][1] - result['requests'][0]}, "
             f"GET {PATH} (1 KiB) one after another on one kept-alive connection. ringgate on its epoll driver "
             "(valgrind cannot follow io_uring); one worker or process each.", "",
             "| scenario | target | instructions/request | vs nginx | vs ringgate pass |", "|---|---|---:|---:|---:|"]
    by = {(r["scenario"], r["target"]): r["instructions_per_request"] for r in result["rows"]}
    for r in result["rows"]:
        ng = by.get((r["scenario"], "nginx"))
        rp = by.get(("pass", r["target"] if r["target"].startswith("ringgate") else "ringgate"))
        vs_ng = f"{r['instructions_per_request'] / ng:.2f}x" if ng else ""
        vs_rp = f"{r['instructions_per_request'] / rp:.2f}x" if rp and r["target"].startswith("ringgate") else ""
        lines.append(f"| {r['scenario']} | {r['target']} | {r['instructions_per_request']:,} | {vs_ng} | {vs_rp} |")
    lines += ["", "Commands:", ""] + [f"    {r['command']}" for r in result["rows"]]
    return "\n".join(lines) + "\n"


def diff(old_file, new_file):
    old, new = json.load(open(old_file)), json.load(open(new_file))
    before = {(r["scenario"], r["target"]): r["instructions_per_request"] for r in old["rows"]}
    print(f"{old['commit']} -> {new['commit']}")
    for r in new["rows"]:
        was = before.get((r["scenario"], r["target"]))
        now = r["instructions_per_request"]
        change = f"{now - was:+,} ({(now - was) / was:+.1%})" if was else "(new)"
        print(f"{r['scenario']:>7} {r['target']:<14} {was or 0:>10,} -> {now:>10,}  {change}")


def main():
    args = parser().parse_args()
    if args.diff:
        return diff(*args.diff)
    args.targets = [t for t in args.targets.split(",") if t]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.requests = [int(x) for x in args.requests.split(",")]
    for tool in ["valgrind", "taskset"] + [t for t in args.targets if t in ("nginx", "haproxy")]:
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y valgrind nginx-light haproxy util-linux")
    binaries = {}
    built_base = False
    if args.base:
        built_base = lab.build_base(args.base)
        binaries["ringgate-base"] = lab.BASE_BINARY
        args.targets.append("ringgate-base")
    if not args.no_build or built_base:
        lab.build()
    work = tempfile.mkdtemp(prefix="ringgate-cost-")
    setup = Setup(work)
    try:
        rows = measure(args, setup, binaries)
    finally:
        setup.close()
    vg = subprocess.check_output(["valgrind", "--version"], text=True).strip()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = {"stamp": stamp, "label": args.label, "machine": lab.machine(), "commit": lab.git_commit(),
              "date": datetime.now(timezone.utc).isoformat(), "valgrind": vg, "requests": args.requests,
              "base": args.base, "rows": rows}
    base = os.path.join(lab.ROOT, "bench-results", f"{stamp}-{args.label}")
    json.dump(result, open(base + ".json", "w"), indent=2)
    md = render(result)
    open(base + ".md", "w").write(md)
    print(md)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

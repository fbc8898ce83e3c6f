#!/usr/bin/env python3
"""Soak: a release ringgate under 30 minutes of mixed traffic and injected faults (issue #23).

Question: does anything grow or leak over time? One gateway worker pinned to CPU 1 serves a
bounded, paced mix from load threads on CPU 0: small and large responses, 1 MiB uploads, HTTPS on
kept-alive connections and with a new handshake per request, a policy set (subscription key,
rate-limit-by-key, set-header, choose, rewrite-uri), slow clients (a head sent in pieces, a body
read slowly). Every 5 s the configuration is replaced (a new revision, alternating between two
shapes); every 60 s the backend is killed and restarted. Every few seconds the gateway's RSS,
open file descriptors and established connections to the backend (ss) are sampled.

Verdict: after warm-up, each figure is flat (the median of the last tenth of the samples within
5% of the median of the first tenth; for connection counts under 40, within 2 connections), and
there are zero errors outside the fault windows (a restart, from the kill until 2 s after the
backend listens again); errors inside them are counted separately as injected.

    python3 perf/soak.py [--duration 1800] [--no-build] [--label soak]

Writes bench-results/<UTC stamp>-<label>.json (machine, kernel, commit, command, every sample,
every error) and .md (the summary and a table of the samples). Exit status 1 when the verdict fails.
"""
import argparse, http.client, json, os, signal, socket, ssl, statistics, subprocess, sys, tempfile, threading, time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (the lab's helpers: ports, certificates, machine, commit)

ROOT = lab.ROOT
GATEWAY_CPU, LOAD_CPU = "1", "0"
KEY = lab.POLICY_KEY
FAULT_GRACE = 2.0  # seconds after the backend listens again that still count as its restart

POLICY = lab.POLICY


class Soak:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {}  # kind -> answered requests
        self.errors = []  # (time, kind, what)
        self.faults = []  # [start, end] windows (end None while the backend is down)
        self.samples = []
        self.reloads = {"done": 0, "late": 0}
        self.backend = None
        self.revision = 0

    # --- processes -------------------------------------------------------------------------

    def start_backend(self):
        cmd = ["taskset", "-c", LOAD_CPU, os.path.join(ROOT, "target/release/examples/bench_backend"),
               f"127.0.0.1:{self.backend_port}"]
        self.backend = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.backend_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("bench_backend did not start")

    def document(self):
        self.revision += 1
        apis = [
            {"id": "plain", "path": "plain", "subscriptionRequired": False,
             "serviceUrl": f"http://127.0.0.1:{self.backend_port}"},
            {"id": "pol", "path": "pol", "serviceUrl": f"http://127.0.0.1:{self.backend_port}",
             "operations": [{"id": "get", "method": "GET", "urlTemplate": "/{size}", "policy": POLICY}]},
        ]
        if self.revision % 2 == 0:  # the second shape: one more API, so routes are rebuilt
            apis.append({"id": f"extra", "path": "extra", "subscriptionRequired": False,
                         "serviceUrl": f"http://127.0.0.1:{self.backend_port}"})
        return {"revision": f"soak-{self.revision}", "apis": apis,
                "products": [{"id": "lab", "apis": ["pol"]}],
                "subscriptions": [{"id": "lab-sub", "scope": "/products/lab", "primaryKey": KEY}],
                "certificates": [{"id": "soak", "pem": open(self.cert).read(), "key": open(self.key).read()}]}

    def write_config(self):
        doc = self.document()
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.rename(tmp, self.config)
        return doc["revision"]

    def start_gateway(self):
        self.port, self.https_port, self.admin_port = lab.free_port(), lab.free_port(), lab.free_port()
        self.config = os.path.join(self.work, "config.json")
        self.write_config()
        cmd = lab.ringgate_cmd(self.config, self.port, self.admin_port, https=self.https_port)
        self.command = " ".join(["taskset", "-c", GATEWAY_CPU] + cmd)
        self.log = open(os.path.join(self.work, "gateway.log"), "w")
        self.gateway = subprocess.Popen(["taskset", "-c", GATEWAY_CPU] + cmd, stdout=self.log, stderr=self.log)
        lab.wait_ok(f"http://127.0.0.1:{self.admin_port}/status", deadline=30)

    def status(self):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=5)
        try:
            c.request("GET", "/status")
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    # --- bookkeeping -----------------------------------------------------------------------

    def ok(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def error(self, kind, what):
        with self.lock:
            self.errors.append((time.time(), kind, str(what)[:200]))

    def in_fault(self, t):
        with self.lock:
            return any(s <= t and (e is None or t <= e + FAULT_GRACE) for s, e in self.faults)

    def paced(self, rate, fn):
        """Calls fn about `rate` times per second until the end."""
        period = 1.0 / rate
        nxt = time.time()
        while not self.stop.is_set():
            fn()
            nxt += period
            delay = nxt - time.time()
            if delay > 0:
                self.stop.wait(delay)
            elif delay < -1:
                nxt = time.time()  # fell behind (a fault): do not burst to catch up

    # --- traffic ---------------------------------------------------------------------------

    def keepalive_loop(self, kind, rate, method, path, body=None, headers=None, tls=False, new_conn=False):
        conn = [None]
        ctx = None
        if tls:
            ctx = ssl.create_default_context(cafile=self.cert)

        def connect():
            if tls:
                return http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10, context=ctx)
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

        def one():
            if conn[0] is None or new_conn:
                conn[0] = connect()
            try:
                h = dict(headers or {})
                if new_conn:
                    h["Connection"] = "close"
                conn[0].request(method, path, body=body, headers=h)
                r = conn[0].getresponse()
                data = r.read()
                if r.status != 200:
                    self.error(kind, f"status {r.status}: {data[:100]!r}")
                else:
                    self.ok(kind)
                if r.will_close or new_conn:
                    conn[0].close()
                    conn[0] = None
            except Exception as e:  # noqa: BLE001 (every failure is an error to classify)
                self.error(kind, repr(e))
                try:
                    conn[0].close()
                finally:
                    conn[0] = None

        self.paced(rate, one)

    def slow_client(self):
        """A head sent in 8 pieces over ~1.6 s, then a 64 KiB body read 4 KiB per 50 ms."""
        def one():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                head = b"GET /plain/64k HTTP/1.1\r\nHost: soak\r\nUser-Agent: slow-client\r\nConnection: close\r\n\r\n"
                step = len(head) // 8 + 1
                for i in range(0, len(head), step):
                    s.sendall(head[i:i + step])
                    time.sleep(0.2)
                got = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    got += d
                    time.sleep(0.05)
                s.close()
                if not got.startswith(b"HTTP/1.1 200") or len(got) < 64 * 1024:
                    self.error("slow", f"short or bad answer: {got[:80]!r} ({len(got)} bytes)")
                else:
                    self.ok("slow")
            except Exception as e:  # noqa: BLE001
                self.error("slow", repr(e))

        self.paced(0.5, one)

    def reloader(self):
        while not self.stop.wait(self.args.reload_interval):
            rev = self.write_config()
            end = time.time() + 5
            while time.time() < end:
                try:
                    s = self.status()
                    if s.get("revision") == rev and s.get("applied"):
                        break
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(0.05)
            else:
                self.reloads["late"] += 1
                self.error("reload", f"{rev} not applied within 5 s")
                continue
            self.reloads["done"] += 1

    def restarter(self):
        while not self.stop.wait(self.args.restart_interval):
            with self.lock:
                self.faults.append([time.time(), None])
            self.backend.kill()
            self.backend.wait()
            self.stop.wait(1.0)  # down for a second: requests meanwhile fail (injected)
            self.start_backend()
            with self.lock:
                self.faults[-1][1] = time.time()

    def sampler(self, t0):
        while True:
            pid = self.gateway.pid
            try:
                rss = lab.rss_kb([pid])
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                rss, fds = 0, 0
            out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{self.backend_port} )"],
                                 capture_output=True, text=True).stdout
            conns = sum(1 for l in out.splitlines() if l.strip())
            with self.lock:
                total = sum(self.counts.values())
                errs = len(self.errors)
            self.samples.append({"t": round(time.time() - t0, 1), "rss_kb": rss, "fds": fds,
                                 "backend_conns": conns, "requests": total, "errors": errs,
                                 "in_fault": self.in_fault(time.time())})
            if self.stop.wait(self.args.sample_interval):
                return

    # --- the run ---------------------------------------------------------------------------

    def run(self):
        self.cert, self.key = lab.make_cert(self.work)
        self.backend_port = lab.free_port()
        self.start_backend()
        self.start_gateway()
        # Load threads run on CPU 0 with the backend (the gateway has CPU 1 to itself).
        os.sched_setaffinity(0, {int(LOAD_CPU)})
        pol = {"Ocp-Apim-Subscription-Key": KEY, "X-Tier": "gold"}
        upload = os.urandom(1 << 20)
        threads = [
            ("small", lambda: self.keepalive_loop("small", 150, "GET", "/plain/1k")),
            ("small-2", lambda: self.keepalive_loop("small", 150, "GET", "/plain/128")),
            ("large", lambda: self.keepalive_loop("large", 20, "GET", "/plain/256k")),
            ("upload", lambda: self.keepalive_loop("upload", 5, "POST", "/plain/", body=upload)),
            ("tls", lambda: self.keepalive_loop("tls", 50, "GET", "/plain/16k", tls=True)),
            ("handshake", lambda: self.keepalive_loop("handshake", 5, "GET", "/plain/1k", tls=True, new_conn=True)),
            ("policy", lambda: self.keepalive_loop("policy", 100, "GET", "/pol/1k", headers=pol)),
            ("reload", self.reloader),
            ("restart", self.restarter),
        ] + [(f"slow-{i}", self.slow_client) for i in range(4)]
        t0 = self.t0 = time.time()
        sampler = threading.Thread(target=self.sampler, args=(t0,), daemon=True)
        sampler.start()
        running = [threading.Thread(target=f, name=n, daemon=True) for n, f in threads]
        for t in running:
            t.start()
        try:
            while time.time() - t0 < self.args.duration and self.gateway.poll() is None:
                time.sleep(1)
        finally:
            self.stop.set()
            for t in running:
                t.join(timeout=20)
            sampler.join(timeout=10)
        alive = self.gateway.poll() is None
        for p in (self.gateway, self.backend):
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
            except Exception:  # noqa: BLE001
                p.kill()
        return alive, time.time() - t0


def flat(values, small_abs=None):
    """(first-tenth median, last-tenth median, relative change, within bound)."""
    n = max(3, len(values) // 10)
    a, b = statistics.median(values[:n]), statistics.median(values[-n:])
    rel = abs(b - a) / a if a else (0.0 if b == 0 else float("inf"))
    ok = rel <= 0.05 or (small_abs is not None and max(a, b) < 40 and abs(b - a) <= small_abs)
    return a, b, rel, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--warmup", type=float, default=None, help="seconds ignored by the verdict (default 10%%, ≥ 60 s)")
    ap.add_argument("--reload-interval", type=float, default=5)
    ap.add_argument("--restart-interval", type=float, default=60)
    ap.add_argument("--sample-interval", type=float, default=5)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--label", default="soak")
    args = ap.parse_args()
    warmup = args.warmup if args.warmup is not None else max(60.0, args.duration * 0.1)
    if not args.no_build:
        subprocess.check_call(["cargo", "build", "--release", "--bin", "ringgate", "--example", "bench_backend"],
                              cwd=ROOT)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = tempfile.mkdtemp(prefix="soak-")
    soak = Soak(args, work)
    alive, took = soak.run()

    post = [s for s in soak.samples if s["t"] >= warmup]
    verdict = {"gateway_alive": alive}
    figures = {}
    if len(post) >= 4:
        for name, small in (("rss_kb", None), ("fds", 2), ("backend_conns", 2)):
            # Samples taken inside a restart window measure the fault, not a leak.
            vals = [s[name] for s in post if not s["in_fault"]] or [s[name] for s in post]
            a, b, rel, ok = flat(vals, small)
            figures[name] = {"first": a, "last": b, "change": round(rel, 4), "min": min(vals), "max": max(vals),
                             "flat": ok}
            verdict[f"{name}_flat"] = ok
    else:
        verdict["enough_samples"] = False
    real = [e for e in soak.errors if not soak.in_fault(e[0])]
    injected = [e for e in soak.errors if soak.in_fault(e[0])]
    verdict["no_errors_outside_faults"] = not real
    passed = all(verdict.values())

    result = {
        "label": args.label, "stamp": stamp, "machine": lab.machine(), "commit": lab.git_commit(),
        "command": " ".join([sys.executable] + sys.argv), "gateway_command": soak.command,
        "duration_s": round(took, 1), "warmup_s": warmup, "reload_interval_s": args.reload_interval,
        "restart_interval_s": args.restart_interval, "requests": soak.counts,
        "reloads": soak.reloads, "backend_restarts": len(soak.faults),
        "errors_outside_faults": len(real), "errors_injected": len(injected),
        "error_examples": {"outside_faults": real[:50], "injected": injected[:20]},
        "figures": figures, "verdict": verdict, "passed": passed, "samples": soak.samples,
    }
    out = os.path.join(ROOT, "bench-results", f"{stamp}-{args.label}")
    with open(out + ".json", "w") as f:
        json.dump(result, f, indent=1)
    m = result["machine"]
    lines = [
        f"# Soak {stamp}: {'PASSED' if passed else 'FAILED'}", "",
        f"- machine: {m['hostname']}, {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}",
        f"- commit: {result['commit']}",
        f"- command: `{result['command']}`",
        f"- gateway: `{soak.command}`",
        f"- {took / 60:.1f} min, warm-up {warmup:.0f} s; a reload every {args.reload_interval:g} s "
        f"({soak.reloads['done']} applied, {soak.reloads['late']} late); the backend restarted every "
        f"{args.restart_interval:g} s ({len(soak.faults)} restarts)",
        f"- answered: {sum(soak.counts.values())} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(soak.counts.items())) + ")",
        f"- errors outside the fault windows: **{len(real)}**; injected (during a backend restart): {len(injected)}",
        "", "| figure | first tenth (median) | last tenth (median) | change | min | max | flat |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in figures.items():
        lines.append(f"| {name} | {f['first']:g} | {f['last']:g} | {f['change'] * 100:.1f}% | {f['min']} | {f['max']} | "
                     f"{'yes' if f['flat'] else 'NO'} |")
    if real:
        lines += ["", "Errors outside the fault windows (first 10):", ""]
        lines += [f"- t={e[0] - soak.t0:.1f} s {e[1]}: {e[2]}" for e in real[:10]]
    lines += ["", "Samples (one row per 30 s; every sample is in the JSON):", "",
              "| t (s) | RSS (KiB) | fds | backend conns | requests | errors | in a restart |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    step = max(1, int(30 / args.sample_interval))
    for s in soak.samples[::step]:
        lines.append(f"| {s['t']:.0f} | {s['rss_kb']} | {s['fds']} | {s['backend_conns']} | {s['requests']} | "
                     f"{s['errors']} | {'yes' if s['in_fault'] else ''} |")
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:12]))
    print(f"wrote {out}.json and {out}.md")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Large configurations: how long does a document of 10,000 APIs x 5 operations take to load,
compile and reach every worker, and do requests keep flowing while it is applied?

Runs ringgate (2 workers) in front of nginx (as a plain origin), drives wrk against one API while
the configuration file is replaced every `--interval` seconds (default 2) by another 10,000-API document, and measures for each
change the time from the file's rename to /status reporting the new revision applied on all
workers. Records apply times, wrk's throughput, latency and errors in bench-results/.

    python3 perf/large_config.py [--apis 10000] [--duration 12] [--interval 2] [--no-build]
"""
import argparse, json, os, platform, shutil, signal, socket, subprocess, sys, tempfile, time
import re, urllib.error, urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.read()
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


def status(admin):
    """/status JSON (its code is 503 while a revision is still rolling out; the body says which)."""
    try:
        with urllib.request.urlopen(f"http://{admin}/status", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def git_commit():
    try:
        c = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "HEAD"], text=True).strip()
        dirty = subprocess.call(["git", "-C", ROOT, "diff", "--quiet", "HEAD"]) != 0
        return c + ("-dirty" if dirty else "")
    except Exception:
        return "unknown"


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"hostname": platform.node(), "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apis", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=12)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between configuration changes")
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install -y nginx-light wrk")
    if not args.no_build:
        subprocess.check_call(["cargo", "build", "--release", "--bin", "ringgate", "--example", "config_bench"], cwd=ROOT)
    result = measure(args.apis, args.duration, args.interval)
    applies, rps, lat, errors = result["apply_ms"], result["wrk"]["requests_per_sec"], result["wrk"]["latency"], result["wrk"]["errors"]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = os.path.join(ROOT, "bench-results", f"{stamp}-large-config")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    json.dump(result, open(base + ".json", "w"), indent=2)
    md = [f"# Large configuration: {args.apis} APIs x 5 operations ({stamp})", "",
          f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, kernel {result['machine']['kernel']}; commit `{result['commit']}`.",
          "", "| measure | value |", "| --- | --- |",
          f"| document size | {result['document_bytes'] / 1e6:.1f} MB |",
          f"| start to all workers serving | {result['startup_to_applied_s'] * 1000:.0f} ms |",
          f"| file replaced to applied on all workers (each swap) | {', '.join(str(a) for a in applies)} ms |",
          f"| worst swap | {result['apply_ms_max']} ms |",
          f"| interval between changes | {args.interval} s |",
          f"| traffic during swaps (wrk -c32, 2 workers) | {rps:.0f} req/s, p50 {lat.get('50%')}, p99 {lat.get('99%')}, errors {errors} |",
          "", f"Command: `python3 perf/large_config.py --apis {args.apis} --duration {args.duration} --interval {args.interval}`"]
    open(base + ".md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if errors == 0 and applies and max(applies) < 1000 else 1


def measure(apis, duration, interval):
    """Swaps a document of `apis` APIs every `interval` seconds under wrk load (binaries built)."""
    args = argparse.Namespace(apis=apis, duration=duration, interval=interval)
    bench = os.path.join(ROOT, "target/release/examples/config_bench")
    gateway = os.path.join(ROOT, "target/release/ringgate")
    work = tempfile.mkdtemp(prefix="ringgate-large-")
    procs = []
    try:
        origin = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{origin} reuseport backlog=4096; location / {{ return 200 "ok"; }} }} }}
""")
        procs.append(subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        docs = []
        for rev in ("large-a", "large-b"):
            path = os.path.join(work, f"{rev}.json")
            subprocess.check_call([bench, str(args.apis), "--write", path, rev])
            text = open(path).read().replace("127.0.0.1:9000", f"127.0.0.1:{origin}")
            text = text.replace('"operations"', '"subscriptionRequired":false,"operations"')
            open(path, "w").write(text)
            docs.append((rev, text))
        cfg = os.path.join(work, "gateway.json")
        open(cfg, "w").write(docs[0][1])
        http, admin = free_port(), free_port()
        cmd = [gateway, "run", "--set", f"config.local.path={cfg}", "--set", "runtime.workers=2",
               "--set", "net.server.bind=127.0.0.1", "--set", f"net.server.http.port={http}",
               "--set", "net.server.https.port=0", "--set", f"net.server.admin.port={admin}",
               "--set", "telemetry.logs.requests=false", "--set", "telemetry.logs.std.level=warn"]
        t0 = time.time()
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while True:
            try:
                if status(f"127.0.0.1:{admin}").get("applied"):
                    break
            except Exception:
                pass
            if time.time() - t0 > 30:
                raise SystemExit("gateway did not start")
            time.sleep(0.02)
        startup = time.time() - t0
        target = f"http://127.0.0.1:{http}/svc{args.apis // 2}/v1/items/42"
        wait_http(target)
        wrk_cmd = ["wrk", "-t1", "-c32", f"-d{args.duration}s", "--latency", target]
        wrk = subprocess.Popen(wrk_cmd, stdout=subprocess.PIPE, text=True)
        applies = []
        time.sleep(1.0)
        i = 1
        while wrk.poll() is None and time.time() - t0 < startup + args.duration - 1:
            rev, text = docs[i % 2]
            tmp = cfg + ".tmp"
            open(tmp, "w").write(text)
            start = time.time()
            os.rename(tmp, cfg)
            while True:
                s = status(f"127.0.0.1:{admin}")
                if s.get("revision") == rev and s.get("applied"):
                    break
                if time.time() - start > 10:
                    raise SystemExit(f"revision {rev} not applied within 10 s: {s}")
                time.sleep(0.005)
            applies.append(round((time.time() - start) * 1000, 1))
            i += 1
            time.sleep(max(0.0, args.interval - (time.time() - start)))
        out, _ = wrk.communicate()
        rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
        lat = {}
        for l in out.splitlines():
            m = re.match(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)$", l)
            if m:
                scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(3)]
                lat[m.group(1) + "%"] = f"{float(m.group(2)) * scale:.3f}ms"
        errors = 0
        for l in out.splitlines():
            if "Non-2xx" in l or "Socket errors" in l:
                errors += sum(int(x) for x in l.replace(",", " ").split() if x.isdigit())
        result = {
            "question": "time for a 10,000-API document to reach all workers, and traffic during the swap",
            "machine": machine(), "commit": git_commit(), "date": datetime.now(timezone.utc).isoformat(),
            "apis": args.apis, "interval_s": args.interval, "operations_per_api": 5, "workers": 2, "document_bytes": len(docs[0][1]),
            "startup_to_applied_s": round(startup, 3), "apply_ms": applies,
            "apply_ms_max": max(applies) if applies else None,
            "wrk": {"command": " ".join(wrk_cmd), "requests_per_sec": rps, "latency": lat, "errors": errors,
                    "raw": out},
            "gateway_command": " ".join(cmd),
        }
        return result
    finally:
        for p in procs:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            except Exception:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

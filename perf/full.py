#!/usr/bin/env python3
"""The whole performance lab in one command: ringgate against nginx and HAProxy, side by side.

Question: on this machine, in one run, does ringgate meet its targets against nginx with the same
worker count: pass-through throughput and p99, the typical policy set, large bodies, HTTPS,
memory per idle connection, latency at fixed rates, a 10,000-API document, reloads under load?

Builds ringgate, the origin and perf/tools in release mode, then runs (proxy under test on CPU 1,
origin and load generators on CPU 0, targets alternating within each repetition):
  1. closed loop (wrk): bodies of 128 B, 1 KiB, 16 KiB, 256 KiB with 64 and 1,024 connections;
     the policy set (subscription key, rate-limit-by-key, two set-headers, a choose, rewrite-uri);
     HTTPS keep-alive; a new TLS connection per request (full and resumed handshakes); proxy CPU
     seconds per request throughout (perf/lab.py);
  2. open loop (perf/tools openloop, coordinated-omission-corrected): 1 KiB at 25%, 50% and 75%
     of the lowest measured maximum, p50/p99/p99.9;
  3. ringgate with 10 APIs against ringgate with 10,000 APIs in the document;
  4. a 10,000-API document applied every second under load (perf/large_config.py);
  5. 10,000 idle kept-alive connections: memory per connection (perf/idle_memory.py).
Writes bench-results/<stamp>-full.json (every raw figure, commands, machine, commit) and .md (the
summary with each target met or missed), SVG plots in bench-results/<stamp>-full/, and copies the
summary and plots to bench-results/LATEST.md and bench-results/latest/.

    python3 perf/full.py [--reps 3] [--duration 5] [--no-build] [--skip openloop,apis,reload,idle]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
import idle_memory  # noqa: E402
import large_config  # noqa: E402

TOOLS = os.path.join(lab.ROOT, "perf/tools")
OPENLOOP = os.path.join(TOOLS, "target/release/openloop")
PLOT = os.path.join(TOOLS, "target/release/plot")
PEERS = ["nginx", "haproxy", "ringgate"]
SIZES = ["128", "1k", "16k", "256k"]
SIZE_LABELS = {"128": "128 B", "1k": "1 KiB", "16k": "16 KiB", "256k": "256 KiB"}
CONNECTIONS = [64, 1024]
RATE_FRACTIONS = [0.25, 0.5, 0.75]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rotated(items, rep):
    return items[rep % len(items):] + items[:rep % len(items)]


def start_backend(procs):
    """The lab's origin on the load CPU; returns its port."""
    port = lab.free_port()
    procs.spawn("backend", [os.path.join(lab.ROOT, "target/release/examples/bench_backend"), f"127.0.0.1:{port}"], lab.LOAD_CPU)
    lab.wait_ok(f"http://127.0.0.1:{port}/1k")
    return port


def open_loop(args, maxima):
    """Latency at fixed offered rates (fractions of the lowest proxy's closed-loop maximum)."""
    base = min(v for v in maxima.values() if v)
    rates = [round(base * f) for f in RATE_FRACTIONS]
    work = tempfile.mkdtemp(prefix="ringgate-openloop-")
    procs = lab.Lab(work)
    runs = []
    try:
        backend = start_backend(procs)
        ports = lab.start_targets(procs, argparse.Namespace(targets=PEERS, scenarios=[]), backend)
        for rep in range(args.reps):
            for fraction, rate in zip(RATE_FRACTIONS, rates):
                for name in rotated(list(ports), rep):
                    out = os.path.join(work, "openloop.json")
                    cmd = ["taskset", "-c", lab.LOAD_CPU, OPENLOOP, "--url", f"http://127.0.0.1:{ports[name]}/1k",
                           "--rate", str(rate), "--duration", str(args.duration), "--warmup", "2",
                           "--connections", "64", "--out", out]
                    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
                    r = json.load(open(out))
                    r.update({"rep": rep, "fraction": fraction, "target": name, "command": " ".join(cmd)})
                    runs.append(r)
                    lat = r["latency_us"]
                    print(f"rep {rep} open loop {rate:>7}/s {name:<10} p50 {lat['p50'] / 1000:.2f} ms  p99 "
                          f"{lat['p99'] / 1000:.2f} ms  p99.9 {lat['p999'] / 1000:.2f} ms  errors {r['errors']}", flush=True)
                    time.sleep(1)
    finally:
        procs.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary = {}
    for fraction, rate in zip(RATE_FRACTIONS, rates):
        for name in PEERS:
            mine = [r for r in runs if r["fraction"] == fraction and r["target"] == name]
            if mine:
                summary[f"{int(fraction * 100)}%/{name}"] = {
                    "rate": rate, "achieved_rps": median(r["achieved_rps"] for r in mine),
                    **{f"{p}_ms": median(r["latency_us"][p] / 1000 for r in mine) for p in ("p50", "p99", "p999")},
                    "errors": sum(r["errors"] for r in mine)}
    return {"base_max_rps": base, "rates": rates, "runs": runs, "summary": summary}


def api_document(n, backend):
    """n APIs of 5 operations each, like a real catalogue; /svc{i}/{size} reaches the origin."""
    ops = [("get", "GET", "/{size}"), ("item", "GET", "/items/{id}"), ("create", "POST", "/items"),
           ("update", "PUT", "/items/{id}"), ("delete", "DELETE", "/items/{id}")]
    return {"revision": f"apis-{n}", "apis": [
        {"id": f"svc{i}", "path": f"svc{i}", "subscriptionRequired": False, "serviceUrl": f"http://127.0.0.1:{backend}",
         "operations": [{"id": o, "method": m, "urlTemplate": t} for o, m, t in ops]} for i in range(n)]}


def many_apis(args):
    """Steady-state throughput and p99 with 10 and with 10,000 APIs in the document."""
    work = tempfile.mkdtemp(prefix="ringgate-apis-")
    procs = lab.Lab(work)
    runs = []
    try:
        backend = start_backend(procs)
        urls = {}
        for n in (10, 10000):
            name = f"ringgate-{n}-apis"
            doc = os.path.join(work, f"{n}.json")
            json.dump(api_document(n, backend), open(doc, "w"))
            port, admin = lab.free_port(), lab.free_port()
            procs.spawn(name, lab.ringgate_cmd(doc, port, admin), lab.PROXY_CPU)
            urls[name] = f"http://127.0.0.1:{port}/svc{n // 2}/1k"
            lab.wait_ok(urls[name], deadline=60)
        for rep in range(args.reps):
            for name in rotated(list(urls), rep):
                cmd = ["taskset", "-c", lab.LOAD_CPU, "wrk", "-t1", "-c64", f"-d{args.duration}s", "--latency", urls[name]]
                w = lab.parse_wrk(subprocess.run(cmd, capture_output=True, text=True).stdout)
                w.update({"rep": rep, "target": name, "command": " ".join(cmd)})
                runs.append(w)
                print(f"rep {rep} {name:<20} {w['rps']:>10.0f} req/s  p99 {w['latency_ms'].get('99', 0):.2f} ms  "
                      f"errors {w['errors']}", flush=True)
                time.sleep(1)
    finally:
        procs.stop()
        shutil.rmtree(work, ignore_errors=True)
    ratios = []
    for rep in range(args.reps):
        small = next(r for r in runs if r["rep"] == rep and r["target"] == "ringgate-10-apis")
        large = next(r for r in runs if r["rep"] == rep and r["target"] == "ringgate-10000-apis")
        if small["rps"]:
            ratios.append(large["rps"] / small["rps"])
    return {"runs": runs, "ratios": [round(x, 3) for x in ratios], "ratio_median": round(median(ratios), 3),
            "rps": {t: median(r["rps"] for r in runs if r["target"] == t) for t in ("ringgate-10-apis", "ringgate-10000-apis")},
            "p99_ms": {t: median(r["latency_ms"].get("99") for r in runs if r["target"] == t)
                       for t in ("ringgate-10-apis", "ringgate-10000-apis")},
            "errors": sum(r["errors"] for r in runs)}


def targets(result):
    """The issue's done-when targets, each with the measured figure and whether it is met."""
    s = result["closed"]["summary"]
    get = lambda key, field: (s.get(key) or {}).get(field)  # noqa: E731
    idle = result.get("idle", {}).get("targets", {})
    rows = [
        ("pass-through 1 KiB, req/s vs nginx", ">= 1.10x", get("1k/ringgate", "rps_ratio_to_nginx_median"), lambda v: v >= 1.10),
        ("pass-through 1 KiB, p99 vs nginx", "<= 1.0x", get("1k/ringgate", "p99_ratio_to_nginx_median"), lambda v: v <= 1.0),
        ("policy set vs nginx pass-through", ">= 1.00x", get("1k/ringgate-policy", "rps_ratio_to_nginx_median"), lambda v: v >= 1.0),
        ("256 KiB bodies vs nginx", ">= 1.0x", get("256k/ringgate", "rps_ratio_to_nginx_median"), lambda v: v >= 1.0),
        ("HTTPS keep-alive vs nginx", ">= 1.0x", get("https/ringgate", "rps_ratio_to_nginx_median"), lambda v: v >= 1.0),
    ]
    if idle:
        ours, theirs = idle["ringgate"]["bytes_per_connection"], idle["nginx"]["bytes_per_connection"]
        rows.append(("memory per idle connection vs nginx", "<= 1.0x", round(ours / theirs, 3), lambda v: v <= 1.0))
    if "apis" in result:
        rows.append(("10,000 APIs vs 10 APIs, req/s", ">= 0.95x", result["apis"]["ratio_median"], lambda v: v >= 0.95))
    if "reload" in result:
        rows.append(("errors while reloading every second", "0", result["reload"]["wrk"]["errors"], lambda v: v == 0))
    return [{"target": t, "goal": g, "measured": v, "met": (v is not None and ok(v))} for t, g, v, ok in rows]


def plots(result, out_dir):
    s = result["closed"]["summary"]
    charts = []
    for conns in CONNECTIONS:
        suffix = "" if conns == CONNECTIONS[0] else f"-c{conns}"
        charts.append({"file": f"throughput-c{conns}.svg", "kind": "bars",
                       "title": f"Pass-through requests/s by body size ({conns} connections, 1 worker)",
                       "x_label": "response body", "y_label": "requests/s",
                       "categories": [SIZE_LABELS[x] for x in SIZES],
                       "series": [{"name": t, "values": [(s.get(f"{x}{suffix}/{t}") or {}).get("rps_median") for x in SIZES]}
                                  for t in PEERS]})
    cpu_scenarios = ["1k", "16k", "256k", "https", "handshake"]
    charts.append({"file": "cpu-per-request.svg", "kind": "bars", "title": "Proxy CPU per request (µs, lower is better)",
                   "x_label": "scenario", "y_label": "CPU µs per request", "categories": cpu_scenarios,
                   "series": [{"name": t, "values": [(s.get(f"{x}/{t}") or {}).get("cpu_us_per_req_median") for x in cpu_scenarios]}
                              for t in PEERS]})
    if "openloop" in result:
        ol = result["openloop"]
        for p, label in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
            charts.append({"file": f"latency-{p}-by-rate.svg", "kind": "lines", "log_y": True,
                           "title": f"{label} latency at fixed offered rates (1 KiB, 64 connections, open loop)",
                           "x_label": "offered load (requests/s)", "y_label": f"{label} latency (ms)",
                           "series": [{"name": f"{t} {label}", "points": [[rate, (ol["summary"].get(f"{int(f * 100)}%/{t}") or {}).get(f"{p}_ms")]
                                                                          for f, rate in zip(RATE_FRACTIONS, ol["rates"])]}
                                      for t in PEERS]})
    os.makedirs(out_dir, exist_ok=True)
    spec = os.path.join(out_dir, "plots.json")
    json.dump(charts, open(spec, "w"), indent=1)
    subprocess.run([PLOT, "--input", spec, "--out-dir", out_dir], check=True)
    return [c["file"] for c in charts]


def render(result, args):
    closed_args = argparse.Namespace(**result["closed"]["args"])
    lines = [f"# Full lab run {result['stamp']}", "",
             "## Targets (medians of per-repetition ratios, same run)", "",
             "| target | goal | measured | met |", "| --- | --- | ---: | --- |"]
    for t in result["targets"]:
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    lines += ["", "## Closed loop (wrk)", ""]
    lines += lab.render(result["closed"], result["stamp"], closed_args).splitlines()[2:]
    if "openloop" in result:
        ol = result["openloop"]
        lines += ["## Latency at fixed rates (open loop, coordinated-omission-corrected)", "",
                  f"Offered rates are 25/50/75% of {ol['base_max_rps']:.0f} req/s, the lowest closed-loop 1 KiB maximum.", "",
                  "| load | target | offered req/s | achieved | p50 ms | p99 ms | p99.9 ms | errors |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, v in ol["summary"].items():
            load, target = key.split("/")
            lines.append(f"| {load} | {target} | {v['rate']} | {v['achieved_rps']:.0f} | {v['p50_ms']:.2f} | "
                         f"{v['p99_ms']:.2f} | {v['p999_ms']:.2f} | {v['errors']} |")
        lines.append("")
    if "apis" in result:
        a = result["apis"]
        lines += ["## 10 vs 10,000 APIs (ringgate, 1 worker, wrk -c64, 1 KiB)", "",
                  "| document | req/s | p99 ms |", "| --- | ---: | ---: |"]
        for t in ("ringgate-10-apis", "ringgate-10000-apis"):
            lines.append(f"| {t} | {a['rps'][t]:.0f} | {a['p99_ms'][t]:.2f} |")
        lines += ["", f"Ratio 10,000/10 per repetition: {', '.join(str(x) for x in a['ratios'])} (median {a['ratio_median']}); "
                  f"errors {a['errors']}.", ""]
    if "reload" in result:
        r = result["reload"]
        lines += ["## A 10,000-API document applied every second under load", "",
                  f"{len(r['apply_ms'])} swaps of a {r['document_bytes'] / 1e6:.1f} MB document, applied on all workers in "
                  f"{min(r['apply_ms'], default=0)}–{r['apply_ms_max']} ms; traffic during the swaps: "
                  f"{r['wrk']['requests_per_sec']:.0f} req/s, p99 {r['wrk']['latency'].get('99%')}, errors {r['wrk']['errors']} "
                  "(2 workers, unpinned, wrk -c32).", ""]
    if "idle" in result:
        lines += ["## Memory per idle kept-alive connection", "",
                  "| target | RSS before (kB) | RSS after (kB) | bytes per connection |", "| --- | ---: | ---: | ---: |"]
        for name, t in result["idle"]["targets"].items():
            lines.append(f"| {name} | {t['rss_before_kb']} | {t['rss_after_kb']} | {t['bytes_per_connection']} |")
        lines += ["", f"{result['idle']['connections']} connections, each after one GET, quiet for {result['idle']['settle_s']} s.", ""]
    if result.get("plots"):
        lines += ["## Plots", ""] + [f"![{p}]({result['stamp']}-full/{p})" for p in result["plots"]] + [""]
    m = result["machine"]
    lines += ["## Run", "", f"Machine: {m['cpu']}, {m['cores']} cores, {int(m['mem_kb']) // 1024} MiB, kernel {m['kernel']}; "
              f"commit `{result['commit']}`; proxy on CPU {lab.PROXY_CPU}, origin and load generators on CPU {lab.LOAD_CPU}.",
              f"Reproduce: `python3 perf/full.py --reps {args.reps} --duration {args.duration}`; every command is in the JSON.", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--skip", default="", help="parts to leave out: openloop,apis,reload,idle")
    args = ap.parse_args()
    skip = set(x.strip() for x in args.skip.split(",") if x.strip())
    lab.check_tools()
    if not args.no_build:
        lab.build()
        subprocess.check_call(["cargo", "build", "--release", "--manifest-path", os.path.join(TOOLS, "Cargo.toml")])
    lab.raise_priority()
    closed_args = lab.normalize(argparse.Namespace(
        reps=args.reps, duration=args.duration, targets=PEERS, connections=CONNECTIONS, label="full", no_build=True,
        scenarios=SIZES + ["policy", "https", "handshake", "resumed"]))
    result = {"question": __doc__.split("\n\n")[1].strip(), "machine": lab.machine(), "commit": lab.git_commit(),
              "stamp": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), "args": vars(args)}
    result["closed"] = lab.run(closed_args)
    if "openloop" not in skip:
        maxima = {t: result["closed"]["summary"].get(f"1k/{t}", {}).get("rps_median") for t in PEERS}
        result["openloop"] = open_loop(args, maxima)
    if "apis" not in skip:
        result["apis"] = many_apis(args)
    if "reload" not in skip:
        result["reload"] = large_config.measure(10000, 15, 1.0)
    if "idle" not in skip:
        result["idle"] = idle_memory.measure(10000, 3.0)
    result["targets"] = targets(result)
    out_dir = os.path.join(lab.ROOT, "bench-results", f"{result['stamp']}-full")
    result["plots"] = plots(result, out_dir)
    md = render(result, args)
    lab.write(result, "full", md)
    latest = os.path.join(lab.ROOT, "bench-results", "latest")
    shutil.rmtree(latest, ignore_errors=True)
    shutil.copytree(out_dir, latest)
    open(os.path.join(latest, "SUMMARY.md"), "w").write(md.replace(f"]({result['stamp']}-full/", "]("))
    print(md)
    return 0 if all(t["met"] for t in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())

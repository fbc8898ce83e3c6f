#!/usr/bin/env python3
"""Idle keep-alive connections: how much memory does each proxy hold per open, idle connection?

Starts the lab's origin, nginx and ringgate (one worker each, pinned as in perf/lab.py), opens N
keep-alive connections to each proxy, sends one GET on every connection (so each has served a
request and sits idle between requests), and records the proxy's resident memory (the whole
process tree, nginx's workers included) before and after: (RSS after - RSS before) / N.

    python3 perf/idle_memory.py [--connections 10000] [--no-build]
"""
import argparse, json, os, resource, shutil, socket, subprocess, sys, tempfile, time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (the lab's process handling, machine description and targets)


def tree(pid):
    """The pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError:
            pass
    return out


def read_response(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n")
                           if l.lower().startswith(b"content-length:")), 0)
            if len(body) >= length:
                return data


def open_idle(port, n):
    socks = []
    req = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        if not read_response(s).startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"port {port}: a request failed")
        socks.append(s)
    return socks


def measure(connections, settle=3.0):
    """RSS per idle connection for nginx and ringgate (binaries already built)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if connections + 100 > hard:
        raise SystemExit(f"the open-file limit ({hard}) is too low for {connections} connections")
    work = tempfile.mkdtemp(prefix="ringgate-idle-")
    proc = lab.Lab(work)
    result = {"question": __doc__.split("\n\n")[1].strip(), "machine": lab.machine(), "commit": lab.git_commit(),
              "date": datetime.now(timezone.utc).isoformat(), "connections": connections, "settle_s": settle,
              "targets": {}}
    try:
        backend = lab.free_port()
        proc.spawn("backend", [os.path.join(lab.ROOT, "target/release/examples/bench_backend"), f"127.0.0.1:{backend}"], lab.LOAD_CPU)
        lab.wait_ok(f"http://127.0.0.1:{backend}/1k")
        targets = argparse.Namespace(targets=["nginx", "ringgate"], scenarios=[])
        ports = lab.start_targets(proc, targets, backend)
        for name, port in ports.items():
            pids = tree(proc.procs[name].pid)
            time.sleep(0.5)
            before = lab.rss_kb(tree(proc.procs[name].pid))
            socks = open_idle(port, connections)
            time.sleep(settle)  # idle means quiet: ringgate parks a connection after 1 s
            after = lab.rss_kb(tree(proc.procs[name].pid))
            per = (after - before) * 1024 / connections
            result["targets"][name] = {"rss_before_kb": before, "rss_after_kb": after, "bytes_per_connection": round(per),
                                       "processes": len(pids)}
            print(f"{name:<10} RSS {before} kB -> {after} kB: {per:.0f} bytes per idle connection", flush=True)
            for s in socks:
                s.close()
            time.sleep(1.0)
    finally:
        proc.stop()
        shutil.rmtree(work, ignore_errors=True)
    result["commands"] = proc.commands
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds the connections stay quiet before measuring")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.check_call(["cargo", "build", "--release", "--bin", "ringgate", "--example", "bench_backend"], cwd=lab.ROOT)
    result = measure(args.connections, args.settle)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = os.path.join(lab.ROOT, "bench-results", f"{stamp}-idle-memory")
    json.dump(result, open(base + ".json", "w"), indent=2)
    m = result["machine"]
    lines = [f"# Idle keep-alive connections ({stamp})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}; commit `{result['commit']}`.",
             f"{args.connections} connections per proxy, each after one GET, quiet for {args.settle} s; one worker each.", "",
             "| target | RSS before (kB) | RSS after (kB) | bytes per idle connection |", "| --- | ---: | ---: | ---: |"]
    for name, t in result["targets"].items():
        lines.append(f"| {name} | {t['rss_before_kb']} | {t['rss_after_kb']} | {t['bytes_per_connection']} |")
    lines += ["", f"Reproduce: `python3 perf/idle_memory.py --connections {args.connections} --settle {args.settle}`", ""]
    open(base + ".md", "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

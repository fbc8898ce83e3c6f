//! `/metrics`: the workers' published counters summed, in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::node::{Merged, NodeState};
use crate::telemetry::histograms::{at_or_below, ApiHistograms, DURATIONS};

/// WebSocket tunnels: open now per worker, opened since start, bytes each way (counted when a
/// tunnel ends).
fn websocket_metrics(s: &mut String, per_worker: &[(usize, [u64; 5])]) {
    let _ = writeln!(s, "# HELP ringgate_websocket_connections_active Open WebSocket tunnels per worker.");
    let _ = writeln!(s, "# TYPE ringgate_websocket_connections_active gauge");
    for (i, w) in per_worker {
        let _ = writeln!(s, "ringgate_websocket_connections_active{{worker=\"{i}\"}} {}", w[0]);
    }
    let sum = |k: usize| per_worker.iter().map(|(_, w)| w[k]).sum::<u64>();
    let _ = writeln!(s, "# HELP ringgate_websocket_connections_total WebSocket tunnels opened since start.");
    let _ = writeln!(s, "# TYPE ringgate_websocket_connections_total counter");
    let _ = writeln!(s, "ringgate_websocket_connections_total {}", sum(1));
    let _ = writeln!(s, "# HELP ringgate_websocket_bytes_total Bytes relayed by WebSocket tunnels that ended.");
    let _ = writeln!(s, "# TYPE ringgate_websocket_bytes_total counter");
    let _ = writeln!(s, "ringgate_websocket_bytes_total{{direction=\"client_to_backend\"}} {}", sum(2));
    let _ = writeln!(s, "ringgate_websocket_bytes_total{{direction=\"backend_to_client\"}} {}", sum(3));
    let _ = writeln!(
        s,
        "# HELP ringgate_websocket_spliced_bytes_total Of those, bytes moved kernel to kernel (plain TCP, large frames)."
    );
    let _ = writeln!(s, "# TYPE ringgate_websocket_spliced_bytes_total counter");
    let _ = writeln!(s, "ringgate_websocket_spliced_bytes_total {}", sum(4));
}

pub fn render(node: &NodeState) -> String {
    let mut s = String::with_capacity(4096);
    crate::telemetry::build_info::write_metric(&mut s);
    let _ = writeln!(s, "# HELP ringgate_worker_requests_total Requests handled by each worker.");
    let _ = writeln!(s, "# TYPE ringgate_worker_requests_total counter");
    let mut conns = Vec::new();
    let mut refused = [0u64; 3];
    let mut websockets = Vec::new();
    for (i, w) in node.workers.iter().enumerate() {
        let Ok(r) = w.report.lock() else { continue };
        let _ = writeln!(s, "ringgate_worker_requests_total{{worker=\"{i}\"}} {}", r.requests);
        conns.push((i, r.connections_active, r.in_flight, r.pool_idle));
        for (k, n) in r.refused.iter().enumerate() {
            refused[k] += n;
        }
        websockets.push((i, r.websockets));
    }
    let Merged { by_route, histograms, .. } = node.merged();
    let _ = writeln!(s, "# HELP ringgate_requests_total Requests by API, operation and status class.");
    let _ = writeln!(s, "# TYPE ringgate_requests_total counter");
    for ((api, op, class), v) in &by_route {
        let _ = writeln!(
            s,
            "ringgate_requests_total{{api=\"{}\",operation=\"{}\",code_class=\"{class}\"}} {v}",
            label(api),
            label(op)
        );
    }
    durations(&mut s, &histograms);
    sizes(&mut s, &histograms);
    let _ = writeln!(s, "# HELP ringgate_connections_active Open client connections per worker.");
    let _ = writeln!(s, "# TYPE ringgate_connections_active gauge");
    for (i, c, _, _) in &conns {
        let _ = writeln!(s, "ringgate_connections_active{{worker=\"{i}\"}} {c}");
    }
    let _ = writeln!(
        s,
        "# HELP ringgate_connections_refused_total Connections refused at accept (limits, descriptor exhaustion)."
    );
    let _ = writeln!(s, "# TYPE ringgate_connections_refused_total counter");
    for (reason, n) in ["per_worker", "per_client_ip", "fd_limit"].iter().zip(refused) {
        let _ = writeln!(s, "ringgate_connections_refused_total{{reason=\"{reason}\"}} {n}");
    }
    gauge(&mut s, "ringgate_requests_in_flight", "Requests being handled per worker.", &conns, |c| c.2);
    gauge(
        &mut s,
        "ringgate_upstream_idle_connections",
        "Idle kept-alive backend connections per worker.",
        &conns,
        |c| c.3,
    );
    websocket_metrics(&mut s, &websockets);
    let _ = writeln!(s, "# HELP ringgate_worker_snapshot_generation The configuration generation each worker runs.");
    let _ = writeln!(s, "# TYPE ringgate_worker_snapshot_generation gauge");
    for (i, w) in node.workers.iter().enumerate() {
        let g = w.generation.load(std::sync::atomic::Ordering::Acquire);
        let _ = writeln!(s, "ringgate_worker_snapshot_generation{{worker=\"{i}\"}} {g}");
    }
    let c = node.control();
    let _ = writeln!(s, "# HELP ringgate_config_info The configuration being served.");
    let _ = writeln!(s, "# TYPE ringgate_config_info gauge");
    if let Some(rev) = &c.revision {
        let _ = writeln!(s, "ringgate_config_info{{revision=\"{}\",source=\"{}\"}} 1", label(rev), c.source);
    }
    if let Some(age) = c.last_load.and_then(|t| t.elapsed().ok()) {
        let _ = writeln!(s, "# HELP ringgate_config_age_seconds Seconds since the configuration served was loaded.");
        let _ = writeln!(s, "# TYPE ringgate_config_age_seconds gauge");
        let _ = writeln!(s, "ringgate_config_age_seconds {}", age.as_secs());
    }
    let _ = writeln!(s, "# HELP ringgate_config_sync_failures_total Configuration loads or fetches that failed.");
    let _ = writeln!(s, "# TYPE ringgate_config_sync_failures_total counter");
    let _ = writeln!(s, "ringgate_config_sync_failures_total {}", c.sync_failures);
    if let Some(expiry) = c.token_expires {
        let left = match expiry.duration_since(std::time::SystemTime::now()) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        let _ = writeln!(
            s,
            "# HELP ringgate_token_expiry_seconds Seconds until the gateway token expires (negative: expired)."
        );
        let _ = writeln!(s, "# TYPE ringgate_token_expiry_seconds gauge");
        let _ = writeln!(s, "ringgate_token_expiry_seconds {left:.0}");
    }
    if node.limits_redis.lock().map(|u| u.is_some()).unwrap_or(false) {
        let up = node.limits.redis_up.load(std::sync::atomic::Ordering::Acquire);
        let _ = writeln!(s, "# HELP ringgate_limits_redis_up Whether the Redis shared by limit counters answers.");
        let _ = writeln!(s, "# TYPE ringgate_limits_redis_up gauge");
        let _ = writeln!(s, "ringgate_limits_redis_up {}", u8::from(up));
    }
    let _ = writeln!(s, "# HELP ringgate_io_driver The I/O driver the workers run on.");
    let _ = writeln!(s, "# TYPE ringgate_io_driver gauge");
    let _ = writeln!(s, "ringgate_io_driver{{driver=\"{}\"}} 1", node.driver);
    let _ = writeln!(s, "# HELP ringgate_uptime_seconds Seconds since start.");
    let _ = writeln!(s, "# TYPE ringgate_uptime_seconds gauge");
    let _ = writeln!(s, "ringgate_uptime_seconds {}", node.started.elapsed().as_secs());
    s
}

/// Bucket bounds of the duration histograms, in seconds.
const DURATION_BOUNDS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Bucket bounds of the size histograms, in bytes.
const SIZE_BOUNDS: [u64; 8] = [128, 1024, 8192, 65_536, 262_144, 1 << 20, 16 << 20, 256 << 20];

fn durations(s: &mut String, histograms: &BTreeMap<String, ApiHistograms>) {
    const HELP: [&str; 4] = [
        "Total request duration, from the first byte received to the last byte sent.",
        "Time in backend I/O (connect, send, receive).",
        "Time in client I/O (reading the request, writing the response).",
        "Time in the gateway itself: total minus backend and client time.",
    ];
    for (i, kind) in DURATIONS.iter().enumerate() {
        let name = format!("ringgate_{kind}_duration_seconds");
        let _ = writeln!(s, "# HELP {name} {}", HELP[i]);
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (api, h) in histograms {
            let hist = &h.durations[i];
            let api = label(api);
            for bound in DURATION_BOUNDS {
                let n = at_or_below(hist, (bound * 1e6) as u64);
                let _ = writeln!(s, "{name}_bucket{{api=\"{api}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(s, "{name}_bucket{{api=\"{api}\",le=\"+Inf\"}} {}", hist.len());
            let _ = writeln!(s, "{name}_sum{{api=\"{api}\"}} {}", h.duration_sums_us[i] as f64 / 1e6);
            let _ = writeln!(s, "{name}_count{{api=\"{api}\"}} {}", hist.len());
        }
    }
}

fn sizes(s: &mut String, histograms: &BTreeMap<String, ApiHistograms>) {
    for (kind, help) in [("request", "Request sizes (head and body)."), ("response", "Response sizes (head and body).")]
    {
        let name = format!("ringgate_{kind}_size_bytes");
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (api, h) in histograms {
            let (hist, sum) = match kind {
                "request" => (&h.request_bytes, h.request_bytes_sum),
                _ => (&h.response_bytes, h.response_bytes_sum),
            };
            let api = label(api);
            for bound in SIZE_BOUNDS {
                let n = at_or_below(hist, bound);
                let _ = writeln!(s, "{name}_bucket{{api=\"{api}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(s, "{name}_bucket{{api=\"{api}\",le=\"+Inf\"}} {}", hist.len());
            let _ = writeln!(s, "{name}_sum{{api=\"{api}\"}} {sum}");
            let _ = writeln!(s, "{name}_count{{api=\"{api}\"}} {}", hist.len());
        }
    }
}

/// Escapes a label value (backslash, quote, newline) per the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn gauge(
    s: &mut String,
    name: &str,
    help: &str,
    rows: &[(usize, u64, u64, u64)],
    pick: impl Fn(&(usize, u64, u64, u64)) -> u64,
) {
    let _ = writeln!(s, "# HELP {name} {help}");
    let _ = writeln!(s, "# TYPE {name} gauge");
    for row in rows {
        let _ = writeln!(s, "{name}{{worker=\"{}\"}} {}", row.0, pick(row));
    }
}

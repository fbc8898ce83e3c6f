//! `/metrics`: the workers' published counters summed, in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::node::NodeState;

pub fn render(node: &NodeState) -> String {
    let mut s = String::with_capacity(4096);
    let mut by_route: BTreeMap<(String, String, &'static str), u64> = BTreeMap::new();
    let _ = writeln!(
        s,
        "# HELP ringgate_worker_requests_total Requests handled by each worker."
    );
    let _ = writeln!(s, "# TYPE ringgate_worker_requests_total counter");
    let mut conns = Vec::new();
    for (i, w) in node.workers.iter().enumerate() {
        let Ok(r) = w.report.lock() else { continue };
        let _ = writeln!(
            s,
            "ringgate_worker_requests_total{{worker=\"{i}\"}} {}",
            r.requests
        );
        conns.push((i, r.connections_active));
        for (k, v) in &r.by_route {
            *by_route.entry(k.clone()).or_insert(0) += v;
        }
    }
    let _ = writeln!(
        s,
        "# HELP ringgate_requests_total Requests by API, operation and status class."
    );
    let _ = writeln!(s, "# TYPE ringgate_requests_total counter");
    for ((api, op, class), v) in &by_route {
        let _ = writeln!(
            s,
            "ringgate_requests_total{{api=\"{}\",operation=\"{}\",code_class=\"{class}\"}} {v}",
            label(api),
            label(op)
        );
    }
    let _ = writeln!(
        s,
        "# HELP ringgate_connections_active Open client connections per worker."
    );
    let _ = writeln!(s, "# TYPE ringgate_connections_active gauge");
    for (i, c) in conns {
        let _ = writeln!(s, "ringgate_connections_active{{worker=\"{i}\"}} {c}");
    }
    let c = node.control();
    let _ = writeln!(
        s,
        "# HELP ringgate_config_info The configuration being served."
    );
    let _ = writeln!(s, "# TYPE ringgate_config_info gauge");
    if let Some(rev) = &c.revision {
        let _ = writeln!(
            s,
            "ringgate_config_info{{revision=\"{}\",source=\"{}\"}} 1",
            label(rev),
            c.source
        );
    }
    let _ = writeln!(
        s,
        "# HELP ringgate_config_sync_failures_total Configuration loads or fetches that failed."
    );
    let _ = writeln!(s, "# TYPE ringgate_config_sync_failures_total counter");
    let _ = writeln!(s, "ringgate_config_sync_failures_total {}", c.sync_failures);
    let _ = writeln!(
        s,
        "# HELP ringgate_io_driver The I/O driver the workers run on."
    );
    let _ = writeln!(s, "# TYPE ringgate_io_driver gauge");
    let _ = writeln!(s, "ringgate_io_driver{{driver=\"{}\"}} 1", node.driver);
    let _ = writeln!(s, "# HELP ringgate_uptime_seconds Seconds since start.");
    let _ = writeln!(s, "# TYPE ringgate_uptime_seconds gauge");
    let _ = writeln!(
        s,
        "ringgate_uptime_seconds {}",
        node.started.elapsed().as_secs()
    );
    s
}

/// Escapes a label value (backslash, quote, newline) per the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

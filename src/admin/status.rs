//! `/status`: what runs, where it came from, whether every worker has it.

use std::sync::atomic::Ordering;
use std::time::UNIX_EPOCH;

use crate::http::write::json_escape_into;
use crate::node::NodeState;

/// The JSON text and whether the gateway is serving a configuration on every worker.
pub fn render(node: &NodeState) -> (String, bool) {
    let c = node.control();
    let applied = node.all_applied();
    let mut s = String::with_capacity(512);
    s.push('{');
    s.push_str("\"version\":\"");
    s.push_str(crate::telemetry::build_info::VERSION);
    s.push_str("\",\"commit\":\"");
    s.push_str(crate::telemetry::build_info::COMMIT);
    s.push_str("\",\"revision\":");
    push_opt(&mut s, c.revision.as_deref());
    s.push_str(",\"generation\":");
    s.push_str(&c.generation.to_string());
    s.push_str(",\"applied\":");
    s.push_str(if applied { "true" } else { "false" });
    s.push_str(",\"source\":");
    push_opt(&mut s, (!c.source.is_empty()).then_some(c.source));
    s.push_str(",\"lastLoad\":");
    match c.last_load.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(d) => s.push_str(&d.as_secs().to_string()),
        None => s.push_str("null"),
    }
    s.push_str(",\"lastError\":");
    push_opt(&mut s, c.last_error.as_deref());
    s.push_str(",\"lastSync\":");
    push_opt(&mut s, c.last_sync.map(crate::timefmt::rfc3339).as_deref());
    s.push_str(",\"endpointError\":");
    push_opt(&mut s, c.endpoint_error.as_deref());
    s.push_str(",\"tokenExpires\":");
    push_opt(&mut s, c.token_expires.map(crate::timefmt::rfc3339).as_deref());
    s.push_str(",\"syncFailures\":");
    s.push_str(&c.sync_failures.to_string());
    s.push_str(",\"driver\":");
    push_opt(&mut s, Some(node.driver));
    s.push_str(",\"draining\":");
    s.push_str(if node.is_draining() { "true" } else { "false" });
    s.push_str(",\"uptimeSeconds\":");
    s.push_str(&node.started.elapsed().as_secs().to_string());
    s.push_str(",\"workers\":[");
    for (i, w) in node.workers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let g = w.generation.load(Ordering::Acquire);
        let rev = if g == c.generation { c.revision.as_deref() } else { None };
        s.push_str(&format!("{{\"worker\":{i},\"generation\":{g},\"revision\":"));
        push_opt(&mut s, rev);
        s.push('}');
    }
    s.push_str("]}");
    (s, applied && !node.is_draining())
}

fn push_opt(s: &mut String, v: Option<&str>) {
    match v {
        Some(v) => {
            s.push('"');
            json_escape_into(s, v);
            s.push('"');
        }
        None => s.push_str("null"),
    }
}

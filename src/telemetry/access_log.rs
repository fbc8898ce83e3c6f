//! The access log: one JSON line per request (APIM's GatewayLogs fields) on stdout. Each worker
//! appends to its own buffer; full buffers and the tick's flush hand the bytes to a writer thread,
//! so the event loop never blocks on stdout. Keys, tokens and Authorization values never appear:
//! the subscription key is cut from the logged URL and no header values are logged.

use std::io::Write;

use crossbeam_channel::Sender;

use super::Record;
use crate::config::Scheme;
use crate::http::request::RequestHead;
use crate::http::write::json_escape_into;
use crate::snapshot::Snapshot;

/// Flush a worker's buffer once it holds this much.
pub const FLUSH_AT: usize = 64 * 1024;

/// Starts the writer thread; workers send it whole buffers of complete lines.
pub fn writer() -> std::io::Result<Sender<Vec<u8>>> {
    let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(1024);
    std::thread::Builder::new().name("gw-access-log".into()).spawn(move || {
        for buf in rx {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&buf);
            let _ = out.flush();
        }
    })?;
    Ok(tx)
}

/// The request-line part of a log line (`"method":…,"url":…`), made while the head is still in
/// the buffer. The subscription key query parameter (`key_query`, and APIM's default name) is cut.
pub fn prefix(head: &RequestHead, buf: &[u8], scheme: Scheme, key_query: Option<&str>) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut s = String::with_capacity(128);
    s.push_str("\"method\":\"");
    json_escape_into(&mut s, &text(head.method.get(buf)));
    s.push_str("\",\"url\":\"");
    s.push_str(if scheme == Scheme::Https { "https://" } else { "http://" });
    json_escape_into(&mut s, &text(head.host.map(|h| h.get(buf)).unwrap_or(b"")));
    json_escape_into(&mut s, &text(head.path.get(buf)));
    let query = head.query.get(buf);
    let mut first = true;
    for pair in query.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
        if name == b"subscription-key" || key_query.is_some_and(|k| k.as_bytes() == name) {
            continue;
        }
        s.push(if first { '?' } else { '&' });
        first = false;
        json_escape_into(&mut s, &text(pair));
    }
    s.push('"');
    s
}

/// Appends one JSON line for `rec` to `out`.
pub fn append(
    out: &mut String,
    rec: &Record,
    prefix: Option<&str>,
    client_ip: std::net::IpAddr,
    http_minor: u8,
    tls: Option<&str>,
    snap: Option<&Snapshot>,
) {
    let [total, backend, client, _] = rec.durations();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let doc = snap.map(|s| &s.doc);
    let api = rec.api.and_then(|a| doc.and_then(|d| d.apis.get(a as usize)));
    let op = rec.operation.and_then(|o| api.and_then(|a| a.operations.get(o as usize)));
    let product = rec.product.and_then(|p| doc.and_then(|d| d.products.get(p as usize)));
    let sub = rec.subscription.and_then(|s| doc.and_then(|d| d.subscriptions.get_opt(s)));
    out.push_str("{\"timeGenerated\":\"");
    out.push_str(&crate::timefmt::rfc3339(std::time::SystemTime::now()));
    out.push_str("\",\"category\":\"GatewayLogs\",\"correlationId\":\"");
    out.push_str(&rec.id.to_text());
    out.push_str("\",\"traceId\":\"");
    out.push_str(&rec.trace.trace_id_text());
    out.push_str("\",");
    out.push_str(prefix.unwrap_or("\"method\":null,\"url\":null"));
    out.push_str(&format!(
        ",\"responseCode\":{},\"isRequestSuccess\":{},\"requestSize\":{},\"responseSize\":{},\"totalTime\":{:.3},\"backendTime\":{:.3},\"clientTime\":{:.3}",
        rec.status,
        (200..400).contains(&rec.status),
        rec.request_bytes,
        rec.response_bytes,
        ms(total),
        ms(backend),
        ms(client)
    ));
    let field = |out: &mut String, name: &str, value: Option<&str>| {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        match value {
            Some(v) => {
                out.push('"');
                json_escape_into(out, v);
                out.push('"');
            }
            None => out.push_str("null"),
        }
    };
    field(out, "apiId", api.map(|a| a.id.as_str()));
    field(out, "operationId", op.map(|o| o.id.as_str()));
    field(out, "productId", product.map(|p| p.id.as_str()));
    field(out, "apimSubscriptionId", sub.map(|s| s.id.as_str()));
    field(out, "callerIpAddress", Some(&client_ip.to_string()));
    field(out, "backendUrl", rec.backend_url.as_deref());
    match rec.backend_status {
        Some(code) => out.push_str(&format!(",\"backendResponseCode\":{code}")),
        None => out.push_str(",\"backendResponseCode\":null"),
    }
    field(out, "lastErrorSource", rec.last_error_source);
    field(out, "lastErrorReason", rec.last_error_reason);
    field(out, "clientProtocol", Some(if http_minor == 0 { "HTTP/1.0" } else { "HTTP/1.1" }));
    field(out, "clientTlsVersion", tls);
    out.push_str("}\n");
}

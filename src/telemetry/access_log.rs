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
    fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(b)
    }
    fn json_escape_into(s: &mut String, v: &str) {
        if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            s.push_str(v); // the common case: request-line bytes need no escaping
        } else {
            crate::http::write::json_escape_into(s, v);
        }
    }
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

#[allow(clippy::too_many_arguments)] // one call site; the parts of a line, each from elsewhere
/// Appends one JSON line for `rec` to `out`. Written byte by byte into the worker's buffer:
/// no allocation, no `format!`, the timestamp text reused within a second.
pub fn append(
    out: &mut Vec<u8>,
    rec: &Record,
    durations: &[std::time::Duration; 4],
    prefix: Option<&str>,
    client_ip: std::net::IpAddr,
    http_minor: u8,
    tls: Option<&str>,
    snap: Option<&Snapshot>,
) {
    let [total, backend, client, _] = *durations;
    let doc = snap.map(|s| &s.doc);
    let api = rec.api.and_then(|a| doc.and_then(|d| d.apis.get(a as usize)));
    let op = rec.operation.and_then(|o| api.and_then(|a| a.operations.get(o as usize)));
    let product = rec.product.and_then(|p| doc.and_then(|d| d.products.get(p as usize)));
    let sub = rec.subscription.and_then(|s| doc.and_then(|d| d.subscriptions.get_opt(s)));
    out.extend_from_slice(b"{\"timeGenerated\":\"");
    push_now(out);
    out.extend_from_slice(b"\",\"category\":\"GatewayLogs\",\"correlationId\":\"");
    rec.id.write(out);
    out.extend_from_slice(b"\",\"traceId\":\"");
    super::trace::push_hex(out, rec.trace.trace_id, 32);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(prefix.unwrap_or("\"method\":null,\"url\":null").as_bytes());
    number(out, "responseCode", u64::from(rec.status));
    out.extend_from_slice(if (200..400).contains(&rec.status) {
        b",\"isRequestSuccess\":true"
    } else {
        b",\"isRequestSuccess\":false"
    });
    number(out, "requestSize", rec.request_bytes);
    number(out, "responseSize", rec.response_bytes);
    millis(out, "totalTime", total);
    millis(out, "backendTime", backend);
    millis(out, "clientTime", client);
    field(out, "apiId", api.map(|a| a.id.as_str()));
    field(out, "operationId", op.map(|o| o.id.as_str()));
    field(out, "productId", product.map(|p| p.id.as_str()));
    field(out, "apimSubscriptionId", sub.map(|s| s.id.as_str()));
    out.extend_from_slice(b",\"callerIpAddress\":\"");
    push_ip(out, client_ip);
    out.push(b'"');
    field(out, "backendUrl", rec.backend_url.as_deref());
    match rec.backend_status {
        Some(code) => number(out, "backendResponseCode", u64::from(code)),
        None => out.extend_from_slice(b",\"backendResponseCode\":null"),
    }
    field(out, "lastErrorSource", rec.last_error_source);
    field(out, "lastErrorReason", rec.last_error_reason);
    field(out, "clientProtocol", Some(if http_minor == 0 { "HTTP/1.0" } else { "HTTP/1.1" }));
    field(out, "clientTlsVersion", tls);
    out.extend_from_slice(b"}\n");
}

fn field(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    match value {
        Some(v) => {
            out.push(b'"');
            push_json(out, v);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn number(out: &mut Vec<u8>, name: &str, n: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Milliseconds with three decimals, from whole microseconds.
fn millis(out: &mut Vec<u8>, name: &str, d: std::time::Duration) {
    let us = d.as_micros() as u64;
    number(out, name, us / 1000);
    let frac = us % 1000;
    out.push(b'.');
    out.push(b'0' + (frac / 100) as u8);
    out.push(b'0' + (frac / 10 % 10) as u8);
    out.push(b'0' + (frac % 10) as u8);
}

/// JSON string content; the common case (nothing to escape) is one copy.
fn push_json(out: &mut Vec<u8>, v: &str) {
    if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(v.as_bytes());
    } else {
        let mut s = String::with_capacity(v.len() + 8);
        json_escape_into(&mut s, v);
        out.extend_from_slice(s.as_bytes());
    }
}

thread_local! {
    /// This worker's last formatted second: (unix seconds, RFC 3339 text).
    static NOW: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

fn push_now(out: &mut Vec<u8>) {
    let now = std::time::SystemTime::now();
    let secs = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    NOW.with(|cell| {
        let mut c = cell.borrow_mut();
        if c.0 != secs {
            *c = (secs, crate::timefmt::rfc3339(now));
        }
        out.extend_from_slice(c.1.as_bytes());
    });
}

/// An IPv4 address by hand (the common case); IPv6 through `Display`.
fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(itoa::Buffer::new().format(*octet).as_bytes());
            }
        }
        v6 => {
            let _ = write!(out, "{v6}");
        }
    }
}

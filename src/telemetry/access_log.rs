//! The access log: one JSON line per request (APIM's GatewayLogs fields) on stdout. Each worker
//! appends to its own buffer; full buffers and the tick's flush hand the bytes to a writer thread,
//! so the event loop never blocks on stdout, and the writer hands the emptied buffers back, so a
//! busy worker reuses the same few buffers. Keys, tokens and Authorization values never appear:
//! the subscription key is cut from the logged URL and no header values are logged.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::logfmt::{push_ip, push_json, push_millis, push_time, push_u64};
use super::names::Names;
use super::Record;
use crate::config::{BackendUrl, Scheme};
use crate::http::request::RequestHead;

/// Flush a worker's buffer once it holds this much: few, big writes (and few thread wake-ups).
pub const FLUSH_AT: usize = 256 * 1024;

/// Room for one more line above [`FLUSH_AT`], so a buffer never grows on the request path.
pub const BUF_CAPACITY: usize = FLUSH_AT + 8 * 1024;

/// Buffers the writer has not written yet; beyond this many, new ones are dropped (as the
/// bounded channel did before): a stalled stdout must not grow the gateway without bound.
const QUEUE_MAX: usize = 1024;

/// Emptied buffers kept for reuse.
const SPARE_MAX: usize = 64;

/// Full buffers for the writer, and emptied ones for the workers.
type Buffers = (VecDeque<Vec<u8>>, Vec<Vec<u8>>);

#[derive(Default)]
struct Queue {
    state: Mutex<Buffers>,
    ready: Condvar,
}

/// The workers' end of the writer thread: whole buffers of complete lines go to the writer,
/// emptied ones come back. A mutex and a condition variable rather than a channel: the writer
/// sleeps in the kernel until woken, where a channel's receiver spins and yields first, which
/// on a core shared with a worker costs that worker context switches.
#[derive(Clone)]
pub struct LogSink(Arc<Queue>);

impl LogSink {
    /// Hands `buf` to the writer (dropped when the writer is [`QUEUE_MAX`] buffers behind) and
    /// leaves an empty buffer to fill next in its place.
    pub fn send(&self, buf: &mut Vec<u8>) {
        let Ok(mut state) = self.0.state.lock() else {
            buf.clear();
            return;
        };
        let (full, spare) = &mut *state;
        let next = spare.pop().unwrap_or_default();
        if full.len() < QUEUE_MAX {
            full.push_back(std::mem::replace(buf, next));
        } else {
            buf.clear();
            spare.push(next);
        }
        drop(state);
        self.0.ready.notify_one();
        if buf.capacity() < BUF_CAPACITY {
            buf.reserve(BUF_CAPACITY);
        }
    }
}

/// Starts the writer thread. It ends once every worker's sink is gone and all is written.
pub fn writer() -> std::io::Result<LogSink> {
    let queue = Arc::new(Queue::default());
    let q = queue.clone();
    std::thread::Builder::new().name("gw-access-log".into()).spawn(move || loop {
        let Ok(mut state) = q.state.lock() else { return };
        while state.0.is_empty() {
            if Arc::strong_count(&q) == 1 {
                return;
            }
            state = match q.ready.wait_timeout(state, Duration::from_secs(1)) {
                Ok((s, _)) => s,
                Err(_) => return,
            };
        }
        let batch: Vec<Vec<u8>> = state.0.drain(..).collect();
        drop(state);
        let mut out = std::io::stdout().lock();
        for buf in &batch {
            let _ = out.write_all(buf);
        }
        let _ = out.flush();
        drop(out);
        if let Ok(mut state) = q.state.lock() {
            for mut buf in batch {
                if state.1.len() < SPARE_MAX && buf.capacity() >= FLUSH_AT {
                    buf.clear();
                    state.1.push(buf);
                }
            }
        }
    })?;
    Ok(LogSink(queue))
}

/// Writes the request-line part of a log line (`"method":…,"url":…`) into `s`, while the head is
/// still in the buffer. Subscription key parameters (`key_query`, APIM's default name, in any
/// case or percent-encoding: [`super::mask`]) are cut.
pub fn prefix(s: &mut Vec<u8>, head: &RequestHead, buf: &[u8], scheme: Scheme, key_query: Option<&str>) {
    s.clear();
    s.extend_from_slice(b"\"method\":\"");
    push_json(s, head.method.get(buf));
    s.extend_from_slice(b"\",\"url\":\"");
    s.extend_from_slice(if scheme == Scheme::Https { b"https://" } else { b"http://" });
    push_json(s, head.host.map(|h| h.get(buf)).unwrap_or(b""));
    push_json(s, head.path.get(buf));
    super::mask::push_query(s, head.query.get(buf), key_query, push_json);
    s.push(b'"');
}

/// `scheme://authority/path?query` of the backend request just written into `out` (its request
/// line), for the access log's `backendUrl`.
pub fn backend_url(out: &[u8], backend: &BackendUrl) -> super::LogText {
    let line_end = memchr::memchr(b'\r', out).unwrap_or(out.len());
    let target = out[..line_end].split(|b| *b == b' ').nth(1).unwrap_or(b"/");
    let mut t = super::LogText::new();
    t.extend_from_slice(if backend.scheme == Scheme::Https { b"https://" } else { b"http://" });
    t.extend_from_slice(backend.authority.as_bytes());
    t.extend_from_slice(target);
    t
}

/// What a line needs besides the record: the request line part, the connection's facts, the
/// snapshot that names the indexes in `rec`, and when the request ended.
pub struct LineContext<'a> {
    pub prefix: Option<&'a [u8]>,
    pub client_ip: std::net::IpAddr,
    pub http_minor: u8,
    pub tls: Option<&'a str>,
    pub names: Option<&'a dyn Names>,
    pub end: std::time::Instant,
}

/// Appends one JSON line for `rec` to `out`. Written byte by byte into the worker's buffer:
/// no allocation, no `format!`, the timestamp text reused within a second.
pub fn append(out: &mut Vec<u8>, rec: &Record, durations: &[Duration; 4], cx: &LineContext<'_>) {
    let [total, backend, client, _] = *durations;
    let names = cx.names;
    let api = rec.api.and_then(|a| names.and_then(|n| n.api(a)));
    let op = rec.operation.and_then(|o| rec.api.and_then(|a| names.and_then(|n| n.operation(a, o))));
    let product = rec.product.and_then(|p| names.and_then(|n| n.product(p)));
    let sub = rec.subscription.and_then(|s| names.and_then(|n| n.subscription(s)));
    out.extend_from_slice(b"{\"timeGenerated\":\"");
    push_time(out, cx.end);
    out.extend_from_slice(b"\",\"category\":\"GatewayLogs\",\"correlationId\":\"");
    rec.id.write(out);
    out.extend_from_slice(b"\",\"traceId\":\"");
    super::trace::push_hex(out, rec.trace.trace_id, 32);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(cx.prefix.unwrap_or(b"\"method\":null,\"url\":null"));
    number(out, b",\"responseCode\":", u64::from(rec.status));
    // 101: a WebSocket session, logged when it ends.
    out.extend_from_slice(if (200..400).contains(&rec.status) || rec.status == 101 {
        b",\"isRequestSuccess\":true"
    } else {
        b",\"isRequestSuccess\":false"
    });
    number(out, b",\"requestSize\":", rec.request_bytes);
    number(out, b",\"responseSize\":", rec.response_bytes);
    millis(out, b",\"totalTime\":", total);
    millis(out, b",\"backendTime\":", backend);
    millis(out, b",\"clientTime\":", client);
    field(out, b",\"apiId\":", api.map(|a| a.as_bytes()));
    field(out, b",\"operationId\":", op.map(|o| o.as_bytes()));
    field(out, b",\"productId\":", product.map(|p| p.as_bytes()));
    field(out, b",\"apimSubscriptionId\":", sub.map(|s| s.as_bytes()));
    out.extend_from_slice(b",\"callerIpAddress\":\"");
    push_ip(out, cx.client_ip);
    out.push(b'"');
    match rec.backend_url.as_deref() {
        Some(url) => {
            // The backend's URL goes through the same mask as the client's.
            out.extend_from_slice(b",\"backendUrl\":\"");
            super::mask::push_target(out, url, rec.api.and_then(|a| names.and_then(|n| n.key_query(a))), push_json);
            out.push(b'"');
        }
        None => out.extend_from_slice(b",\"backendUrl\":null"),
    }
    match rec.backend_status {
        Some(code) => number(out, b",\"backendResponseCode\":", u64::from(code)),
        None => out.extend_from_slice(b",\"backendResponseCode\":null"),
    }
    field(out, b",\"lastErrorSource\":", rec.last_error_source.as_deref().map(str::as_bytes));
    field(out, b",\"lastErrorReason\":", rec.last_error_reason.as_deref().map(str::as_bytes));
    let protocol: &[u8] = if cx.http_minor == 0 { b"HTTP/1.0" } else { b"HTTP/1.1" };
    field(out, b",\"clientProtocol\":", Some(protocol));
    field(out, b",\"clientTlsVersion\":", cx.tls.map(str::as_bytes));
    out.extend_from_slice(b"}\n");
}

/// `key` is the whole `,"name":` text, so each key is one copy.
fn field(out: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    out.extend_from_slice(key);
    match value {
        Some(v) => {
            out.push(b'"');
            push_json(out, v);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn number(out: &mut Vec<u8>, key: &[u8], n: u64) {
    out.extend_from_slice(key);
    push_u64(out, n);
}

fn millis(out: &mut Vec<u8>, key: &[u8], d: Duration) {
    out.extend_from_slice(key);
    push_millis(out, d);
}

//! The exchange with a backend: send the head and stream the request body, read the response
//! head, stream the response body back. Bodies are never buffered whole: at most one relay buffer
//! per direction is in memory.
//!
//! Phases: (A) connection + head (+ the body bytes already read), (B) the rest of the request
//! body, (C) the response head, (D) the response body. A reused pooled connection that fails in
//! A or C before any response byte is retried once on a fresh connection, only for idempotent
//! requests whose body (if any) was wholly in hand.

use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::context::{Core, BUF_SIZE};
use super::gate::Route;
use super::h1::conn::Client;
use super::h1::head::{
    backend_url, client_framing, request_head, response_head_with, ClientFraming, ResponseShape, Upstream,
};
use super::io::{read_more, write_from, IoFailure};
use super::upstream::{connect::connect, ConnectError, Peer, UpstreamConn};
use crate::http::chunked::ChunkedScanner;
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::wire::WireError;
use crate::http::write::error_response;
use crate::http::Framing;
use crate::policy::ResponseEdits;
use crate::snapshot::Snapshot;
use crate::telemetry::record::Stopwatch;
use crate::telemetry::Record;

/// The most a backend's response head may take.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Room for the first chunk-size line (with extensions) read with the head.
const FIRST_CHUNK_LINE: usize = 4096 + 32;

/// What went wrong, mapped to the status the client sees.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    #[error("backend connection failed: {0}")]
    Connect(#[from] ConnectError),
    #[error("backend timed out")]
    Timeout,
    #[error("backend failed: {0}")]
    Backend(String),
    #[error("client failed")]
    Client,
    #[error("invalid request body: {0}")]
    BadBody(&'static str),
    #[error("request body too large")]
    TooLarge,
    /// The backend a policy chose cannot be used (unknown id, pool).
    #[error("{0}")]
    Config(&'static str),
    /// A value cannot be written in the head it was meant for (crate::http::wire).
    #[error("cannot write the request head: {0}")]
    Wire(#[from] WireError),
    /// The request body did not arrive whole within `net.server.timeouts.body`.
    #[error("request body timeout")]
    BodyTimeout,
}

impl Failure {
    /// APIM's `LastError` source and reason.
    pub(super) fn reason(&self) -> (&'static str, &'static str) {
        match self {
            Failure::Connect(ConnectError::Timeout) | Failure::Timeout => ("forward-request", "Timeout"),
            Failure::Connect(_) | Failure::Backend(_) => ("forward-request", "BackendConnectionFailure"),
            Failure::BadBody(_) | Failure::Client => ("forward-request", "ClientConnectionFailure"),
            Failure::TooLarge => ("client", "RequestEntityTooLarge"),
            Failure::Config(_) => ("configuration", "BackendNotConfigured"),
            Failure::Wire(e) => ("forward-request", e.log_reason()),
            Failure::BodyTimeout => ("client", "RequestBodyTimeout"),
        }
    }

    pub(super) fn status(&self) -> (u16, &'static str) {
        match self {
            Failure::Connect(ConnectError::Timeout) | Failure::Timeout => (504, "Backend timed out"),
            Failure::Connect(_) | Failure::Backend(_) => (502, "Backend service unavailable"),
            Failure::BadBody(_) | Failure::Client => (400, "Invalid request body"),
            Failure::TooLarge => (413, "Request body too large"),
            Failure::Config(m) => (500, m),
            Failure::Wire(WireError::TargetEscape) => (400, "The request path climbs above the API's backend path"),
            Failure::Wire(_) => (500, "A value cannot be sent in the request head (CR, LF, NUL or an invalid name)"),
            Failure::BodyTimeout => (408, "Request body timeout"),
        }
    }
}

/// The request and its record, passed together down the phases.
pub(super) struct Io<'a> {
    pub req: &'a Req,
    pub rec: &'a mut Record,
}

/// What is left of a request body after the bytes that came with the head.
#[derive(Clone, Copy)]
struct Body {
    framing: Framing,
    remaining: u64,
    deadline: Instant,
}

/// What the rest of the code needs of the request once its head bytes are gone from the buffer.
pub(super) struct Req {
    pub is_head: bool,
    pub idempotent: bool,
    pub minor: u8,
    pub close: bool,
    pub framing: Framing,
    /// When the whole body must have arrived (`net.server.timeouts.body` after the head).
    pub body_deadline: Instant,
}

impl Req {
    pub fn of(head: &RequestHead, buf: &[u8], body_timeout: Duration) -> Req {
        Req {
            is_head: head.is_head(buf),
            idempotent: head.is_idempotent(buf),
            minor: head.minor_version,
            close: head.close,
            framing: head.framing,
            body_deadline: Instant::now() + body_timeout,
        }
    }

    /// How long a read of the body may wait: the idle timeout, cut at the body deadline.
    /// `None` once the deadline has passed.
    pub fn body_wait(&self, idle: Duration) -> Option<Duration> {
        let left = self.body_deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left.min(idle))
    }
}

pub async fn forward<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    snap: &Snapshot,
    route: Route,
    timeout: Duration,
    rec: &mut Record,
) -> bool {
    let api = &snap.doc.apis[route.api as usize];
    let req = match admit(w, client, head, api, &route, rec).await {
        Ok(req) => req,
        Err(keep) => return keep,
    };
    let Some(backend) = api.service_url.as_ref() else {
        rec.error("configuration", "BackendNotConfigured");
        return fail_early(w, client, &req, rec, 500, "No backend service is configured for this API").await;
    };

    // The head for the backend, plus whatever body bytes arrived with the client's head.
    let mut out = w.buffers.take();
    let rest = head.path.get(&client.buf).get(route.rest_start..).unwrap_or(b"");
    let up = Upstream {
        backend,
        rest,
        key_header: &api.key_header,
        key_query: api.key_query.as_bytes(),
        client_ip: client.peer.ip(),
        scheme: client.scheme,
    };
    if let Err(e) = request_head(&mut out, head, &client.buf, &up, &rec.trace) {
        w.buffers.put(out);
        let f = Failure::Wire(e);
        let (status, message) = f.status();
        let (source, reason) = f.reason();
        rec.error(source, reason);
        return fail_early(w, client, &req, rec, status, message).await;
    }
    if w.recorder.log_enabled() {
        rec.backend_url = Some(backend_url(&out, backend));
    }
    rec.request_bytes = match req.framing {
        Framing::Length(n) => head.len as u64 + n,
        _ => head.len as u64,
    };
    let mut scanner = ChunkedScanner::default();
    let buffered = &client.buf[head.len..];
    let head_len = head.len;
    let (prefix, body_done) = match req.framing {
        Framing::None | Framing::UntilClose => (0, true),
        Framing::Length(n) => {
            let p = (buffered.len() as u64).min(n) as usize;
            (p, p as u64 == n)
        }
        Framing::Chunked => match scanner.scan(buffered, |_| {}) {
            Ok(p) => (p, scanner.is_done()),
            Err(_) => {
                w.buffers.put(out);
                rec.error("client", "ClientConnectionFailure");
                return fail_early(w, client, &req, rec, 400, "Invalid chunked request body").await;
            }
        },
    };
    if over_limit(w, &scanner) {
        w.buffers.put(out);
        rec.error("client", "RequestEntityTooLarge");
        return fail_early(w, client, &req, rec, 413, "Request body too large").await;
    }
    let length_left = match req.framing {
        Framing::Length(n) => n - prefix as u64,
        _ => 0,
    };
    match req.framing {
        Framing::Chunked => {
            out.extend_from_slice(&buffered[..scanner.forwardable(prefix)]);
            if scanner.is_done() {
                out.extend_from_slice(ChunkedScanner::END);
            }
        }
        _ => out.extend_from_slice(&buffered[..prefix]),
    }
    client.buf.drain(..head.len + prefix);
    if head.expect_continue && !body_done {
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        if write_from(&mut client.io, cont, 0, w.settings.idle_timeout).await.0.is_err() {
            w.buffers.put(out);
            return false;
        }
    }

    let peer = Peer { scheme: backend.scheme, host: &backend.host, port: backend.port, tls: &snap.backend_tls.default };
    let mut ubuf = w.buffers.take();
    let mut rh = ResponseHead::default();
    let io = Io { req: &req, rec };
    let result =
        exchange(w, client, &peer, io, &mut out, &mut ubuf, &mut rh, &mut scanner, (body_done, length_left), timeout)
            .await;
    w.buffers.put(out);
    if req.framing == Framing::Chunked {
        rec.request_bytes = head_len as u64 + scanner.payload;
    }
    let keep = match result {
        Ok(conn) => {
            rec.status = rh.status;
            rec.backend_status = Some(rh.status);
            relay_response(w, client, Io { req: &req, rec }, conn, &peer, &rh, &mut ubuf, None).await
        }
        Err(f) => {
            let (status, message) = f.status();
            rec.status = status;
            let (source, reason) = f.reason();
            rec.error(source, reason);
            if matches!(f, Failure::Client) {
                return false;
            }
            tracing::debug!(worker = w.id, api = %api.id, error = %f, "request failed");
            // A backend failure is no reason to drop the client: when its request was read whole,
            // the connection carries on (as nginx does).
            let keep = body_done && !matches!(f, Failure::BadBody(_) | Failure::TooLarge | Failure::BodyTimeout);
            let mut e = w.buffers.take();
            error_response(&mut e, status, message, !keep, req.is_head);
            rec.response_bytes = e.len() as u64;
            let (sent, e) = write_from(&mut client.io, e, 0, w.settings.idle_timeout).await;
            w.buffers.put(e);
            keep && sent.is_ok()
        }
    };
    w.buffers.put(ubuf);
    keep && !req.close && !w.draining.get()
}

/// What both paths check before any policy or backend is involved: the API type and a declared
/// body over the limit. `Err(keep)` when the request was answered.
pub(super) async fn admit<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    api: &crate::config::Api,
    route: &Route,
    rec: &mut Record,
) -> Result<Req, bool> {
    rec.api = Some(route.api);
    rec.operation = route.operation;
    rec.product = route.product;
    rec.subscription = route.subscription;
    let req = Req::of(head, &client.buf, w.settings.body_timeout);
    if api.kind != crate::config::ApiType::Http {
        // WebSocket and gRPC pass-through need HTTP/1.1 upgrades and HTTP/2, not built yet:
        // say so rather than forward a request that cannot work.
        rec.error("configuration", "ApiTypeNotSupported");
        let msg = "WebSocket and gRPC APIs are not supported by this gateway yet";
        return Err(fail_early(w, client, &req, rec, 501, msg).await);
    }
    if let (Some(limit), Framing::Length(n)) = (w.settings.body_bytes, req.framing) {
        if n > limit {
            rec.error("client", "RequestEntityTooLarge");
            return Err(fail_early(w, client, &req, rec, 413, "Request body too large").await);
        }
    }
    Ok(req)
}

pub(super) fn over_limit(w: &Core, scanner: &ChunkedScanner) -> bool {
    w.settings.body_bytes.is_some_and(|limit| scanner.payload > limit)
}

/// Answers before anything was sent to a backend. The body was not read, so unless it is already
/// wholly in the buffer the connection must close.
pub(super) async fn fail_early<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    req: &Req,
    rec: &mut Record,
    status: u16,
    message: &str,
) -> bool {
    rec.status = status;
    let mut out = w.buffers.take();
    error_response(&mut out, status, message, true, req.is_head);
    rec.response_bytes = out.len() as u64;
    let (sent, out) = write_from(&mut client.io, out, 0, w.settings.idle_timeout).await;
    w.buffers.put(out);
    if sent.is_ok() && status == 413 && req.framing != Framing::None {
        linger(client).await;
    }
    false
}

/// How long, and how much, a refused body is read and dropped after its 413.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 << 20;

/// After a 413 for a body that was not read, reads and drops what the client still sends,
/// bounded by [`LINGER_TIME`] and [`LINGER_BYTES`]: most clients write the whole body before
/// they read, and closing on unread bytes resets the connection before they see the answer
/// (nginx's lingering close).
async fn linger<S: AsyncReadRent>(client: &mut Client<S>) {
    let deadline = Instant::now() + LINGER_TIME;
    let mut dropped = 0;
    let mut buf = std::mem::take(&mut client.buf);
    while dropped < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        buf.clear();
        match read_more(&mut client.io, &mut buf, BUF_SIZE, left).await {
            Ok(n) => dropped += n,
            Err(_) => break,
        }
    }
}

/// Phases A–C with the single retry. On success the response head is parsed in `rh`, its bytes
/// (and any body bytes after it) are in `ubuf`, and the connection is returned for phase D.
#[allow(clippy::too_many_arguments)]
pub(super) async fn exchange<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    peer: &Peer<'_>,
    io: Io<'_>,
    out: &mut Vec<u8>,
    ubuf: &mut Vec<u8>,
    rh: &mut ResponseHead,
    scanner: &mut ChunkedScanner,
    body: (bool, u64),
    timeout: Duration,
) -> Result<UpstreamConn, Failure> {
    let Io { req, rec } = io;
    let (body_done, length_left) = body;
    let replayable = body_done && req.idempotent;
    let mut retried = false;
    loop {
        let watch = Stopwatch::start();
        let mut conn = match w.pool.take(peer) {
            Some(c) => c,
            None => {
                let limit = w.settings.connect_timeout.min(timeout);
                let c = connect(&w.resolver, peer, limit).await;
                c.inspect_err(|_| watch.add_to(&mut rec.backend))?
            }
        };
        let reused = conn.reused;
        let (sent, back) = write_from(&mut conn.io, std::mem::take(out), 0, timeout).await;
        *out = back;
        // Phases A to C are backend time, less phase B (which accounts for itself): one clock
        // pair for the common body-less request.
        let accounted = rec.backend + rec.client;
        let outcome = match sent {
            Err(IoFailure::Timeout) => Err(Failure::Timeout),
            Err(e) => Err(Failure::Backend(e.to_string())),
            Ok(()) => {
                if !body_done {
                    let body = Body { framing: req.framing, remaining: length_left, deadline: req.body_deadline };
                    stream_request_body(w, client, &mut conn, body, scanner, out, rec).await?;
                }
                read_response_head(&mut conn, ubuf, rh, req.is_head, timeout).await
            }
        };
        let mut phases = Duration::ZERO;
        watch.add_to(&mut phases);
        rec.backend += phases.saturating_sub(rec.backend + rec.client - accounted);
        match outcome {
            Ok(()) => return Ok(conn),
            Err(Failure::Backend(_)) if reused && replayable && !retried && ubuf.is_empty() => {
                retried = true; // the backend closed a kept-alive connection under us: once more, fresh
                continue;
            }
            Err(f) => return Err(f),
        }
    }
}

/// Phase B: the part of the request body that was not in the first read, client → backend.
async fn stream_request_body<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    conn: &mut UpstreamConn,
    body: Body,
    scanner: &mut ChunkedScanner,
    relay: &mut Vec<u8>,
    rec: &mut Record,
) -> Result<(), Failure> {
    let idle = w.settings.idle_timeout;
    let Body { framing, mut remaining, deadline } = body;
    // `client.buf` is empty here: every buffered byte so far belonged to this body.
    relay.clear();
    loop {
        let max = match framing {
            Framing::Length(_) if remaining == 0 => return Ok(()),
            Framing::Length(_) => (remaining as usize).min(BUF_SIZE),
            _ => BUF_SIZE,
        };
        relay.clear();
        if relay.capacity() < BUF_SIZE {
            relay.reserve(BUF_SIZE);
        }
        // The whole body has one deadline: a slow drip cannot hold the backend connection.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::BodyTimeout);
        }
        let watch = Stopwatch::start();
        let n = read_more(&mut client.io, relay, max, left.min(idle)).await;
        watch.add_to(&mut rec.client);
        let n = match n {
            Ok(n) => n,
            Err(IoFailure::Timeout) if Instant::now() >= deadline => return Err(Failure::BodyTimeout),
            Err(_) => return Err(Failure::Client),
        };
        match framing {
            Framing::Chunked => {
                let used = scanner.scan(relay, |_| {}).map_err(|e| Failure::BadBody(e.0))?;
                if over_limit(w, scanner) {
                    return Err(Failure::TooLarge);
                }
                // Bytes after the body's end are the client's next request.
                client.buf.extend_from_slice(&relay[used..]);
                relay.truncate(scanner.forwardable(used));
                if scanner.is_done() {
                    relay.extend_from_slice(ChunkedScanner::END);
                }
            }
            _ => remaining -= n as u64,
        }
        let watch = Stopwatch::start();
        let (r, back) = write_from(&mut conn.io, std::mem::take(relay), 0, idle).await;
        watch.add_to(&mut rec.backend);
        *relay = back;
        r.map_err(|e| Failure::Backend(e.to_string()))?;
        if framing == Framing::Chunked && scanner.is_done() {
            return Ok(());
        }
    }
}

/// Phase C: read until a complete final (non-1xx) response head is in `ubuf`.
async fn read_response_head(
    conn: &mut UpstreamConn,
    ubuf: &mut Vec<u8>,
    rh: &mut ResponseHead,
    request_was_head: bool,
    timeout: Duration,
) -> Result<(), Failure> {
    ubuf.clear();
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let wait = deadline.saturating_duration_since(std::time::Instant::now());
        match read_more(&mut conn.io, ubuf, MAX_RESPONSE_HEAD + FIRST_CHUNK_LINE, wait).await {
            Ok(_) => {}
            Err(IoFailure::Timeout) => return Err(Failure::Timeout),
            Err(e) => return Err(Failure::Backend(e.to_string())),
        }
        loop {
            match rh.parse(ubuf, request_was_head) {
                Ok(Some(())) if (100..200).contains(&rh.status) && rh.status != 101 => {
                    ubuf.drain(..rh.len); // interim responses (100, 103) are not relayed
                    if ubuf.is_empty() {
                        break;
                    }
                }
                Ok(Some(())) if rh.status == 101 => return Err(Failure::Backend("unexpected protocol switch".into())),
                Ok(Some(())) if rh.framing != Framing::Chunked => return Ok(()),
                Ok(Some(())) => {
                    // The head is relayed only once the first chunk size is known good: a
                    // malformed one is a 502 now, not a truncated relay later.
                    let mut probe = ChunkedScanner::default();
                    match probe.scan(&ubuf[rh.len..], |_| {}) {
                        Err(e) => return Err(Failure::Backend(e.to_string())),
                        Ok(_) if probe.sized() => return Ok(()),
                        Ok(_) if ubuf.len() >= MAX_RESPONSE_HEAD + FIRST_CHUNK_LINE => {
                            return Err(Failure::Backend("first chunk size line too long".into()))
                        }
                        Ok(_) => break,
                    }
                }
                Ok(None) if ubuf.len() >= MAX_RESPONSE_HEAD => {
                    return Err(Failure::Backend("response head too large".into()))
                }
                Ok(None) => break,
                Err(e) => return Err(Failure::Backend(e.to_string())),
            }
        }
    }
}

/// Phase D: response head and body to the client; the backend connection goes back to the pool
/// when the response ended cleanly and the backend did not ask to close.
#[allow(clippy::too_many_arguments)]
pub(super) async fn relay_response<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    io: Io<'_>,
    mut conn: UpstreamConn,
    peer: &Peer<'_>,
    rh: &ResponseHead,
    ubuf: &mut Vec<u8>,
    edits: Option<&ResponseEdits>,
) -> bool {
    let Io { req, rec } = io;
    let idle = w.settings.idle_timeout;
    let framing = client_framing(rh, req.minor);
    let keep_alive = framing != ClientFraming::Close && !req.close && !w.draining.get();
    let mut out = w.buffers.take();
    let shape = ResponseShape { framing, keep_alive, client_minor: req.minor, request_was_head: req.is_head };
    if let Err(e) = response_head_with(&mut out, rh, ubuf, &shape, &rec.id, edits) {
        // Nothing was sent yet: the client gets a gateway error, the backend connection (its
        // body unread) is dropped. A policy's value is the gateway's fault (500), else the
        // backend's (502).
        let (status, message) = match edits {
            Some(_) => (500, "A policy produced a value that cannot be sent in the response head"),
            None => (502, "Backend service unavailable"),
        };
        rec.status = status;
        rec.error(if edits.is_some() { "outbound" } else { "forward-request" }, e.log_reason());
        out.clear();
        error_response(&mut out, status, message, true, req.is_head);
        let (_, out) = to_client(&mut client.io, out, idle, rec).await;
        w.buffers.put(out);
        return false;
    }
    let mut scanner = ChunkedScanner::default();
    let body = &ubuf[rh.len..];
    let mut remaining: u64 = 0;
    let mut stray = false;
    let mut done = match framing {
        ClientFraming::None => {
            stray = !body.is_empty();
            true
        }
        ClientFraming::Length(n) => {
            let take = (body.len() as u64).min(n) as usize;
            out.extend_from_slice(&body[..take]);
            stray = body.len() > take;
            remaining = n - take as u64;
            remaining == 0
        }
        ClientFraming::Chunked => match scanner.scan(body, |_| {}) {
            Ok(used) => {
                out.extend_from_slice(&body[..used]);
                stray = used < body.len();
                scanner.is_done()
            }
            Err(_) => return false,
        },
        ClientFraming::Close if rh.framing == Framing::Chunked => {
            let r = scanner.scan(body, |d| out.extend_from_slice(d));
            if r.is_err() {
                return false;
            }
            scanner.is_done()
        }
        ClientFraming::Close => {
            out.extend_from_slice(body);
            false
        }
    };
    let (sent, back) = to_client(&mut client.io, out, idle, rec).await;
    out = back;
    if !sent {
        w.buffers.put(out);
        return false;
    }
    while !done {
        let max = match framing {
            ClientFraming::Length(_) => (remaining as usize).min(BUF_SIZE),
            _ => BUF_SIZE,
        };
        ubuf.clear();
        let watch = Stopwatch::start();
        let read = read_more(&mut conn.io, ubuf, max, idle).await;
        watch.add_to(&mut rec.backend);
        match read {
            Ok(_) => {}
            Err(IoFailure::Closed) if framing == ClientFraming::Close && rh.framing == Framing::UntilClose => {
                done = true;
                break;
            }
            Err(_) => {
                w.buffers.put(out);
                return false; // truncated: the client must see the connection end, not a short body
            }
        }
        out.clear();
        match framing {
            ClientFraming::Length(_) => {
                remaining -= ubuf.len() as u64;
                done = remaining == 0;
                std::mem::swap(&mut out, ubuf);
            }
            ClientFraming::Chunked => match scanner.scan(ubuf, |_| {}) {
                Ok(used) => {
                    stray |= used < ubuf.len();
                    ubuf.truncate(used);
                    done = scanner.is_done();
                    std::mem::swap(&mut out, ubuf);
                }
                Err(_) => {
                    w.buffers.put(out);
                    return false;
                }
            },
            ClientFraming::Close if rh.framing == Framing::Chunked => {
                if scanner.scan(ubuf, |d| out.extend_from_slice(d)).is_err() {
                    w.buffers.put(out);
                    return false;
                }
                done = scanner.is_done();
            }
            _ => std::mem::swap(&mut out, ubuf),
        }
        let (sent, back) = to_client(&mut client.io, out, idle, rec).await;
        out = back;
        if !sent {
            w.buffers.put(out);
            return false;
        }
    }
    w.buffers.put(out);
    if done && !rh.close && !stray {
        w.pool.put(peer, conn);
    }
    keep_alive
}

/// Writes `out` to the client, counting its bytes and the client time; the buffer comes back.
pub(super) async fn to_client<S: AsyncWriteRent>(
    io: &mut S,
    out: Vec<u8>,
    idle: Duration,
    rec: &mut Record,
) -> (bool, Vec<u8>) {
    rec.response_bytes += out.len() as u64;
    let watch = Stopwatch::start();
    let (r, back) = write_from(io, out, 0, idle).await;
    watch.add_to(&mut rec.client);
    (r.is_ok(), back)
}

//! One call to a backend, for either plan kind: pick the target, write the request head (with a
//! policy's edits when there are any), send the body (the bytes in hand, then the rest streamed
//! from the client), read the response head. Full duplex: while the body is still streaming,
//! the response head is already being read, so a backend that answers early (401, 413) is
//! relayed at once; the unread rest of the body is then dropped (bounded) and the client
//! connection closed, as RFC 9112 §9.6 allows.
//!
//! A reused pooled connection that fails before any response byte is retried once on a fresh
//! connection, only for idempotent requests whose body (if any) was wholly in hand.

use std::borrow::Cow;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::body::Body;
use super::context::{Buf, Core, BUF_SIZE};
use super::exchange::{Exchange, ReqBody};
use super::failure::Failure;
use super::h1::head::{backend_url, request_head_with, Rewrite, Upstream};
use super::io::{read_more, write_from, IoFailure};
use super::seam::ClientSide;
use super::upstream::connect::connect;
use super::upstream::split::split;
use super::upstream::{Peer, UpstreamConn};
use crate::config::{ApiType, BackendUrl, Credentials};
use crate::http::chunked::ChunkedScanner;
use crate::http::response::ResponseHead;
use crate::http::Framing;
use crate::policy::{BackendTarget, RequestEdits};
use crate::snapshot::Snapshot;
use crate::telemetry::record::Stopwatch;
use crate::telemetry::Record;
use crate::tls::client::ClientTls;

/// The most a backend's response head may take.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Room for the first chunk-size line (with extensions) read with the head.
const FIRST_CHUNK_LINE: usize = 4096 + 32;
/// A read of the response head while the request body still streams waits on the body's own
/// deadlines, not its own.
const UNBOUNDED: Duration = Duration::from_secs(24 * 3600);

/// Where a call goes and how.
pub struct Target<'s> {
    pub url: Cow<'s, BackendUrl>,
    pub credentials: Option<&'s Credentials>,
    pub tls: &'s ClientTls,
}

/// Where the call goes: `set-backend-service` or the API's `serviceUrl`; with TLS from the
/// backend entity or the certificate `authentication-certificate` presents.
pub fn resolve_target<'s>(
    snap: &'s Snapshot,
    api_url: Option<&'s BackendUrl>,
    edits: Option<&RequestEdits>,
) -> Result<Target<'s>, Failure> {
    let missing = Failure::Config;
    let tls_all = &snap.backend_tls;
    let mut t = match edits.and_then(|e| e.backend.as_ref()) {
        Some(BackendTarget::Url(u)) => Target { url: Cow::Owned(u.clone()), credentials: None, tls: &tls_all.default },
        Some(BackendTarget::BackendId(id)) => {
            let i = snap
                .doc
                .backends
                .iter()
                .position(|b| b.id == *id)
                .ok_or_else(|| missing("The backend named by set-backend-service is unknown"))?;
            let b = &snap.doc.backends[i];
            let url = b.url.as_ref().ok_or_else(|| missing("The backend has no url"))?;
            let creds = (!b.credentials.header.is_empty() || !b.credentials.query.is_empty()).then_some(&b.credentials);
            let tls = tls_all.backends.get(i).and_then(Option::as_ref).unwrap_or(&tls_all.default);
            Target { url: Cow::Borrowed(url), credentials: creds, tls }
        }
        None => {
            let url = api_url.ok_or_else(|| missing("No backend service is configured for this API"))?;
            Target { url: Cow::Borrowed(url), credentials: None, tls: &tls_all.default }
        }
    };
    if let Some(id) = edits.and_then(|e| e.client_certificate.as_deref()) {
        t.tls = tls_all
            .certificates
            .get(id)
            .ok_or_else(|| missing("authentication-certificate names a certificate without a private key"))?;
    }
    Ok(t)
}

/// What one call needs besides the exchange.
pub struct Call<'a, 's> {
    pub target: Target<'s>,
    pub timeout: Duration,
    /// A policy's edits (`None` on the pass-through plan).
    pub edits: Option<&'a RequestEdits>,
    /// The plan reads the response body: read it whole (at most this much) before outbound.
    pub read_response: Option<u64>,
    /// The buffering cap for a body a replacement makes the gateway read first.
    pub cap: u64,
}

/// The backend's answer.
pub struct Answer<'s> {
    /// The connection, while the body is still to be relayed (`None` once read whole).
    pub conn: Option<UpstreamConn>,
    pub head: ResponseHead,
    /// The head bytes and whatever body bytes came with them.
    pub ubuf: Vec<u8>,
    pub target: Cow<'s, BackendUrl>,
    pub tls: &'s ClientTls,
    /// The whole body, when the plan reads it.
    pub body: Option<Arc<[u8]>>,
    /// The request was sent whole: the connection may go back to the pool after the response.
    pub reusable: bool,
}

impl Answer<'_> {
    pub fn peer(&self) -> Peer<'_> {
        Peer { scheme: self.target.scheme, host: &self.target.host, port: self.target.port, tls: self.tls }
    }
}

pub async fn call<'s, C: ClientSide>(x: &mut Exchange<'s, C>, call: Call<'_, 's>) -> Result<Answer<'s>, Failure> {
    let Call { target, timeout, edits, read_response, cap } = call;
    // A replaced body, when the original is still unread, is read and dropped first.
    if edits.is_some_and(|e| e.body.is_some()) && matches!(x.body, ReqBody::Pending(_)) {
        x.buffer_body(cap).await?;
    }
    let whole: Option<&[u8]> = match (edits.and_then(|e| e.body.as_deref()), &x.body) {
        (Some(b), _) => Some(b),
        (None, ReqBody::Buffered(b)) => Some(b),
        (None, ReqBody::None | ReqBody::Pending(_)) => None,
        (None, ReqBody::Sent { .. }) => {
            return Err(Failure::Backend("the request body was streamed and cannot be sent again".into()))
        }
    };
    let (Some(api), Some(route)) = (x.api(), x.route) else { return Err(Failure::ApiNotFound) };
    let rest = x.head.path.get(x.head_bytes).get(route.rest_start..).unwrap_or(b"");
    // Admission let a handshake through only for a WebSocket API.
    let upgrade = api.kind == ApiType::WebSocket && x.head.websocket;
    let up = Upstream {
        backend: &target.url,
        rest,
        key_header: &api.key_header,
        key_query: api.key_query.as_bytes(),
        client_ip: x.client.peer_ip(),
        scheme: x.client.scheme(),
        upgrade,
    };
    let rewrite = match (edits, target.credentials) {
        (None, None) => None,
        (edits, credentials) => {
            Some(Rewrite { edits: edits.unwrap_or(&NO_EDITS), body_len: whole.map(|b| b.len() as u64), credentials })
        }
    };
    let mut out = x.core.buf();
    request_head_with(&mut out, x.head, x.head_bytes, &up, &x.rec.trace, rewrite.as_ref())?;
    if x.core.recorder.log_enabled() {
        x.rec.backend_url = Some(backend_url(&out, &target.url));
    }
    let mut streaming = None;
    match whole {
        Some(b) => out.extend_from_slice(b),
        None => {
            if let ReqBody::Pending(b) = &mut x.body {
                let mut b = b.clone();
                x.client.body_in_hand(&mut b, &mut out)?;
                streaming = Some(b);
                x.body = ReqBody::Sent { ended: false };
            }
        }
    }
    if let Some(b) = &streaming {
        if !b.is_done() {
            x.body = ReqBody::Pending(b.clone());
            let r = x.continue_if_expected().await;
            x.body = ReqBody::Sent { ended: false };
            r?;
        }
    }
    // The request as sent: a policy may have changed its method.
    let method = edits.and_then(|e| e.method.as_deref()).unwrap_or_else(|| text(x.head.method.get(x.head_bytes)));
    let sent_head = method == "HEAD";
    let idempotent = matches!(method, "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE");
    let peer = Peer { scheme: target.url.scheme, host: &target.url.host, port: target.url.port, tls: target.tls };
    let mut ubuf = x.core.buf();
    let mut rh = ResponseHead::default();
    let mut send = Send { out: &mut out, body: streaming, sent_head, idempotent, timeout, upgrade };
    let result = exchange(x, &peer, &mut send, &mut ubuf, &mut rh).await;
    let ended = send.body.as_ref().is_none_or(Body::is_done);
    if let Some(b) = &send.body {
        x.rec.request_bytes += b.received();
        x.body = ReqBody::Sent { ended };
    }
    let mut conn = result?;
    let ubuf = ubuf.lend();
    let (body, conn) = match read_response {
        // A switched protocol has no body: the connection is the tunnel's.
        Some(cap) if rh.status != 101 => {
            let body = read_response_body(x.core, &mut conn, &rh, &ubuf, cap, x.rec).await?;
            if !rh.close && ended {
                x.core.pool.put(&peer, conn);
            }
            (Some(body), None)
        }
        _ => (None, Some(conn)),
    };
    let Target { url, tls, .. } = target;
    Ok(match body {
        Some(body) => {
            let mut head_only = ubuf;
            head_only.truncate(rh.len);
            Answer { conn: None, head: rh, ubuf: head_only, target: url, tls, body: Some(body.into()), reusable: ended }
        }
        None => Answer { conn, head: rh, ubuf, target: url, tls, body: None, reusable: ended },
    })
}

static NO_EDITS: std::sync::LazyLock<RequestEdits> = std::sync::LazyLock::new(RequestEdits::default);

fn text(b: &[u8]) -> &str {
    // httparse yields ASCII spans for the method.
    std::str::from_utf8(b).unwrap_or("")
}

/// What is sent: the head and the body bytes in hand, then the streamed rest.
struct Send<'o, 'b> {
    out: &'o mut Buf<'b>,
    /// The client's body while it streams (`None`: nothing more to read from the client).
    body: Option<Body>,
    sent_head: bool,
    idempotent: bool,
    timeout: Duration,
    /// A WebSocket handshake: `101 Switching Protocols` is the answer hoped for.
    upgrade: bool,
}

impl Send<'_, '_> {
    fn expect(&self) -> Expect {
        Expect { request_was_head: self.sent_head, upgrade: self.upgrade }
    }
}

/// What the request allows of the response head.
#[derive(Clone, Copy)]
struct Expect {
    /// A response to HEAD has no body, whatever its head says.
    request_was_head: bool,
    /// `101 Switching Protocols` is the WebSocket handshake's answer, and no other request's.
    upgrade: bool,
}

/// Connect (or reuse), send, read the response head, with the single retry. On success the
/// response head is parsed in `rh`, its bytes (and any body bytes after it) are in `ubuf`.
async fn exchange<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    peer: &Peer<'_>,
    send: &mut Send<'_, '_>,
    ubuf: &mut Buf<'_>,
    rh: &mut ResponseHead,
) -> Result<UpstreamConn, Failure> {
    let core = x.core;
    let streams = send.body.as_ref().is_some_and(|b| !b.is_done());
    let replayable = !streams && send.idempotent;
    let mut retried = false;
    loop {
        let watch = Stopwatch::start();
        let mut conn = match core.pool.take(peer) {
            Some(c) => c,
            None => {
                let limit = core.settings.connect_timeout.min(send.timeout);
                let c = connect(&core.resolver, peer, limit).await;
                c.inspect_err(|_| watch.add_to(&mut x.rec.backend))?
            }
        };
        let reused = conn.reused;
        let (sent, back) = write_from(&mut conn.io, send.out.lend(), 0, send.timeout).await;
        send.out.restore(back);
        // Backend time, less the streamed body's (which accounts for itself): one clock pair
        // for the common body-less request.
        let accounted = x.rec.backend + x.rec.client;
        let outcome = match sent {
            Err(IoFailure::Timeout) => Err(Failure::Timeout),
            Err(e) => Err(Failure::Backend(e.to_string())),
            Ok(()) if streams => full_duplex(x, &mut conn, send, ubuf, rh).await,
            Ok(()) => read_response_head(&mut conn.io, ubuf, rh, send.expect(), send.timeout).await,
        };
        let mut phases = Duration::ZERO;
        watch.add_to(&mut phases);
        x.rec.backend += phases.saturating_sub(x.rec.backend + x.rec.client - accounted);
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

/// The rest of the request body client → backend while the response head is read. The head
/// first: the body stops (the caller closes the client connection after the answer). The body
/// first: then the head, within the call's timeout.
async fn full_duplex<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    conn: &mut UpstreamConn,
    send: &mut Send<'_, '_>,
    ubuf: &mut Vec<u8>,
    rh: &mut ResponseHead,
) -> Result<(), Failure> {
    let (mut rd, mut wr) = split(&mut conn.io);
    let expect = send.expect();
    let Some(body) = send.body.as_mut() else { return Ok(()) };
    let relay = &mut **send.out;
    let mut head = pin!(read_response_head(&mut rd, ubuf, rh, expect, UNBOUNDED));
    let pumped = {
        let mut pump = pin!(pump(x.core, &mut *x.client, &mut wr, body, relay, &x.req, x.rec));
        monoio::select! {
            r = &mut pump => Some(r),
            r = &mut head => return r,
        }
    };
    match pumped {
        // The backend stopped reading (it answered and closed, most likely): its answer, if it
        // sent one, is what the client gets.
        Some(Err(Failure::Backend(why))) => match monoio::time::timeout(send.timeout, head).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Failure::Backend(why)),
        },
        Some(Err(f)) => Err(f),
        _ => match monoio::time::timeout(send.timeout, head).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        },
    }
}

/// Reads the rest of the body from the client and writes it to the backend, one relay buffer at
/// a time; bytes after the body's end stay with the client side (the next request).
async fn pump<C: ClientSide, W: AsyncWriteRent>(
    core: &Core,
    client: &mut C,
    backend: &mut W,
    body: &mut Body,
    relay: &mut Vec<u8>,
    req: &super::request::Req,
    rec: &mut Record,
) -> Result<(), Failure> {
    let idle = core.settings.idle_timeout;
    while !body.is_done() {
        let watch = Stopwatch::start();
        let chunk = client.read_body(body, relay, req, idle).await;
        watch.add_to(&mut rec.client);
        chunk?;
        let watch = Stopwatch::start();
        let (r, back) = write_from(backend, std::mem::take(relay), 0, idle).await;
        watch.add_to(&mut rec.backend);
        *relay = back;
        r.map_err(|e| Failure::Backend(e.to_string()))?;
    }
    Ok(())
}

/// Reads until a complete final (non-1xx) response head is in `ubuf`.
async fn read_response_head<R: AsyncReadRent>(
    io: &mut R,
    ubuf: &mut Vec<u8>,
    rh: &mut ResponseHead,
    expect: Expect,
    timeout: Duration,
) -> Result<(), Failure> {
    ubuf.clear();
    let deadline = Instant::now() + timeout;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match read_more(io, ubuf, MAX_RESPONSE_HEAD + FIRST_CHUNK_LINE, wait).await {
            Ok(_) => {}
            Err(IoFailure::Timeout) => return Err(Failure::Timeout),
            Err(e) => return Err(Failure::Backend(e.to_string())),
        }
        loop {
            match rh.parse(ubuf, expect.request_was_head) {
                Ok(Some(())) if (100..200).contains(&rh.status) && rh.status != 101 => {
                    ubuf.drain(..rh.len); // interim responses (100, 103) are not relayed
                    if ubuf.is_empty() {
                        break;
                    }
                }
                Ok(Some(())) if rh.status == 101 && expect.upgrade => return Ok(()),
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

/// Reads a whole response body (chunked decoded) after its head in `ubuf`, at most `cap` bytes.
pub async fn read_response_body(
    core: &Core,
    conn: &mut UpstreamConn,
    rh: &ResponseHead,
    ubuf: &[u8],
    cap: u64,
    rec: &mut Record,
) -> Result<Vec<u8>, Failure> {
    let idle = core.settings.idle_timeout;
    let mut body = Vec::new();
    let mut scanner = ChunkedScanner::default();
    let mut pending: Vec<u8> = ubuf[rh.len..].to_vec();
    if let Framing::Length(n) = rh.framing {
        if n > cap {
            return Err(Failure::Backend("response body over the buffering limit".into()));
        }
    }
    let started = std::time::Instant::now();
    let result = loop {
        match rh.framing {
            Framing::None => break Ok(body),
            Framing::Length(n) => {
                let take = (pending.len() as u64).min(n - body.len() as u64) as usize;
                body.extend_from_slice(&pending[..take]);
                pending.clear();
                if body.len() as u64 == n {
                    break Ok(body);
                }
            }
            Framing::Chunked => {
                let used = match scanner.scan(&pending, |d| body.extend_from_slice(d)) {
                    Ok(u) => u,
                    Err(e) => break Err(Failure::Backend(e.0.to_string())),
                };
                pending.drain(..used);
                if scanner.is_done() {
                    break Ok(body);
                }
            }
            Framing::UntilClose => {
                body.extend_from_slice(&pending);
                pending.clear();
            }
        }
        if body.len() as u64 > cap {
            break Err(Failure::Backend("response body over the buffering limit".into()));
        }
        match read_more(&mut conn.io, &mut pending, BUF_SIZE, idle).await {
            Ok(_) => {}
            Err(IoFailure::Closed) if rh.framing == Framing::UntilClose => break Ok(body),
            Err(e) => break Err(Failure::Backend(e.to_string())),
        }
    };
    rec.backend += started.elapsed();
    result
}

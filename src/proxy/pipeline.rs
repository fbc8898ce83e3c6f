//! The request path for operations with policies: runs the compiled plan's sections around the
//! backend exchange. Plans that only forward never come here (see `conn::handle`).
//!
//! ```text
//! inbound ──► backend (forward-request → exchange) ──► outbound ──► response (edits applied)
//!    └───────────── any error ─────────► on-error ──► return-response | shaped JSON error
//! ```
//!
//! Bodies stay streamed unless the plan needs them: a request body is read whole only when a
//! policy reads or replaces it or a retry may re-send it; a response body only when a policy
//! reads it. Buffering is capped by `net.server.limits.body-bytes` (413 above it).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::context::{Core, BUF_SIZE};
use super::exchange::{admit, exchange, fail_early, relay_response, to_client, Failure, Io, Req};
use super::gate::{query_param, KeySource, Route};
use super::h1::conn::Client;
use super::h1::head::{backend_url, request_head_with, Rewrite, Upstream};
use super::io::{read_more, write_from};
use super::upstream::{Peer, UpstreamConn};
use super::views::{request_info, response_header, BackendHead, HeadView, InfoText};
use crate::config::{BackendUrl, Credentials};
use crate::http::chunked::ChunkedScanner;
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::wire::Head;
use crate::http::write::reason;
use crate::http::Framing;
use crate::policy::plan::StepKind;
use crate::policy::RequestView as _;
use crate::policy::{
    BackendTarget, Flow, ForwardRequest, LastError, Plan, PolicyContext, Response, ResponseState, Run, Section,
};
use crate::snapshot::Snapshot;
use crate::telemetry::Record;
use crate::tls::client::ClientTls;

/// The buffering cap when `net.server.limits.body-bytes` is unlimited: a policy that reads a
/// body must not let one request take the node's memory.
const MAX_BUFFERED_BODY: u64 = 64 * 1024 * 1024;

/// Where the request body is.
enum ReqBody {
    /// No body.
    None,
    /// Still in the client stream (at the front of `client.buf`): streamed by the first forward.
    Pending,
    /// Streamed to a backend already: cannot be sent again.
    Sent,
    /// Read whole (a policy needs it, or a retry may re-send it).
    Buffered(Arc<[u8]>),
}

/// The backend's answer while policies look at it.
struct Answer<'s> {
    conn: Option<UpstreamConn>,
    head: ResponseHead,
    /// The head bytes and whatever body bytes came with them.
    ubuf: Vec<u8>,
    target: Cow<'s, BackendUrl>,
    tls: &'s ClientTls,
    /// The whole body, when the plan reads it (the connection is then done with).
    body: Option<Arc<[u8]>>,
}

/// How the request ends.
enum End {
    /// Send the backend's answer with the outbound edits.
    Backend,
    /// Send a response the gateway made.
    Respond(Response),
    /// The client went away: nothing to send.
    Gone,
}

pub async fn run<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    snap: &Snapshot,
    route: Route,
    plan: &Plan,
    rec: &mut Record,
) -> bool {
    let api = &snap.doc.apis[route.api as usize];
    let req = match admit(w, client, head, api, &route, rec).await {
        Ok(req) => req,
        Err(keep) => return keep,
    };
    let cap = w.settings.body_bytes.unwrap_or(MAX_BUFFERED_BODY);

    // Policies read the head while the connection buffer moves on: keep a copy (policy path only).
    let head_bytes: Vec<u8> = client.buf[..head.len].to_vec();
    client.buf.drain(..head.len);
    let mut body = match req.framing {
        Framing::Length(_) | Framing::Chunked if buffers_request_body(plan) => {
            match read_body(w, client, head, &req, cap, rec).await {
                Ok(b) => ReqBody::Buffered(b.into()),
                Err(status) => return body_failed(w, client, &req, rec, status).await,
            }
        }
        Framing::Length(_) | Framing::Chunked => ReqBody::Pending,
        Framing::None | Framing::UntilClose => ReqBody::None,
    };

    let key = match route.key {
        KeySource::Header => head.header(&head_bytes, &api.key_header),
        KeySource::Query => query_param(head.query.get(&head_bytes), api.key_query.as_bytes()),
        KeySource::None => None,
    };
    let texts = InfoText {
        request_id: rec.id.to_text(),
        timestamp: {
            // Formatted once per second per worker (the access log's clock).
            let mut t = Vec::with_capacity(20);
            crate::telemetry::logfmt::push_time(&mut t, std::time::Instant::now());
            String::from_utf8(t).unwrap_or_default()
        },
    };
    let view = HeadView { head, buf: &head_bytes, scheme: client.scheme };
    let info = request_info(snap, &route, key.and_then(|k| std::str::from_utf8(k).ok()), client.peer.ip(), &texts);
    let mut ctx = PolicyContext::new(&view, info);
    ctx.limits = Some(&w.node.limits);
    ctx.started = rec.start;
    ctx.client_chain = client.tls.as_ref().and_then(|t| t.client_chain.clone());
    ctx.client_trust = Some(&snap.client_trust);
    let rest = view.path().get(route.rest_start..).unwrap_or("");
    ctx.matched = snap
        .doc
        .policy_plans
        .matched_parameters(route.api, route.operation, rest)
        .into_iter()
        .map(|(n, v)| (n, Cow::Owned(percent_decode(v))))
        .collect();
    if let ReqBody::Buffered(b) = &body {
        ctx.request_body = Some(b.clone());
    }

    let mut answer: Option<Answer<'_>> = None;
    let mut section = Section::Inbound;
    let mut run = Run::new(plan, section, &ctx);
    let end = loop {
        match run.next(plan, &mut ctx) {
            Flow::Done => match section {
                Section::Inbound => {
                    section = Section::Backend;
                    run = Run::new(plan, section, &ctx);
                }
                Section::Backend => {
                    if ctx.response.is_none() {
                        ctx.response = Some(ResponseState { backend: None, body: None });
                    }
                    section = Section::Outbound;
                    run = Run::new(plan, section, &ctx);
                }
                Section::Outbound => break End::Backend,
                Section::OnError => {
                    let e = ctx.last_error.clone().unwrap_or_default();
                    break End::Respond(ctx.error_response(&e));
                }
            },
            Flow::Respond(r) => break End::Respond(r),
            Flow::Wait(d) => monoio::time::sleep(d).await,
            Flow::Error(e) => {
                record_error(rec, &e);
                if section == Section::OnError {
                    break End::Respond(e.default_response());
                }
                if ctx.response.is_none() {
                    ctx.response = Some(ResponseState { backend: None, body: None });
                }
                ctx.last_error = Some(e);
                section = Section::OnError;
                run = Run::new(plan, section, &ctx);
            }
            Flow::Forward(opts) => {
                answer = None; // a retried call drops the previous answer's connection
                let timeout = if opts.timeout_set { opts.timeout } else { snap.forward_timeout };
                let read_response = plan.needs_response_body();
                let call =
                    Call { snap, api_url: api.service_url.as_ref(), opts, timeout, cap, req: &req, read_response };
                let saved = opts.follow_redirects.then(|| ctx.request_edits.clone());
                let mut hops = 0;
                let result = loop {
                    let r = call_backend(w, client, head, &head_bytes, &call, &mut body, &ctx, &route, rec).await;
                    let next = match &r {
                        Ok(a) if opts.follow_redirects && hops < MAX_REDIRECTS => redirect(a, &ctx, &body),
                        _ => None,
                    };
                    let Some((target, pq, method)) = next else { break r };
                    hops += 1;
                    drop(r);
                    ctx.request_edits.backend = Some(BackendTarget::Url(target));
                    ctx.request_edits.path_and_query = Some(pq);
                    if let Some(m) = method {
                        ctx.request_edits.method = Some(m.into());
                        ctx.request_edits.body = Some(Vec::new());
                    }
                };
                if let Some(edits) = saved {
                    ctx.request_edits = edits;
                }
                match result {
                    Ok(a) => {
                        let status = a.head.status;
                        rec.backend_status = Some(status);
                        let view = BackendHead { head: a.head.clone(), bytes: a.ubuf[..a.head.len].to_vec() };
                        ctx.response = Some(ResponseState { backend: Some(Box::new(view)), body: a.body.clone() });
                        answer = Some(a);
                        if opts.fail_on_error_status_code && status >= 400 {
                            let e = LastError::proxy(
                                "forward-request",
                                "BackendConnectionFailure",
                                "The backend answered with an error status",
                                status,
                            );
                            record_error(rec, &e);
                            ctx.last_error = Some(e);
                            section = Section::OnError;
                            run = Run::new(plan, section, &ctx);
                        }
                    }
                    Err(Failure::Client) => break End::Gone,
                    Err(f) => {
                        let (source, reason) = f.reason();
                        let (status, message) = f.status();
                        rec.error(source, reason);
                        tracing::debug!(worker = w.id, api = %api.id, error = %f, "backend call failed");
                        ctx.response = Some(ResponseState { backend: None, body: None });
                        ctx.last_error = Some(LastError::proxy(source, reason, message, status));
                        section = Section::OnError;
                        run = Run::new(plan, section, &ctx);
                    }
                }
            }
        }
    };

    // The response is final: deferred limit counts now, bandwidth once the bytes are known.
    let charges = ctx.end_limits();
    let keep = match end {
        End::Gone => false,
        End::Respond(r) => {
            drop(answer);
            let keep = skip_unread_body(client, &body, &req);
            let keep = keep && !req.close && !w.draining.get();
            rec.status = r.status;
            let mut out = w.buffers.take();
            write_response(&mut out, &r, !keep, &req, rec);
            let (sent, out) = to_client(&mut client.io, out, w.settings.idle_timeout, rec).await;
            w.buffers.put(out);
            keep && sent
        }
        End::Backend => {
            let edits = std::mem::take(&mut ctx.response_edits);
            drop(ctx);
            let keep = skip_unread_body(client, &body, &req) && !req.close && !w.draining.get();
            match answer {
                Some(a) if edits.body.is_none() && a.body.is_none() => {
                    let Answer { conn, head: rh, mut ubuf, target, tls, .. } = a;
                    let Some(conn) = conn else { return false };
                    rec.status = edits.status.as_ref().map_or(rh.status, |s| s.0);
                    let peer = Peer { scheme: target.scheme, host: &target.host, port: target.port, tls };
                    let io = Io { req: &req, rec };
                    let kept = relay_response(w, client, io, conn, &peer, &rh, &mut ubuf, Some(&edits)).await;
                    w.buffers.put(ubuf);
                    kept && keep
                }
                a => {
                    // The body is in hand (buffered or replaced): one Content-Length response.
                    let (status, reason_text, headers, original) = match &a {
                        Some(a) => {
                            let reason_text = String::from_utf8_lossy(a.head.reason.get(&a.ubuf)).into_owned();
                            (a.head.status, reason_text, kept_headers(&a.head, &a.ubuf, &edits), a.body.clone())
                        }
                        None => (200, "OK".to_string(), Vec::new(), None),
                    };
                    drop(a); // an unread backend body is abandoned with its connection
                    let (status, reason_text) = edits.status.clone().unwrap_or((status, reason_text));
                    let body_bytes = edits.body.clone().unwrap_or_else(|| original.as_deref().unwrap_or(b"").to_vec());
                    let mut r = Response { status, reason: reason_text, headers, body: body_bytes };
                    for (n, v) in &edits.headers.added {
                        r.headers.push((n.to_string(), v.clone()));
                    }
                    rec.status = status;
                    let mut out = w.buffers.take();
                    write_response(&mut out, &r, !keep, &req, rec);
                    let (sent, out) = to_client(&mut client.io, out, w.settings.idle_timeout, rec).await;
                    w.buffers.put(out);
                    keep && sent
                }
            }
        }
    };
    if !charges.is_empty() {
        charges.record(&w.node.limits, rec.request_bytes + rec.response_bytes);
    }
    keep
}

/// The original headers a response keeps after the outbound edits (framing headers excluded).
fn kept_headers(h: &ResponseHead, bytes: &[u8], edits: &crate::policy::ResponseEdits) -> Vec<(String, String)> {
    h.headers
        .iter()
        .enumerate()
        .filter(|(i, _)| h.drop_mask & (1 << i) == 0)
        .map(|(_, s)| (s.name.get(bytes), s.value.get(bytes)))
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"))
        .filter(|(n, _)| !edits.headers.removed.iter().any(|r| n.eq_ignore_ascii_case(r.as_bytes())))
        .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

/// Redirects followed per `forward-request follow-redirects="true"` call.
const MAX_REDIRECTS: u32 = 10;

/// Where a redirect answer sends the request next: target, path and query, and the method
/// change (303, and 301/302 after a non-GET, become a body-less GET). `None` when the answer is
/// not a redirect to follow, or a 307/308 would need a body that was streamed already.
fn redirect(
    a: &Answer<'_>,
    ctx: &PolicyContext<'_>,
    body: &ReqBody,
) -> Option<(BackendUrl, String, Option<&'static str>)> {
    let status = a.head.status;
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let loc = std::str::from_utf8(response_header(&a.head, &a.ubuf, "location")?).ok()?.trim();
    let (target, pq) = if loc.starts_with('/') && !loc.starts_with("//") {
        (BackendUrl { base_path: String::new(), ..a.target.as_ref().clone() }, loc.to_string())
    } else {
        let after = loc.find("://")? + 3;
        let end = loc[after..].find(['/', '?']).map_or(loc.len(), |i| after + i);
        let mut url = crate::config::parse_backend_url(&loc[..end]).ok()?;
        url.base_path.clear();
        let rest = &loc[end..];
        (url, if rest.starts_with('/') { rest.to_string() } else { format!("/{rest}") })
    };
    let method = ctx.method();
    let to_get = status == 303 || (matches!(status, 301 | 302) && !matches!(method, "GET" | "HEAD"));
    if !to_get && matches!(body, ReqBody::Sent) {
        return None;
    }
    Some((target, pq, to_get.then_some(if method == "HEAD" { "HEAD" } else { "GET" })))
}

/// The plan reads or may re-send the request body.
fn buffers_request_body(plan: &Plan) -> bool {
    plan.needs_request_body()
        || Section::ALL.iter().any(|s| {
            plan.steps(*s).iter().any(|step| match &step.kind {
                StepKind::RetryStart { .. } => true,
                StepKind::Op(crate::policy::policies::Op::ForwardRequest(f)) => f.buffer_request_body,
                _ => false,
            })
        })
}

fn record_error(rec: &mut Record, e: &LastError) {
    rec.error(e.source.clone(), e.reason.clone());
}

fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a whole request body from the client (chunked decoded), at most `cap` bytes.
/// `Err(status)`: 413 over the cap (a declared length before any byte is read), 400 malformed,
/// 408 past the body deadline, 0 when the client went away.
async fn read_body<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    req: &Req,
    cap: u64,
    rec: &mut Record,
) -> Result<Vec<u8>, u16> {
    let framing = req.framing;
    if let Framing::Length(n) = framing {
        if n > cap {
            return Err(413);
        }
    }
    let idle = w.settings.idle_timeout;
    if head.expect_continue {
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        if write_from(&mut client.io, cont, 0, idle).await.0.is_err() {
            return Err(0);
        }
    }
    let mut body = Vec::new();
    let mut scanner = ChunkedScanner::default();
    let started = std::time::Instant::now();
    let result = loop {
        match framing {
            Framing::Length(n) => {
                let take = (client.buf.len() as u64).min(n - body.len() as u64) as usize;
                body.extend_from_slice(&client.buf[..take]);
                client.buf.drain(..take);
                if body.len() as u64 == n {
                    break Ok(body);
                }
            }
            _ => {
                let used = match scanner.scan(&client.buf, |d| body.extend_from_slice(d)) {
                    Ok(u) => u,
                    Err(_) => break Err(400),
                };
                client.buf.drain(..used);
                if body.len() as u64 > cap {
                    break Err(413);
                }
                if scanner.is_done() {
                    break Ok(body);
                }
            }
        }
        let Some(wait) = req.body_wait(idle) else { break Err(408) };
        match read_more(&mut client.io, &mut client.buf, BUF_SIZE, wait).await {
            Ok(_) => {}
            Err(super::io::IoFailure::Timeout) if req.body_wait(idle).is_none() => break Err(408),
            Err(_) => break Err(0),
        }
    };
    rec.client += started.elapsed();
    rec.request_bytes += match framing {
        Framing::Chunked => scanner.payload,
        _ => result.as_ref().map_or(0, |b| b.len() as u64),
    };
    result
}

async fn body_failed<S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    req: &Req,
    rec: &mut Record,
    status: u16,
) -> bool {
    match status {
        413 => {
            rec.error("client", "RequestEntityTooLarge");
            fail_early(w, client, req, rec, 413, "Request body too large").await
        }
        400 => {
            rec.error("client", "ClientConnectionFailure");
            fail_early(w, client, req, rec, 400, "Invalid request body").await
        }
        408 => {
            rec.error("client", "RequestBodyTimeout");
            fail_early(w, client, req, rec, 408, "Request body timeout").await
        }
        _ => {
            rec.error("client", "ClientConnectionFailure");
            false
        }
    }
}

/// Whether the connection can carry on after answering without reading the body: only when
/// the body was consumed, or is wholly in the buffer (then it is skipped).
fn skip_unread_body<S>(client: &mut Client<S>, body: &ReqBody, req: &Req) -> bool {
    match body {
        ReqBody::None | ReqBody::Buffered(_) => true,
        ReqBody::Sent => true,
        ReqBody::Pending => match req.framing {
            Framing::Length(n) if client.buf.len() as u64 >= n => {
                client.buf.drain(..n as usize);
                true
            }
            _ => false,
        },
    }
}

/// A complete gateway response with Content-Length (and `x-request-id`), through the checked
/// writer. A value a policy set that cannot go on the wire (CR/LF/NUL in a reason or header,
/// a bad name or status) turns the response into a 500 with APIM's error body, logged as
/// `InvalidHeadValue`, as APIM fails an expression whose value is unusable.
fn write_response(out: &mut Vec<u8>, r: &Response, close: bool, req: &Req, rec: &mut Record) {
    if let Err(e) = write_response_head(out, r, close, req, rec) {
        rec.status = 500;
        rec.error("gateway", e.log_reason());
        let message = "A policy produced a value that cannot be sent in the response head";
        crate::http::write::error_response(out, 500, message, true, req.is_head);
        return;
    }
    let bodiless = r.status == 204 || r.status == 304 || (100..200).contains(&r.status);
    if !req.is_head && !bodiless {
        out.extend_from_slice(&r.body);
    }
}

fn write_response_head(
    out: &mut Vec<u8>,
    r: &Response,
    close: bool,
    req: &Req,
    rec: &Record,
) -> Result<(), crate::http::wire::WireError> {
    let reason_text = if r.reason.is_empty() { reason(r.status) } else { r.reason.as_str() };
    let mut h = Head::status(out, r.status, reason_text.as_bytes());
    for (n, v) in &r.headers {
        if crate::proxy::h1::head::is_framing(n.as_bytes()) {
            continue;
        }
        h.header(n.as_bytes(), v.as_bytes());
    }
    let bodiless = r.status == 204 || r.status == 304 || (100..200).contains(&r.status);
    if !bodiless {
        h.content_length(r.body.len() as u64);
    }
    if close {
        h.header(b"connection", b"close");
    } else if req.minor == 0 {
        h.header(b"connection", b"keep-alive");
    }
    h.gateway_header(b"x-request-id", |o| rec.id.write(o));
    h.finish()
}

/// What one backend call needs besides the connection and the context.
struct Call<'s, 'r> {
    snap: &'s Snapshot,
    api_url: Option<&'s BackendUrl>,
    opts: &'s ForwardRequest,
    timeout: Duration,
    cap: u64,
    req: &'r Req,
    /// The plan reads the response body: read it whole before outbound runs.
    read_response: bool,
}

/// Where a call goes and how.
struct Target<'s> {
    url: Cow<'s, BackendUrl>,
    credentials: Option<&'s Credentials>,
    tls: &'s ClientTls,
}

/// Where the call goes: `set-backend-service` or the API's `serviceUrl`; with TLS from the
/// backend entity or the certificate `authentication-certificate` presents.
fn resolve_target<'s>(
    snap: &'s Snapshot,
    api_url: Option<&'s BackendUrl>,
    ctx: &PolicyContext<'_>,
) -> Result<Target<'s>, Failure> {
    let missing = Failure::Config;
    let tls_all = &snap.backend_tls;
    let mut t = match &ctx.request_edits.backend {
        Some(BackendTarget::Url(u)) => Target { url: Cow::Owned(u.clone()), credentials: None, tls: &tls_all.default },
        Some(BackendTarget::BackendId(id)) => {
            let i = snap
                .doc
                .backends
                .iter()
                .position(|b| b.id == *id)
                .ok_or_else(|| missing("The backend named by set-backend-service is unknown"))?;
            let b = &snap.doc.backends[i];
            let url = b.url.as_ref().ok_or_else(|| missing("Pool backends are not supported yet"))?;
            let creds = (!b.credentials.header.is_empty() || !b.credentials.query.is_empty()).then_some(&b.credentials);
            let tls = tls_all.backends.get(i).and_then(Option::as_ref).unwrap_or(&tls_all.default);
            Target { url: Cow::Borrowed(url), credentials: creds, tls }
        }
        None => {
            let url = api_url.ok_or_else(|| missing("No backend service is configured for this API"))?;
            Target { url: Cow::Borrowed(url), credentials: None, tls: &tls_all.default }
        }
    };
    if let Some(id) = &ctx.request_edits.client_certificate {
        t.tls = tls_all
            .certificates
            .get(&**id)
            .ok_or_else(|| missing("authentication-certificate names a certificate without a private key"))?;
    }
    Ok(t)
}

#[allow(clippy::too_many_arguments)]
async fn call_backend<'s, S: AsyncReadRent + AsyncWriteRent>(
    w: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    head_bytes: &[u8],
    call: &Call<'s, '_>,
    body: &mut ReqBody,
    ctx: &PolicyContext<'_>,
    route: &Route,
    rec: &mut Record,
) -> Result<Answer<'s>, Failure> {
    let Target { url: target, credentials: creds, tls } = resolve_target(call.snap, call.api_url, ctx)?;
    // A replaced body, when the original is still unread, is read and dropped first.
    if ctx.request_edits.body.is_some() && matches!(body, ReqBody::Pending) {
        let b = read_body(w, client, head, call.req, call.cap, rec).await.map_err(|s| match s {
            413 => Failure::TooLarge,
            408 => Failure::BodyTimeout,
            400 => Failure::BadBody("malformed body"),
            _ => Failure::Client,
        })?;
        *body = ReqBody::Buffered(b.into());
    }
    let whole: Option<&[u8]> = match (&ctx.request_edits.body, &*body) {
        (Some(b), _) => Some(b),
        (None, ReqBody::Buffered(b)) => Some(b),
        (None, ReqBody::None) => None,
        (None, ReqBody::Sent) => {
            return Err(Failure::Backend("the request body was streamed and cannot be sent again".into()))
        }
        (None, ReqBody::Pending) => None,
    };
    let api = &call.snap.doc.apis[route.api as usize];
    let rest = head.path.get(head_bytes).get(route.rest_start..).unwrap_or(b"");
    let up = Upstream {
        backend: &target,
        rest,
        key_header: &api.key_header,
        key_query: api.key_query.as_bytes(),
        client_ip: client.peer.ip(),
        scheme: client.scheme,
    };
    let streamed = whole.is_none() && matches!(body, ReqBody::Pending);
    let body_len = whole.map(|b| b.len() as u64);
    let rw = Rewrite { edits: &ctx.request_edits, body_len, credentials: creds };
    let mut out = w.buffers.take();
    if let Err(e) = request_head_with(&mut out, head, head_bytes, &up, &rec.trace, Some(&rw)) {
        w.buffers.put(out);
        return Err(Failure::Wire(e));
    }
    if w.recorder.log_enabled() {
        rec.backend_url = Some(backend_url(&out, &target));
    }
    let mut scanner = ChunkedScanner::default();
    let (body_done, length_left) = match whole {
        Some(b) => {
            out.extend_from_slice(b);
            (true, 0)
        }
        None if !streamed => (true, 0),
        None => {
            *body = ReqBody::Sent;
            match call.req.framing {
                Framing::Length(n) => {
                    let p = (client.buf.len() as u64).min(n) as usize;
                    out.extend_from_slice(&client.buf[..p]);
                    client.buf.drain(..p);
                    (p as u64 == n, n - p as u64)
                }
                _ => {
                    let p = scanner.scan(&client.buf, |_| {}).map_err(|e| Failure::BadBody(e.0))?;
                    out.extend_from_slice(&client.buf[..scanner.forwardable(p)]);
                    if scanner.is_done() {
                        out.extend_from_slice(ChunkedScanner::END);
                    }
                    client.buf.drain(..p);
                    (scanner.is_done(), 0)
                }
            }
        }
    };
    if streamed && head.expect_continue && !body_done {
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        if write_from(&mut client.io, cont, 0, w.settings.idle_timeout).await.0.is_err() {
            w.buffers.put(out);
            return Err(Failure::Client);
        }
    }
    // A body-less or buffered request is replayable on a stale pooled connection; the request
    // as sent is idempotent only when its (possibly rewritten) method is.
    let req = Req {
        is_head: ctx.method() == "HEAD",
        idempotent: matches!(ctx.method(), "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE"),
        minor: call.req.minor,
        close: call.req.close,
        framing: call.req.framing,
        body_deadline: call.req.body_deadline,
    };
    let peer = Peer { scheme: target.scheme, host: &target.host, port: target.port, tls };
    let mut ubuf = w.buffers.take();
    let mut rh = ResponseHead::default();
    let io = Io { req: &req, rec };
    let res = exchange(
        w,
        client,
        &peer,
        io,
        &mut out,
        &mut ubuf,
        &mut rh,
        &mut scanner,
        (body_done, length_left),
        call.timeout,
    )
    .await;
    w.buffers.put(out);
    if streamed && call.req.framing == Framing::Chunked {
        rec.request_bytes = head.len as u64 + scanner.payload;
    } else if let (true, Framing::Length(n)) = (streamed, call.req.framing) {
        rec.request_bytes = head.len as u64 + n;
    }
    let mut conn = match res {
        Ok(c) => c,
        Err(f) => {
            w.buffers.put(ubuf);
            return Err(f);
        }
    };
    if call.opts.buffer_response && call.read_response {
        let b = read_response_body(w, &mut conn, &rh, &ubuf, call.cap, rec).await?;
        if !rh.close {
            w.pool.put(&peer, conn);
        }
        let head_only = ubuf[..rh.len].to_vec();
        ubuf.clear();
        ubuf.extend_from_slice(&head_only);
        return Ok(Answer { conn: None, head: rh, ubuf, target, tls, body: Some(b.into()) });
    }
    Ok(Answer { conn: Some(conn), head: rh, ubuf, target, tls, body: None })
}

/// Reads a whole response body (chunked decoded) after its head in `ubuf`, at most `cap` bytes.
async fn read_response_body(
    w: &Core,
    conn: &mut UpstreamConn,
    rh: &ResponseHead,
    ubuf: &[u8],
    cap: u64,
    rec: &mut Record,
) -> Result<Vec<u8>, Failure> {
    let idle = w.settings.idle_timeout;
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
            Err(super::io::IoFailure::Closed) if rh.framing == Framing::UntilClose => break Ok(body),
            Err(e) => break Err(Failure::Backend(e.to_string())),
        }
    };
    rec.backend += started.elapsed();
    result
}

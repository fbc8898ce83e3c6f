//! The lifecycle's policy phases for a plan that is not the pass-through: inbound, backend
//! (forward-request → one backend call per forward, redirects followed when asked), outbound,
//! on-error; then the answer, the backend's (streamed, with the outbound edits) or one the
//! gateway holds whole.
//!
//! ```text
//! inbound ──► backend (forward-request → backend::call) ──► outbound ──► relay (edits applied)
//!    └───────────── any error ─────────► on-error ──► return-response | shaped JSON error
//! ```
//!
//! Bodies stay streamed unless the plan needs them: a request body is read whole only when a
//! policy reads or replaces it or a retry may re-send it; a response body only when a policy
//! reads it. Buffering is capped by `net.server.limits.body-bytes` (413 above it).

use std::borrow::Cow;

use super::seam::ClientSide;

use super::backend::{self, resolve_target, Answer, Call};
use super::exchange::{Exchange, ReqBody};
use super::failure::Failure;
use super::gate::query_param;
use super::request::KeySource;
use super::views::{request_info, response_header, BackendHead, HeadView, InfoText};
use crate::config::BackendUrl;
use crate::http::response::ResponseHead;
use crate::policy::plan::StepKind;
use crate::policy::RequestView as _;
use crate::policy::{BackendTarget, Flow, LastError, Plan, PolicyContext, Response, ResponseState, Run, Section};
use crate::telemetry::Record;

/// The buffering cap when `net.server.limits.body-bytes` is unlimited: a policy that reads a
/// body must not let one request take the node's memory.
pub const MAX_BUFFERED_BODY: u64 = 64 * 1024 * 1024;

/// Redirects followed per `forward-request follow-redirects="true"` call.
const MAX_REDIRECTS: u32 = 10;

/// How the request ends.
enum End {
    /// Send the backend's answer with the outbound edits.
    Backend,
    /// Send a response the gateway made.
    Respond(Response),
    /// The client went away: nothing to send.
    Gone,
}

/// Runs `plan` around the backend call; whether the client connection carries on.
pub async fn run<C: ClientSide>(x: &mut Exchange<'_, C>, plan: &Plan) -> bool {
    run_from(x, plan, None).await
}

/// Runs `plan`'s on-error for an error the gateway found itself after the API was known (no
/// operation matched, no or a bad subscription key), with `context.LastError` set, as APIM
/// does: a document can shape the answer. Whether the connection carries on.
pub async fn gateway_error<C: ClientSide>(x: &mut Exchange<'_, C>, plan: &Plan, f: &Failure) -> bool {
    let v = f.verdict();
    x.rec.status = v.status;
    x.rec.error(v.source, v.reason);
    let mut e = LastError::proxy(v.source, v.reason, v.message, v.status);
    e.section = "inbound".into();
    run_from(x, plan, Some(e)).await
}

async fn run_from<C: ClientSide>(x: &mut Exchange<'_, C>, plan: &Plan, error: Option<LastError>) -> bool {
    let cap = x.core.settings.body_bytes.unwrap_or(MAX_BUFFERED_BODY);
    if error.is_none() && buffers_request_body(plan) {
        if let Err(f) = x.buffer_body(cap).await {
            return x.fail(&f).await;
        }
    }
    let (head, head_bytes, snap) = (x.head, x.head_bytes, x.snap);
    let (Some(api), Some(route)) = (x.api(), x.route) else { return x.fail(&Failure::ApiNotFound).await };
    let key = match route.key {
        KeySource::Header => head.header(head_bytes, &api.key_header),
        KeySource::Query => query_param(head.query.get(head_bytes), api.key_query.as_bytes()),
        KeySource::None => None,
    };
    let texts = InfoText {
        request_id: x.rec.id.to_text(),
        timestamp: {
            // Formatted once per second per worker (the access log's clock).
            let mut t = Vec::with_capacity(20);
            crate::telemetry::logfmt::push_time(&mut t, std::time::Instant::now());
            String::from_utf8(t).unwrap_or_default()
        },
    };
    let view = HeadView { head, buf: head_bytes, scheme: x.client.scheme() };
    let info = request_info(snap, &route, key.and_then(|k| std::str::from_utf8(k).ok()), x.client.peer_ip(), &texts);
    let mut ctx = PolicyContext::new(&view, info);
    ctx.limits = Some(&x.core.node.limits);
    ctx.started = x.rec.start;
    ctx.client_chain = x.client.client_chain();
    ctx.client_trust = Some(&snap.client_trust);
    let rest = view.path().get(route.rest_start..).unwrap_or("");
    ctx.matched = snap
        .doc
        .policy_plans
        .matched_parameters(route.api, route.operation, rest)
        .into_iter()
        .map(|(n, v)| (n, Cow::Owned(percent_decode(v))))
        .collect();
    if let ReqBody::Buffered(b) = &x.body {
        ctx.request_body = Some(b.clone());
    }
    let first = match error {
        None => Section::Inbound,
        Some(e) => {
            ctx.response = Some(ResponseState { backend: None, body: None });
            ctx.last_error = Some(e);
            Section::OnError
        }
    };
    run_sections(x, plan, &mut ctx, first, cap).await
}

async fn run_sections<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    plan: &Plan,
    ctx: &mut PolicyContext<'_>,
    first: Section,
    cap: u64,
) -> bool {
    let snap = x.snap;
    let Some(api) = x.api() else { return x.fail(&Failure::ApiNotFound).await };
    let mut answer: Option<Answer<'_>> = None;
    let mut section = first;
    let mut run = Run::new(plan, section, ctx);
    let end = loop {
        match run.next(plan, ctx) {
            Flow::Done => match section {
                Section::Inbound => {
                    section = Section::Backend;
                    run = Run::new(plan, section, ctx);
                }
                Section::Backend => {
                    if ctx.response.is_none() {
                        ctx.response = Some(ResponseState { backend: None, body: None });
                    }
                    section = Section::Outbound;
                    run = Run::new(plan, section, ctx);
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
                record_error(x.rec, &e);
                if section == Section::OnError {
                    break End::Respond(e.default_response());
                }
                if ctx.response.is_none() {
                    ctx.response = Some(ResponseState { backend: None, body: None });
                }
                ctx.last_error = Some(e);
                section = Section::OnError;
                run = Run::new(plan, section, ctx);
            }
            Flow::Forward(opts) => {
                answer = None; // a retried call drops the previous answer's connection
                let timeout = if opts.timeout_set { opts.timeout } else { snap.forward_timeout };
                let read_response = (opts.buffer_response && plan.needs_response_body()).then_some(cap);
                let saved = opts.follow_redirects.then(|| ctx.request_edits.clone());
                let mut hops = 0;
                let result = loop {
                    let r = match resolve_target(snap, api.service_url.as_ref(), Some(&ctx.request_edits)) {
                        Ok(target) => {
                            let call = Call { target, timeout, edits: Some(&ctx.request_edits), read_response, cap };
                            backend::call(x, call).await
                        }
                        Err(f) => Err(f),
                    };
                    let next = match &r {
                        Ok(a) if opts.follow_redirects && hops < MAX_REDIRECTS => redirect(a, ctx, &x.body),
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
                        x.rec.backend_status = Some(status);
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
                            record_error(x.rec, &e);
                            ctx.last_error = Some(e);
                            section = Section::OnError;
                            run = Run::new(plan, section, ctx);
                        }
                    }
                    Err(Failure::Client) => break End::Gone,
                    Err(f) => {
                        let v = f.verdict();
                        x.rec.error(v.source, v.reason);
                        tracing::debug!(worker = x.core.id, api = %api.id, error = %f, "backend call failed");
                        ctx.response = Some(ResponseState { backend: None, body: None });
                        ctx.last_error = Some(LastError::proxy(v.source, v.reason, v.message, v.status));
                        section = Section::OnError;
                        run = Run::new(plan, section, ctx);
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
            x.respond(&r).await
        }
        End::Backend => {
            let edits = std::mem::take(&mut ctx.response_edits);
            match answer {
                Some(a) if edits.body.is_none() && a.body.is_none() => {
                    x.rec.status = edits.status.as_ref().map_or(a.head.status, |s| s.0);
                    super::relay::relay(x, a, Some(&edits)).await
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
                    x.respond(&r).await
                }
            }
        }
    };
    if !charges.is_empty() {
        charges.record(&x.core.node.limits, x.rec.request_bytes + x.rec.response_bytes);
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
    if !to_get && matches!(body, ReqBody::Sent { .. }) {
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

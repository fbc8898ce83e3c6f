//! One request's lifecycle, the same for every plan (pass-through is the plan with no policies,
//! not a second path) and written against the protocol-neutral pieces (the failure table, the
//! body, the backend call, the relay). It holds the client as a [`ClientSide`] (`proxy::seam`),
//! never an HTTP/1 buffer or socket, so another client codec plugs in beside `h1`.
//!
//! ```text
//!  accept ─► read head ─► route & admit ─► inbound ─► backend ─► outbound ─► respond ─► log
//!  (h1)       (h1)          (gate)        └─────────── any error ► on-error ──┘
//! ```
//!
//! | phase | where | may | may not | costs |
//! |---|---|---|---|---|
//! | accept | `worker::run`, `h1::conn::serve` | refuse over the connection limits, TLS handshake | read a request | one task per connection |
//! | read head | `h1::conn::read_head` | answer 400/408/413/431/501 and close | route | parse, bounded by `header-bytes` and the head timeout |
//! | route & admit | `gate::decide`, [`admit`] | answer 404/401/413/501 (through on-error when the API is known) | touch the body or a backend | a route lookup, a key compare |
//! | inbound | `policies::run` | read or replace the request, answer (`return-response`), wait | write to the client | nothing for the pass-through plan |
//! | backend | `backend::call` | connect, retry once, read the response head while the body streams | relay the response body | one pooled connection |
//! | outbound | `policies::run` | edit the response head, read or replace its body | — | nothing for the pass-through plan |
//! | on-error | `policies::run` | shape the error answer from `context.LastError` | forward | only after an error |
//! | respond | `relay`, `exchange::Exchange::{fail, respond}` | stream the body, return the connection to the pool | — | one relay buffer per direction |
//! | log | `telemetry::Recorder::finish` | count, histogram, access-log line | block | nothing when both are off |

use std::borrow::Cow;

use tracing::Instrument;

use super::backend::{self, Call, Target};
use super::context::Core;
use super::exchange::{body_of, Exchange};
use super::failure::Failure;
use super::gate::{decide, Decision};
use super::request::{Req, Route};
use super::respond::{self, Shape};
use super::seam::{ClientSide, Made};
use crate::config::ApiType;
use crate::http::request::RequestHead;
use crate::http::Framing;
use crate::snapshot::Snapshot;
use crate::telemetry::access_log;
use crate::telemetry::Record;

/// Handles one request whose head the client side has just read; whether to keep the
/// connection. Runs in a `request` span (debug level: free when off).
pub async fn handle<C: ClientSide>(
    core: &Core,
    client: &mut C,
    head: &RequestHead,
    rec: &mut Record,
    log_line: &mut Vec<u8>,
) -> bool {
    // The head's bytes stay with the request; the connection moves on to its body.
    let mut head_bytes = core.buf();
    client.take_head(head.len, &mut head_bytes);
    let span = tracing::debug_span!(
        "request",
        id = %rec.id,
        method = %String::from_utf8_lossy(head.method.get(&head_bytes)),
        status = tracing::field::Empty,
    );
    let keep = handle_in_span(core, client, head, &head_bytes, rec, log_line).instrument(span.clone()).await;
    span.record("status", rec.status);
    keep
}

async fn handle_in_span<C: ClientSide>(
    core: &Core,
    client: &mut C,
    head: &RequestHead,
    head_bytes: &[u8],
    rec: &mut Record,
    log_line: &mut Vec<u8>,
) -> bool {
    let trace = head.header(head_bytes, "traceparent").and_then(crate::telemetry::trace::TraceParent::parse);
    rec.trace = trace.unwrap_or_else(crate::telemetry::trace::TraceParent::fresh);
    let minor = head.minor_version;
    let req = Req::of(head, head_bytes, core.settings.body_timeout);
    let Some(snap) = core.slot.current() else {
        // Managed mode before the first document: nothing is served, probes see 503.
        let prefix = log_prefix(core, log_line, client, head, head_bytes, None);
        let keep = no_configuration(core, client, &req, rec).await;
        finish(core, rec, prefix.as_deref(), client, minor, None);
        *log_line = prefix.unwrap_or_default();
        return keep;
    };
    let decision = decide(&snap, head, head_bytes, client.scheme());
    let api_of = |a: u32| snap.doc.apis.get(a as usize);
    let key_query = match &decision {
        Decision::Forward(r) => api_of(r.api).map(|a| a.key_query.as_str()),
        Decision::Refuse { api: Some(a), .. } => api_of(*a).map(|a| a.key_query.as_str()),
        _ => None,
    };
    let prefix = log_prefix(core, log_line, client, head, head_bytes, key_query);
    let route = match &decision {
        Decision::Forward(r) => Some(*r),
        _ => None,
    };
    let mut x = Exchange {
        core,
        client: &mut *client,
        head,
        head_bytes,
        snap: &snap,
        route,
        req,
        rec: &mut *rec,
        body: body_of(&req, core.settings.body_bytes),
    };
    let keep = match decision {
        Decision::Forward(route) => forward(&mut x, route).await,
        Decision::Status => status(&mut x).await,
        Decision::Refuse { failure, api } => refuse(&mut x, failure, api).await,
    };
    drop(x);
    finish(core, rec, prefix.as_deref(), client, minor, Some(&snap));
    *log_line = prefix.unwrap_or_default();
    keep
}

/// A refusal the gateway found itself. Once the API is known, the on-error sections of the
/// scopes known at that point (global, the API's) run with `context.LastError` set, as APIM's
/// do, so a document can shape the answer (a 405 for a method the API does not define).
async fn refuse<C: ClientSide>(x: &mut Exchange<'_, C>, failure: Failure, api: Option<u32>) -> bool {
    x.rec.api = api;
    let known = matches!(failure, Failure::OperationNotFound | Failure::KeyMissing | Failure::KeyInvalid);
    let plan = api.filter(|_| known).map(|a| x.snap.doc.policy_plans.api_level(a));
    match (plan, api) {
        (Some(plan), Some(api)) if !plan.steps(crate::policy::Section::OnError).is_empty() => {
            x.route = Some(Route {
                api,
                operation: None,
                rest_start: 0,
                key: super::request::KeySource::None,
                subscription: None,
                product: None,
            });
            super::policies::gateway_error(x, plan, &failure).await
        }
        _ => x.fail(&failure).await,
    }
}

/// Route & admit, then the plan: the pass-through plan calls the backend directly (no policy
/// context is built), any other runs the policy phases around the call.
async fn forward<C: ClientSide>(x: &mut Exchange<'_, C>, route: Route) -> bool {
    x.rec.api = Some(route.api);
    x.rec.operation = route.operation;
    x.rec.product = route.product;
    x.rec.subscription = route.subscription;
    if let Err(f) = admit(x) {
        return x.fail(&f).await;
    }
    let snap = x.snap;
    let plan = snap.doc.policy_plans.get(route.api, route.operation, route.product);
    let simple = plan.forward().is_none_or(|f| !f.follow_redirects && !f.fail_on_error_status_code);
    if !(plan.is_passthrough() && simple) {
        return super::policies::run(x, plan).await;
    }
    let timeout = plan.forward().filter(|f| f.timeout_set).map_or(snap.forward_timeout, |f| f.timeout);
    let Some(url) = x.api().and_then(|a| a.service_url.as_ref()) else {
        return x.fail(&Failure::Config("No backend service is configured for this API")).await;
    };
    let target = Target { url: Cow::Borrowed(url), credentials: None, tls: &snap.backend_tls.default };
    let cap = x.core.settings.body_bytes.unwrap_or(super::policies::MAX_BUFFERED_BODY);
    match backend::call(x, Call { target, timeout, edits: None, read_response: None, cap }).await {
        Ok(answer) => {
            x.rec.status = answer.head.status;
            x.rec.backend_status = Some(answer.head.status);
            super::relay::relay(x, answer, None).await
        }
        Err(f) => x.fail(&f).await,
    }
}

/// What every plan checks before any policy or backend is involved: the API type and a
/// declared body over the limit.
fn admit<C: ClientSide>(x: &Exchange<'_, C>) -> Result<(), Failure> {
    let Some(api) = x.api() else { return Err(Failure::ApiNotFound) };
    match api.kind {
        ApiType::Http => {}
        // A WebSocket API has one operation, the handshake: a body-less HTTP/1.1 GET asking for
        // the upgrade (RFC 6455 §4.1). The tunnel follows the backend's 101 (proxy::upgrade).
        ApiType::WebSocket => {
            let get = x.head.method.get(x.head_bytes) == b"GET";
            if !(x.head.websocket && get && x.req.framing == Framing::None) {
                return Err(Failure::NotWebSocketHandshake);
            }
        }
        // gRPC needs HTTP/2: say so rather than forward a request that cannot work.
        ApiType::Grpc => return Err(Failure::ApiTypeNotSupported),
    }
    if let (Some(limit), Framing::Length(n)) = (x.core.settings.body_bytes, x.req.framing) {
        if n > limit {
            return Err(Failure::TooLarge);
        }
    }
    Ok(())
}

/// The health endpoint: 200, or 503 while draining.
async fn status<C: ClientSide>(x: &mut Exchange<'_, C>) -> bool {
    let draining = x.core.draining.get();
    let (status, body): (u16, &[u8]) = if draining { (503, b"draining") } else { (200, b"") };
    x.rec.status = status;
    let keep = x.body_consumed() && x.client.keeps_alive(&x.req) && !draining;
    let mut out = x.core.buf();
    let shape = Shape { close: !keep, minor: x.req.minor, head_only: x.req.is_head };
    x.answer(&mut out, Made::Simple { status, content_type: b"text/plain", body }, shape).await && keep
}

/// Managed mode before the first document: 503 (kept alive when there is no body to skip).
async fn no_configuration<C: ClientSide>(core: &Core, client: &mut C, req: &Req, rec: &mut Record) -> bool {
    let v = Failure::NoConfiguration.verdict();
    rec.status = v.status;
    rec.error(v.source, v.reason);
    let keep = !req.has_body() && respond::keeps(v.after, true, !client.keeps_alive(req), core.draining.get());
    let mut out = core.buf();
    let shape = Shape { close: !keep, minor: req.minor, head_only: req.is_head };
    client.respond(&mut out, Made::Failure(&v), shape, core.settings.idle_timeout, rec).await && keep
}

/// Hands the finished request to the core's telemetry recorder.
fn finish<C: ClientSide>(
    core: &Core,
    rec: &Record,
    prefix: Option<&[u8]>,
    client: &C,
    minor: u8,
    snap: Option<&Snapshot>,
) {
    let peer = crate::telemetry::recorder::Peer { ip: client.peer_ip(), http_minor: minor, tls: client.tls_version() };
    core.recorder.finish(rec, prefix, &peer, snap.map(|s| s as &dyn crate::telemetry::Names));
}

/// The access log's request-line text for this request, in the active phase's reused buffer
/// (taken out while the request runs; the caller puts it back).
fn log_prefix<C: ClientSide>(
    core: &Core,
    log_line: &mut Vec<u8>,
    client: &C,
    head: &RequestHead,
    head_bytes: &[u8],
    key_query: Option<&str>,
) -> Option<Vec<u8>> {
    core.recorder.log_enabled().then(|| {
        let mut prefix = std::mem::take(log_line);
        access_log::prefix(&mut prefix, head, head_bytes, client.scheme(), key_query);
        prefix
    })
}

//! Writing the heads that leave the gateway: the request to the backend (rewritten target,
//! backend Host, forwarding headers, hop-by-hop removed) and the response to the client.

use std::net::IpAddr;

use crate::config::{BackendUrl, Credentials, Scheme};
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::wire::{Head, WireError};
use crate::http::Framing;
use crate::policy::{RequestEdits, ResponseEdits};

use crate::telemetry::trace::{RequestId, TraceParent};

pub struct Upstream<'a> {
    pub backend: &'a BackendUrl,
    /// Backend-relative path after the API suffix (may be empty).
    pub rest: &'a [u8],
    pub key_header: &'a str,
    pub key_query: &'a [u8],
    pub client_ip: IpAddr,
    pub scheme: Scheme,
    /// A WebSocket handshake: `Upgrade` and `Connection` are hop-by-hop and dropped with the
    /// rest, then asked of the backend anew.
    pub upgrade: bool,
}

/// What policies changed about the request (the policy path only; pass-through sends `None`).
pub struct Rewrite<'a> {
    pub edits: &'a RequestEdits,
    /// Length of a buffered or replaced body, sent with Content-Length instead of the client's
    /// framing.
    pub body_len: Option<u64>,
    /// Credentials of a `backends[]` entry chosen by `set-backend-service backend-id`.
    pub credentials: Option<&'a Credentials>,
}

pub fn request_head(
    out: &mut Vec<u8>,
    head: &RequestHead,
    buf: &[u8],
    up: &Upstream<'_>,
    trace: &TraceParent,
) -> Result<(), WireError> {
    request_head_with(out, head, buf, up, trace, None)
}

/// Writes the path and query after the backend's base path, leaving out the subscription-key
/// parameter and appending credential parameters. A path a policy wrote is normalised like a
/// client's (crate::http::path) and may not climb above the base path.
fn target(h: &mut Head<'_>, up: &Upstream<'_>, rest: &[u8], query: &[u8], creds: Option<&Credentials>) {
    h.target(up.backend.base_path.as_bytes());
    if rest.is_empty() {
        if up.backend.base_path.is_empty() {
            h.target(b"/");
        }
    } else {
        match crate::http::path::normalise(rest) {
            // `normalise` roots a relative rest at '/', the separator after the base path.
            Ok(p) => h.target(&p),
            Err(_) => h.refuse(WireError::TargetEscape),
        }
    }
    let extra = creds.map_or(&[][..], |c| c.query.as_slice());
    if query.is_empty() && extra.is_empty() {
        return;
    }
    let mut first = true;
    let mut sep = |h: &mut Head<'_>| {
        h.target(if first { b"?" } else { b"&" });
        first = false;
    };
    for pair in query.split(|b| *b == b'&') {
        let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
        if name == up.key_query || pair.is_empty() {
            // Never forwarded, used or not: whatever stands there is a key (maybe another's).
            continue;
        }
        sep(h);
        h.target(pair);
    }
    for (name, values) in extra {
        for v in values {
            sep(h);
            h.target(name.as_bytes());
            h.target(b"=");
            h.target(v.as_bytes());
        }
    }
}

pub fn request_head_with(
    out: &mut Vec<u8>,
    head: &RequestHead,
    buf: &[u8],
    up: &Upstream<'_>,
    trace: &TraceParent,
    rw: Option<&Rewrite<'_>>,
) -> Result<(), WireError> {
    let edits = rw.map(|r| r.edits);
    let method = match edits.and_then(|e| e.method.as_deref()) {
        Some(m) => m.as_bytes(),
        None => head.method.get(buf),
    };
    let mut h = Head::request(out, method);
    let creds = rw.and_then(|r| r.credentials);
    match edits.and_then(|e| e.path_and_query.as_deref()) {
        Some(pq) => {
            let (p, q) = pq.split_once('?').unwrap_or((pq, ""));
            target(&mut h, up, p.as_bytes(), q.as_bytes(), creds)
        }
        None => target(&mut h, up, up.rest, head.query.get(buf), creds),
    }
    h.end_request_line();
    let removed =
        |name: &[u8]| edits.is_some_and(|e| e.headers.removed.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())));
    let host_edit = edits.and_then(|e| e.headers.values("host").next());
    match host_edit {
        Some(v) => h.header(b"host", v.as_bytes()),
        None => h.header(b"host", up.backend.authority.as_bytes()),
    }
    // Every X-Forwarded-For line the client sent, in order, comma-joined: the gateway appends
    // the peer to the whole chain, never to the last line only.
    let mut forwarded_for: Vec<&[u8]> = Vec::new();
    for (i, f) in head.headers.iter().enumerate() {
        let name = f.name.get(buf);
        if head.drop_mask & (1 << i) != 0 || name.eq_ignore_ascii_case(b"host") || removed(name) {
            continue;
        }
        if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            let v = crate::http::headers::trim(f.value.get(buf));
            if !v.is_empty() {
                forwarded_for.push(v); // appended to below
            }
            continue;
        }
        if name.eq_ignore_ascii_case(b"x-forwarded-proto")
            || name.eq_ignore_ascii_case(b"x-forwarded-host")
            || name.eq_ignore_ascii_case(b"traceparent")
        {
            continue; // set by the gateway, never trusted from the client
        }
        if name.eq_ignore_ascii_case(up.key_header.as_bytes()) {
            continue;
        }
        h.header(name, f.value.get(buf));
    }
    match (rw.and_then(|r| r.body_len), head.framing) {
        (Some(n), _) => h.content_length(n),
        (None, Framing::Length(n)) => h.content_length(n),
        (None, Framing::Chunked) => h.header(b"transfer-encoding", b"chunked"),
        (None, Framing::None | Framing::UntilClose) => {}
    }
    if let Some(e) = edits {
        for (name, value) in &e.headers.added {
            if !name.eq_ignore_ascii_case("host") && !is_framing(name.as_bytes()) {
                h.header(name.as_bytes(), value.as_bytes());
            }
        }
    }
    for (name, values) in creds.map_or(&[][..], |c| c.header.as_slice()) {
        for v in values {
            h.header(name.as_bytes(), v.as_bytes());
        }
    }
    if up.upgrade {
        h.header(b"connection", b"upgrade");
        h.header(b"upgrade", b"websocket");
    }
    let prior_ok = forwarded_for.iter().all(|v| crate::http::wire::is_field_text(v));
    h.gateway_header(b"x-forwarded-for", |out| {
        // Client values were checked by the head parser (and again just above).
        if prior_ok {
            for v in &forwarded_for {
                out.extend_from_slice(v);
                out.extend_from_slice(b", ");
            }
        }
        push_ip(out, up.client_ip);
    });
    h.header(b"x-forwarded-proto", if up.scheme == Scheme::Https { b"https" } else { b"http" });
    if let Some(host) = head.host {
        h.header(b"x-forwarded-host", host.get(buf));
    }
    // The caller's trace context when it sent a valid one, else one started here (W3C).
    h.gateway_header(b"traceparent", |out| trace.write(out));
    h.finish()
}

/// Built for the access log: it lives with the log's other writers.
pub use crate::telemetry::access_log::backend_url;

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    use std::io::Write;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let _ = write!(out, "{ip}");
}

/// How the response body travels to this client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientFraming {
    None,
    Length(u64),
    /// Forward the chunked bytes as they are (HTTP/1.1 clients).
    Chunked,
    /// Decoded bytes until close (HTTP/1.0 clients of a chunked response, and until-close bodies).
    Close,
}

pub fn client_framing(rh: &ResponseHead, client_minor: u8) -> ClientFraming {
    match rh.framing {
        Framing::None => ClientFraming::None,
        Framing::Length(n) => ClientFraming::Length(n),
        Framing::Chunked if client_minor >= 1 => ClientFraming::Chunked,
        Framing::Chunked | Framing::UntilClose => ClientFraming::Close,
    }
}

/// How the response leaves the gateway.
pub struct ResponseShape {
    pub framing: ClientFraming,
    pub keep_alive: bool,
    pub client_minor: u8,
    pub request_was_head: bool,
    /// A `101 Switching Protocols` to WebSocket: the connection becomes a tunnel.
    pub upgrade: bool,
}

pub fn response_head(
    out: &mut Vec<u8>,
    rh: &ResponseHead,
    ubuf: &[u8],
    shape: &ResponseShape,
    id: &RequestId,
) -> Result<(), WireError> {
    response_head_with(out, rh, ubuf, shape, id, None)
}

/// The response head with outbound edits (status, headers) applied.
pub fn response_head_with(
    out: &mut Vec<u8>,
    rh: &ResponseHead,
    ubuf: &[u8],
    shape: &ResponseShape,
    id: &RequestId,
    edits: Option<&ResponseEdits>,
) -> Result<(), WireError> {
    let ResponseShape { framing, keep_alive, client_minor, request_was_head, upgrade } = *shape;
    let (status, reason) = match edits.and_then(|e| e.status.as_ref()) {
        Some((code, reason)) => (*code, reason.as_bytes()),
        None => (rh.status, rh.reason.get(ubuf)),
    };
    let mut h = Head::status(out, status, reason);
    let removed =
        |name: &[u8]| edits.is_some_and(|e| e.headers.removed.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())));
    for (i, f) in rh.headers.iter().enumerate() {
        let name = f.name.get(ubuf);
        if rh.drop_mask & (1 << i) == 0 && !removed(name) {
            h.header(name, f.value.get(ubuf));
        }
    }
    added_headers(&mut h, edits);
    let bodiless_status = (100..200).contains(&status) || status == 204 || status == 304;
    match framing {
        ClientFraming::Length(n) => h.content_length(n),
        ClientFraming::Chunked => h.header(b"transfer-encoding", b"chunked"),
        ClientFraming::None if !bodiless_status && !request_was_head => h.content_length(0),
        ClientFraming::None | ClientFraming::Close => {}
    }
    if upgrade {
        h.header(b"connection", b"upgrade");
        h.header(b"upgrade", b"websocket");
    } else if !keep_alive {
        h.header(b"connection", b"close");
    } else if client_minor == 0 {
        h.header(b"connection", b"keep-alive");
    }
    h.gateway_header(b"x-request-id", |out| id.write(out));
    h.finish()
}

/// Headers policies added to a response (framing headers are the writer's, never a policy's).
pub fn added_headers(h: &mut Head<'_>, edits: Option<&ResponseEdits>) {
    let Some(e) = edits else { return };
    for (name, value) in &e.headers.added {
        if !is_framing(name.as_bytes()) {
            h.header(name.as_bytes(), value.as_bytes());
        }
    }
}

pub fn is_framing(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"content-length")
        || name.eq_ignore_ascii_case(b"transfer-encoding")
        || name.eq_ignore_ascii_case(b"connection")
}

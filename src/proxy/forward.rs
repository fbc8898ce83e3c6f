//! Writing the heads that leave the gateway: the request to the backend (rewritten target,
//! backend Host, forwarding headers, hop-by-hop removed) and the response to the client.

use std::net::IpAddr;

use crate::config::{BackendUrl, Credentials, Scheme};
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::write::{content_length, header, status_line};
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

pub fn request_head(out: &mut Vec<u8>, head: &RequestHead, buf: &[u8], up: &Upstream<'_>, trace: &TraceParent) {
    request_head_with(out, head, buf, up, trace, None)
}

/// Writes the path and query after the backend's base path, leaving out the subscription-key
/// parameter and appending credential parameters.
fn target(out: &mut Vec<u8>, up: &Upstream<'_>, rest: &[u8], query: &[u8], creds: Option<&Credentials>) {
    out.extend_from_slice(up.backend.base_path.as_bytes());
    if rest.is_empty() {
        if up.backend.base_path.is_empty() {
            out.push(b'/');
        }
    } else {
        if rest[0] != b'/' && rest[0] != b'?' {
            out.push(b'/');
        }
        out.extend_from_slice(rest);
    }
    let extra = creds.map_or(&[][..], |c| c.query.as_slice());
    if query.is_empty() && extra.is_empty() {
        return;
    }
    let mark = out.len();
    out.push(b'?');
    for pair in query.split(|b| *b == b'&') {
        let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
        if name == up.key_query || pair.is_empty() {
            // Never forwarded, used or not: whatever stands there is a key (maybe another's).
            continue;
        }
        if out.len() > mark + 1 {
            out.push(b'&');
        }
        out.extend_from_slice(pair);
    }
    for (name, values) in extra {
        for v in values {
            if out.len() > mark + 1 {
                out.push(b'&');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
    }
    if out.len() == mark + 1 {
        out.truncate(mark);
    }
}

pub fn request_head_with(
    out: &mut Vec<u8>,
    head: &RequestHead,
    buf: &[u8],
    up: &Upstream<'_>,
    trace: &TraceParent,
    rw: Option<&Rewrite<'_>>,
) {
    let edits = rw.map(|r| r.edits);
    match edits.and_then(|e| e.method.as_deref()) {
        Some(m) => out.extend_from_slice(m.as_bytes()),
        None => out.extend_from_slice(head.method.get(buf)),
    }
    out.push(b' ');
    let creds = rw.and_then(|r| r.credentials);
    match edits.and_then(|e| e.path_and_query.as_deref()) {
        Some(pq) => {
            let (p, q) = pq.split_once('?').unwrap_or((pq, ""));
            target(out, up, p.as_bytes(), q.as_bytes(), creds)
        }
        None => target(out, up, up.rest, head.query.get(buf), creds),
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let removed =
        |name: &[u8]| edits.is_some_and(|e| e.headers.removed.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())));
    let host_edit = edits.and_then(|e| e.headers.values("host").next());
    match host_edit {
        Some(h) => header(out, b"host", h.as_bytes()),
        None => header(out, b"host", up.backend.authority.as_bytes()),
    }
    let mut forwarded_for: Option<&[u8]> = None;
    for (i, h) in head.headers.iter().enumerate() {
        let name = h.name.get(buf);
        if head.drop_mask & (1 << i) != 0 || name.eq_ignore_ascii_case(b"host") || removed(name) {
            continue;
        }
        if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            forwarded_for = Some(h.value.get(buf)); // appended to below
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
        header(out, name, h.value.get(buf));
    }
    match (rw.and_then(|r| r.body_len), head.framing) {
        (Some(n), _) => content_length(out, n),
        (None, Framing::Length(n)) => content_length(out, n),
        (None, Framing::Chunked) => header(out, b"transfer-encoding", b"chunked"),
        (None, Framing::None | Framing::UntilClose) => {}
    }
    if let Some(e) = edits {
        for (name, value) in &e.headers.added {
            if !name.eq_ignore_ascii_case("host") {
                header(out, name.as_bytes(), value.as_bytes());
            }
        }
    }
    for (name, values) in creds.map_or(&[][..], |c| c.header.as_slice()) {
        for v in values {
            header(out, name.as_bytes(), v.as_bytes());
        }
    }
    out.extend_from_slice(b"x-forwarded-for: ");
    if let Some(prior) = forwarded_for {
        out.extend_from_slice(prior);
        out.extend_from_slice(b", ");
    }
    push_ip(out, up.client_ip);
    out.extend_from_slice(b"\r\n");
    header(out, b"x-forwarded-proto", if up.scheme == Scheme::Https { b"https" } else { b"http" });
    if let Some(host) = head.host {
        header(out, b"x-forwarded-host", host.get(buf));
    }
    // The caller's trace context when it sent a valid one, else one started here (W3C).
    out.extend_from_slice(b"traceparent: ");
    trace.write(out);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b"\r\n");
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
}

pub fn response_head(out: &mut Vec<u8>, rh: &ResponseHead, ubuf: &[u8], shape: &ResponseShape, id: &RequestId) {
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
) {
    let ResponseShape { framing, keep_alive, client_minor, request_was_head } = *shape;
    let status = match edits.and_then(|e| e.status.as_ref()) {
        Some((code, reason)) => {
            status_line(out, *code, reason.as_bytes());
            *code
        }
        None => {
            status_line(out, rh.status, rh.reason.get(ubuf));
            rh.status
        }
    };
    let removed =
        |name: &[u8]| edits.is_some_and(|e| e.headers.removed.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())));
    for (i, h) in rh.headers.iter().enumerate() {
        let name = h.name.get(ubuf);
        if rh.drop_mask & (1 << i) == 0 && !removed(name) {
            header(out, name, h.value.get(ubuf));
        }
    }
    added_headers(out, edits);
    let bodiless_status = (100..200).contains(&status) || status == 204 || status == 304;
    match framing {
        ClientFraming::Length(n) => content_length(out, n),
        ClientFraming::Chunked => header(out, b"transfer-encoding", b"chunked"),
        ClientFraming::None if !bodiless_status && !request_was_head => content_length(out, 0),
        ClientFraming::None | ClientFraming::Close => {}
    }
    if !keep_alive {
        header(out, b"connection", b"close");
    } else if client_minor == 0 {
        header(out, b"connection", b"keep-alive");
    }
    out.extend_from_slice(b"x-request-id: ");
    id.write(out);
    out.extend_from_slice(b"\r\n\r\n");
}

/// Headers policies added to a response (framing headers are the writer's, never a policy's).
pub fn added_headers(out: &mut Vec<u8>, edits: Option<&ResponseEdits>) {
    let Some(e) = edits else { return };
    for (name, value) in &e.headers.added {
        if !is_framing(name.as_bytes()) {
            header(out, name.as_bytes(), value.as_bytes());
        }
    }
}

fn is_framing(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"content-length")
        || name.eq_ignore_ascii_case(b"transfer-encoding")
        || name.eq_ignore_ascii_case(b"connection")
}

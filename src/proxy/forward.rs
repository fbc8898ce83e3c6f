//! Writing the heads that leave the gateway: the request to the backend (rewritten target,
//! backend Host, forwarding headers, hop-by-hop removed) and the response to the client.

use std::net::IpAddr;

use crate::config::{BackendUrl, Scheme};
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::http::write::{content_length, header, status_line};
use crate::http::Framing;

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

pub fn request_head(out: &mut Vec<u8>, head: &RequestHead, buf: &[u8], up: &Upstream<'_>, trace: &TraceParent) {
    out.extend_from_slice(head.method.get(buf));
    out.push(b' ');
    out.extend_from_slice(up.backend.base_path.as_bytes());
    if up.rest.is_empty() {
        if up.backend.base_path.is_empty() {
            out.push(b'/');
        }
    } else {
        out.extend_from_slice(up.rest);
    }
    let query = head.query.get(buf);
    if !query.is_empty() {
        let mark = out.len();
        out.push(b'?');
        for pair in query.split(|b| *b == b'&') {
            let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
            if name == up.key_query {
                // Never forwarded, used or not: whatever stands there is a key (maybe another's).
                continue;
            }
            if out.len() > mark + 1 {
                out.push(b'&');
            }
            out.extend_from_slice(pair);
        }
        if out.len() == mark + 1 {
            out.truncate(mark);
        }
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    header(out, b"host", up.backend.authority.as_bytes());
    let mut forwarded_for: Option<&[u8]> = None;
    for (i, h) in head.headers.iter().enumerate() {
        let name = h.name.get(buf);
        if head.drop_mask & (1 << i) != 0 || name.eq_ignore_ascii_case(b"host") {
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
    match head.framing {
        Framing::Length(n) => content_length(out, n),
        Framing::Chunked => header(out, b"transfer-encoding", b"chunked"),
        Framing::None | Framing::UntilClose => {}
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
    let ResponseShape { framing, keep_alive, client_minor, request_was_head } = *shape;
    status_line(out, rh.status, rh.reason.get(ubuf));
    for (i, h) in rh.headers.iter().enumerate() {
        if rh.drop_mask & (1 << i) == 0 {
            header(out, h.name.get(ubuf), h.value.get(ubuf));
        }
    }
    let bodiless_status = (100..200).contains(&rh.status) || rh.status == 204 || rh.status == 304;
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

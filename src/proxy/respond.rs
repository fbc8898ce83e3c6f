//! The one writer of responses the gateway makes itself (errors, health, a policy's
//! `return-response`, a response whose body a policy holds): every one carries `x-request-id`,
//! goes through the checked head writer, and says `connection: close` when the connection ends.

use std::time::Duration;

use monoio::io::AsyncWriteRent;

use super::failure::{After, Verdict};
use super::io::write_from;
use crate::http::wire::{Head, WireError};
use crate::http::write::{json_escape_into, reason};
use crate::telemetry::record::Stopwatch;
use crate::telemetry::trace::RequestId;
use crate::telemetry::Record;

/// How a gateway-made response is framed for this client.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Say `connection: close` (the connection ends after this response).
    pub close: bool,
    /// HTTP/1.0 clients are told `connection: keep-alive` when it stays open.
    pub minor: u8,
    /// A HEAD request: the head only.
    pub head_only: bool,
}

/// Whether the client connection carries on after the gateway answered.
pub fn keeps(after: After, body_read: bool, client_close: bool, draining: bool) -> bool {
    after == After::KeepIfBodyRead && body_read && !client_close && !draining
}

/// APIM's JSON error body, `{"statusCode":…,"message":…}`.
pub fn error_body(status: u16, message: &str) -> Vec<u8> {
    let mut body = String::with_capacity(40 + message.len());
    body.push_str("{\"statusCode\":");
    body.push_str(itoa::Buffer::new().format(status));
    body.push_str(",\"message\":\"");
    json_escape_into(&mut body, message);
    body.push_str("\"}");
    body.into_bytes()
}

/// A failure's answer: its status with APIM's JSON error body.
pub fn failure(out: &mut Vec<u8>, v: &Verdict<'_>, shape: Shape, id: &RequestId) {
    simple(out, v.status, b"application/json", &error_body(v.status, v.message), shape, id);
}

/// A complete response with a constant content type and body.
pub fn simple(out: &mut Vec<u8>, status: u16, content_type: &[u8], body: &[u8], shape: Shape, id: &RequestId) {
    let headers = [("content-type", content_type)];
    let head = |out: &mut Vec<u8>, status: u16| {
        head(
            out,
            status,
            reason(status).as_bytes(),
            headers.iter().map(|(n, v)| (n.as_bytes(), *v)),
            body.len(),
            shape,
            id,
        )
    };
    let from = out.len();
    if head(out, status).is_err() {
        // Only a policy can ask for a status outside 100-999; the constant rest cannot fail.
        out.truncate(from);
        let _ = head(out, 500);
    }
    if !shape.head_only && !bodiless(status) {
        out.extend_from_slice(body);
    }
}

/// A response a policy made (`return-response`, `mock-response`, a held body): its status,
/// reason and headers through the checked writer. A value that cannot go on the wire (CR, LF or
/// NUL in a reason or header, a bad name or status) turns it into a 500 with APIM's error body,
/// logged as `InvalidHeadValue`, as APIM fails an expression whose value is unusable.
pub fn policy(out: &mut Vec<u8>, r: &crate::policy::Response, shape: Shape, rec: &mut Record) {
    let from = out.len();
    let reason_text = if r.reason.is_empty() { reason(r.status) } else { r.reason.as_str() };
    let headers = r
        .headers
        .iter()
        .filter(|(n, _)| !super::h1::head::is_framing(n.as_bytes()))
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()));
    match head(out, r.status, reason_text.as_bytes(), headers, r.body.len(), shape, &rec.id) {
        Ok(()) => {
            if !shape.head_only && !bodiless(r.status) {
                out.extend_from_slice(&r.body);
            }
        }
        Err(e) => {
            out.truncate(from);
            rec.status = 500;
            rec.error("gateway", e.log_reason());
            let message = "A policy produced a value that cannot be sent in the response head";
            let shape = Shape { close: true, ..shape };
            simple(out, 500, b"application/json", &error_body(500, message), shape, &rec.id);
        }
    }
}

fn bodiless(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

fn head<'h>(
    out: &mut Vec<u8>,
    status: u16,
    reason_text: &[u8],
    headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    body_len: usize,
    shape: Shape,
    id: &RequestId,
) -> Result<(), WireError> {
    let mut h = Head::status(out, status, reason_text);
    for (n, v) in headers {
        h.header(n, v);
    }
    if !bodiless(status) {
        h.content_length(body_len as u64);
    }
    if shape.close {
        h.header(b"connection", b"close");
    } else if shape.minor == 0 {
        h.header(b"connection", b"keep-alive");
    }
    h.gateway_header(b"x-request-id", |o| id.write(o));
    h.finish()
}

/// Writes `out` to the client, counting its bytes and the client time; the buffer comes back.
pub async fn send<S: AsyncWriteRent>(io: &mut S, out: Vec<u8>, idle: Duration, rec: &mut Record) -> (bool, Vec<u8>) {
    rec.response_bytes += out.len() as u64;
    let watch = Stopwatch::start();
    let (r, back) = write_from(io, out, 0, idle).await;
    watch.add_to(&mut rec.client);
    (r.is_ok(), back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::failure::Failure;

    fn text(out: &[u8]) -> String {
        String::from_utf8(out.to_vec()).expect("utf8")
    }

    #[test]
    fn a_failure_is_apim_shaped_and_carries_the_request_id() {
        let id = RequestId(0x1234);
        let mut out = Vec::new();
        let shape = Shape { close: true, minor: 1, head_only: false };
        failure(&mut out, &Failure::Timeout.verdict(), shape, &id);
        let t = text(&out);
        assert!(t.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"), "{t}");
        assert!(t.contains("connection: close\r\n"), "{t}");
        assert!(t.contains("x-request-id: 00000000-0000-0000-0000-000000001234\r\n"), "{t}");
        assert!(t.ends_with("\r\n\r\n{\"statusCode\":504,\"message\":\"Backend timed out\"}"), "{t}");
    }

    #[test]
    fn head_only_and_keep_alive_for_http_1_0() {
        let id = RequestId(1);
        let mut out = Vec::new();
        simple(&mut out, 200, b"text/plain", b"ok", Shape { close: false, minor: 0, head_only: true }, &id);
        let t = text(&out);
        assert!(t.contains("content-length: 2\r\n") && t.contains("connection: keep-alive\r\n"), "{t}");
        assert!(t.ends_with("\r\n\r\n"), "no body for HEAD: {t}");
    }

    #[test]
    fn a_policy_value_that_cannot_go_on_the_wire_becomes_a_500() {
        let mut rec = Record::new(std::time::Instant::now(), Duration::ZERO);
        let r = crate::policy::Response {
            status: 200,
            reason: "OK".into(),
            headers: vec![("x-bad".into(), "a\r\nb".into())],
            body: b"hi".to_vec(),
        };
        let mut out = Vec::new();
        policy(&mut out, &r, Shape { close: false, minor: 1, head_only: false }, &mut rec);
        let t = text(&out);
        assert!(t.starts_with("HTTP/1.1 500 "), "{t}");
        assert!(t.contains("connection: close\r\n") && t.contains("x-request-id: "), "{t}");
        assert_eq!(rec.status, 500);
    }

    #[test]
    fn the_connection_is_kept_only_when_everything_allows_it() {
        assert!(keeps(After::KeepIfBodyRead, true, false, false));
        assert!(!keeps(After::KeepIfBodyRead, false, false, false));
        assert!(!keeps(After::KeepIfBodyRead, true, true, false));
        assert!(!keeps(After::KeepIfBodyRead, true, false, true));
        assert!(!keeps(After::Close, true, false, false));
        assert!(!keeps(After::Gone, true, false, false));
    }
}

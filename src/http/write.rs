//! Gateway-generated responses into reusable byte buffers, through the checked writer.

use super::wire::Head;

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// A header for the control plane's constant heads: goes through the checked writer's rules and
/// leaves out a field that breaks them (the proxy uses [`super::wire::Head`], which refuses).
pub fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    if super::wire::is_token(name) && super::wire::is_field_text(value) {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
}

/// A status line for the control plane's constant heads (an invalid reason is left out).
pub fn status_line(out: &mut Vec<u8>, status: u16, reason_phrase: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(status.clamp(100, 999)).as_bytes());
    out.push(b' ');
    if super::wire::is_field_text(reason_phrase) {
        out.extend_from_slice(reason_phrase);
    }
    out.extend_from_slice(b"\r\n");
}

pub fn content_length(out: &mut Vec<u8>, n: u64) {
    let mut b = itoa::Buffer::new();
    header(out, b"content-length", b.format(n).as_bytes());
}

/// A complete gateway-generated response: APIM's JSON error shape `{"statusCode":…,"message":…}`.
pub fn error_response(out: &mut Vec<u8>, status: u16, message: &str, close: bool, head_only: bool) {
    let mut body = String::with_capacity(64 + message.len());
    body.push_str("{\"statusCode\":");
    body.push_str(itoa::Buffer::new().format(status));
    body.push_str(",\"message\":\"");
    json_escape_into(&mut body, message);
    body.push_str("\"}");
    simple_response(out, status, b"application/json", body.as_bytes(), close, head_only);
}

/// A gateway-made response through the checked writer; a status outside 100-999 (only a
/// policy can ask for one) becomes 500.
pub fn simple_response(out: &mut Vec<u8>, status: u16, content_type: &[u8], body: &[u8], close: bool, head_only: bool) {
    let write = |out: &mut Vec<u8>, status: u16| {
        let mut h = Head::status(out, status, reason(status).as_bytes());
        h.header(b"content-type", content_type);
        h.content_length(body.len() as u64);
        if close {
            h.header(b"connection", b"close");
        }
        h.finish()
    };
    if write(out, status).is_err() {
        let _ = write(out, 500); // constant status, reason and headers: cannot fail
    }
    if !head_only {
        out.extend_from_slice(body);
    }
}

pub fn json_escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_apim_shaped() {
        let mut out = Vec::new();
        error_response(&mut out, 401, "Access \"denied\"", true, false);
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
        assert!(text.contains("connection: close\r\n"));
        assert!(text.ends_with("{\"statusCode\":401,\"message\":\"Access \\\"denied\\\"\"}"));
    }
}

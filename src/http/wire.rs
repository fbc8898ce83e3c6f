//! The checked head writer: the only way a request or status line and header fields reach the
//! wire. Every position has one writer that knows what RFC 9112/9110/3986 allow there:
//!
//! - method: a token (RFC 9110 §9.1), else refused;
//! - request target: bytes a target cannot carry (controls, space, non-ASCII, `"` `#` `<` `>`
//!   `\` `^` `` ` `` `{` `|` `}` and a `%` not followed by two hex digits) are percent-encoded,
//!   so a value fed from a request can never end the request line or start a second request;
//! - status: a code in 100..=999, a reason phrase of HTAB, SP, VCHAR and obs-text only (RFC 9112
//!   §4), else refused;
//! - header name: a token; header value: HTAB, SP, VCHAR and obs-text only (no CR, LF, NUL or
//!   other controls, RFC 9110 §5.5), else refused.
//!
//! A refused value is never written in part: the writer's first error is sticky, [`Head::finish`]
//! reports it and takes back everything the head wrote, so the caller answers with a gateway
//! error instead (the proxy sends 500 with APIM's error body, or 400 for a target that climbs
//! above its base path, and logs the reason).

/// Why a head could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the method is not a token")]
    Method,
    #[error("the request path climbs above the backend's base path")]
    TargetEscape,
    #[error("the status code is outside 100-999")]
    Status,
    #[error("the reason phrase holds CR, LF, NUL or another control byte")]
    Reason,
    #[error("a header name is not a token")]
    HeaderName,
    #[error("a header value holds CR, LF, NUL or another control byte")]
    HeaderValue,
}

impl WireError {
    /// The access log's reason for a request answered because of it.
    pub fn log_reason(self) -> &'static str {
        match self {
            WireError::TargetEscape => "InvalidRequestTarget",
            _ => "InvalidHeadValue",
        }
    }
}

/// Byte classes, looked up once per byte on every head the gateway writes.
const TCHAR: u8 = 1;
const TARGET: u8 = 2;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        // RFC 9110 tchar.
        if alnum
            || matches!(
                c,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            t[b] |= TCHAR;
        }
        // What a request target may carry as it is: RFC 3986 pchar, `/` and `?` (and `%` when it
        // starts an escape, checked apart); `[` `]` as clients and servers commonly pass them.
        if alnum
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'['
                    | b']'
            )
        {
            t[b] |= TARGET;
        }
        b += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

pub fn is_tchar(b: u8) -> bool {
    CLASS[usize::from(b)] & TCHAR != 0
}

pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|b| is_tchar(*b))
}

/// HTAB, SP, VCHAR, obs-text: what a field value or a reason phrase may hold.
pub fn is_field_text(s: &[u8]) -> bool {
    s.iter().all(|b| matches!(*b, b'\t' | b' '..=b'~' | 0x80..=0xff))
}

fn target_byte_ok(b: u8) -> bool {
    CLASS[usize::from(b)] & TARGET != 0
}

fn is_hex(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_hexdigit)
}

/// Appends `part` of a request target, percent-encoding what a target cannot carry.
pub fn push_target(out: &mut Vec<u8>, part: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, &b) in part.iter().enumerate() {
        if target_byte_ok(b) || (b == b'%' && is_hex(part.get(i + 1)) && is_hex(part.get(i + 2))) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// A head being written into `out`. Construct with [`Head::request`] or [`Head::status`], add
/// header fields, end with [`Head::finish`].
#[must_use = "a head is only complete (and checked) after finish()"]
pub struct Head<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    error: Option<WireError>,
}

impl<'a> Head<'a> {
    fn fail(&mut self, e: WireError) {
        self.error.get_or_insert(e);
    }

    /// Starts a request line with `method`; the target follows with [`Head::target`] and the
    /// line ends with [`Head::end_request_line`].
    pub fn request(out: &'a mut Vec<u8>, method: &[u8]) -> Head<'a> {
        let start = out.len();
        let mut h = Head { out, start, error: None };
        if !is_token(method) {
            h.fail(WireError::Method);
        }
        h.out.extend_from_slice(method);
        h.out.push(b' ');
        h
    }

    /// A piece of the request target, percent-encoded where needed.
    pub fn target(&mut self, part: &[u8]) {
        push_target(self.out, part);
    }

    /// The bytes of the target written so far (from after the method).
    pub fn target_so_far(&self) -> &[u8] {
        let from =
            self.out[self.start..].iter().position(|b| *b == b' ').map_or(self.out.len(), |p| self.start + p + 1);
        &self.out[from..]
    }

    pub fn refuse(&mut self, e: WireError) {
        self.fail(e);
    }

    pub fn end_request_line(&mut self) {
        self.out.extend_from_slice(b" HTTP/1.1\r\n");
    }

    /// A status line; `reason` may be empty.
    pub fn status(out: &'a mut Vec<u8>, code: u16, reason: &[u8]) -> Head<'a> {
        let start = out.len();
        let mut h = Head { out, start, error: None };
        if !(100..=999).contains(&code) {
            h.fail(WireError::Status);
        }
        if !is_field_text(reason) {
            h.fail(WireError::Reason);
        }
        h.out.extend_from_slice(b"HTTP/1.1 ");
        h.out.extend_from_slice(itoa::Buffer::new().format(code).as_bytes());
        h.out.push(b' ');
        h.out.extend_from_slice(reason);
        h.out.extend_from_slice(b"\r\n");
        h
    }

    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if !is_token(name) {
            self.fail(WireError::HeaderName);
        }
        if !is_field_text(value) {
            self.fail(WireError::HeaderValue);
        }
        self.out.extend_from_slice(name);
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
    }

    /// A header whose value the gateway formats itself from typed data (numbers, ids, addresses),
    /// never from input: `write` appends the value. The name is still checked.
    pub fn gateway_header(&mut self, name: &'static [u8], write: impl FnOnce(&mut Vec<u8>)) {
        if !is_token(name) {
            self.fail(WireError::HeaderName);
        }
        self.out.extend_from_slice(name);
        self.out.extend_from_slice(b": ");
        let from = self.out.len();
        write(self.out);
        if !is_field_text(&self.out[from..]) {
            self.fail(WireError::HeaderValue);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    pub fn content_length(&mut self, n: u64) {
        self.gateway_header(b"content-length", |o| o.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()));
    }

    /// Ends the head (the empty line). On error nothing of this head stays in the buffer.
    pub fn finish(self) -> Result<(), WireError> {
        match self.error {
            Some(e) => {
                self.out.truncate(self.start);
                Err(e)
            }
            None => {
                self.out.extend_from_slice(b"\r\n");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_encoded_never_split() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"/a b", b"/a%20b"),
            (b"/a\r\nGET /x HTTP/1.1", b"/a%0D%0AGET%20/x%20HTTP/1.1"),
            (b"/a\0b", b"/a%00b"),
            (b"/%2e%zz%", b"/%2e%25zz%25"),
            (b"/q?x=1&y=[2]", b"/q?x=1&y=[2]"),
            (b"/\"<>\\^`{|}#", b"/%22%3C%3E%5C%5E%60%7B%7C%7D%23"),
            ("/é".as_bytes(), b"/%C3%A9"),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            push_target(&mut out, input);
            assert_eq!(out, *want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn token_bytes_are_rfc_9110_tchar() {
        let tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for b in 0..=255u8 {
            assert_eq!(is_tchar(b), tchar.as_bytes().contains(&b), "byte {b:#04x}");
        }
    }

    #[test]
    fn status_lines() {
        let ok: &[(u16, &[u8])] = &[(200, b"OK"), (599, b""), (999, b"x\ty \x80")];
        for (code, reason) in ok {
            let mut out = Vec::new();
            assert!(Head::status(&mut out, *code, reason).finish().is_ok());
        }
        let bad: &[(u16, &[u8], WireError)] = &[
            (99, b"X", WireError::Status),
            (1000, b"X", WireError::Status),
            (0, b"X", WireError::Status),
            (200, b"OK\r\nSet-Cookie: a=b", WireError::Reason),
            (200, b"O\nK", WireError::Reason),
            (200, b"O\0K", WireError::Reason),
        ];
        for (code, reason, e) in bad {
            let mut out = b"kept".to_vec();
            assert_eq!(Head::status(&mut out, *code, reason).finish(), Err(*e));
            assert_eq!(out, b"kept", "a refused head leaves nothing behind");
        }
    }

    type Case = (&'static [u8], &'static [u8], Result<(), WireError>);

    #[test]
    fn header_fields() {
        let cases: &[Case] = &[
            (b"x-a", b"1, 2\t3 \xff", Ok(())),
            (b"x-a", b"", Ok(())),
            (b"x a", b"1", Err(WireError::HeaderName)),
            (b"x:a", b"1", Err(WireError::HeaderName)),
            (b"", b"1", Err(WireError::HeaderName)),
            (b"x\r\nb", b"1", Err(WireError::HeaderName)),
            (b"x-a", b"1\r\nx-b: 2", Err(WireError::HeaderValue)),
            (b"x-a", b"1\n", Err(WireError::HeaderValue)),
            (b"x-a", b"1\0", Err(WireError::HeaderValue)),
            (b"x-a", b"\x7f", Err(WireError::HeaderValue)),
        ];
        for (name, value, want) in cases {
            let mut out = Vec::new();
            let mut h = Head::status(&mut out, 200, b"OK");
            h.header(name, value);
            assert_eq!(h.finish(), *want, "{:?}: {:?}", String::from_utf8_lossy(name), String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn request_lines() {
        let mut out = Vec::new();
        let mut h = Head::request(&mut out, b"GET");
        h.target(b"/a b?c=d e");
        assert_eq!(h.target_so_far(), b"/a%20b?c=d%20e");
        h.end_request_line();
        h.header(b"host", b"h");
        assert!(h.finish().is_ok());
        assert_eq!(out, b"GET /a%20b?c=d%20e HTTP/1.1\r\nhost: h\r\n\r\n");
        let mut out = Vec::new();
        let mut h = Head::request(&mut out, b"GET /x");
        h.end_request_line();
        assert_eq!(h.finish(), Err(WireError::Method));
    }
}

//! Response heads from backends, parsed into spans over the upstream read buffer.

use super::headers::{content_length, is_hop_by_hop, tokens};
use super::request::HeaderSpan;
use super::{Framing, Span, MAX_HEADERS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid response from the backend: {0}")]
pub struct BadResponse(pub &'static str);

#[derive(Clone, Debug, Default)]
pub struct ResponseHead {
    pub len: usize,
    pub status: u16,
    pub reason: Span,
    pub minor_version: u8,
    pub headers: Vec<HeaderSpan>,
    pub drop_mask: u128,
    pub framing: Framing,
    /// The backend will close (or must be closed) after this response.
    pub close: bool,
}

impl ResponseHead {
    /// `request_was_head`: a response to HEAD has no body whatever it says (monoio-http stalls here).
    pub fn parse(&mut self, buf: &[u8], request_was_head: bool) -> Result<Option<()>, BadResponse> {
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut res = httparse::Response::new(&mut raw);
        let len = match res.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(BadResponse("malformed response head")),
        };
        let (Some(status), Some(minor)) = (res.code, res.version) else {
            return Err(BadResponse("incomplete status line"));
        };
        if !(100..=999).contains(&status) {
            // RFC 9110 §15: a status code is three digits, 1xx to 5xx in use; `099` is not one.
            return Err(BadResponse("invalid status code"));
        }
        self.len = len;
        self.status = status;
        self.minor_version = minor;
        self.reason = Span::of(buf, res.reason.unwrap_or("").as_bytes());
        self.headers.clear();
        self.drop_mask = 0;
        self.close = minor == 0;
        let mut length = None;
        let mut chunked = false;
        let mut te = false;
        for (i, h) in res.headers.iter().enumerate() {
            self.headers.push(HeaderSpan { name: Span::of(buf, h.name.as_bytes()), value: Span::of(buf, h.value) });
            let name = h.name.as_bytes();
            if is_hop_by_hop(name) {
                self.drop_mask |= 1 << i;
            }
            if name.eq_ignore_ascii_case(b"content-length") {
                let n = content_length(h.value).ok_or(BadResponse("invalid Content-Length"))?;
                if length.is_some_and(|l| l != n) {
                    return Err(BadResponse("differing Content-Length headers"));
                }
                length = Some(n);
                self.drop_mask |= 1 << i;
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                te = true;
                chunked = tokens(h.value).last().is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case(b"connection") {
                for t in tokens(h.value) {
                    if t.eq_ignore_ascii_case(b"close") {
                        self.close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") && minor == 0 {
                        self.close = false;
                    }
                }
            }
        }
        for h in res.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("connection")) {
            for t in tokens(h.value) {
                for (j, other) in res.headers.iter().enumerate() {
                    if other.name.as_bytes().eq_ignore_ascii_case(t) {
                        self.drop_mask |= 1 << j;
                    }
                }
            }
        }
        let bodiless = request_was_head || (100..200).contains(&status) || status == 204 || status == 304;
        self.framing = if bodiless {
            Framing::None
        } else if te {
            // RFC 9112 §6.3: TE overrides CL; a non-chunked final coding reads until close.
            if chunked {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else {
            match length {
                Some(0) => Framing::None,
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        };
        if te && length.is_some() {
            // Ambiguous: never reuse this connection.
            self.close = true;
        }
        if self.framing == Framing::UntilClose {
            self.close = true;
        }
        // The length header is re-emitted by the writer; keep it for HEAD responses.
        if let (true, Some(_)) = (request_was_head, length) {
            for (i, h) in self.headers.iter().enumerate() {
                if h.name.get(buf).eq_ignore_ascii_case(b"content-length") {
                    self.drop_mask &= !(1 << i);
                }
            }
        }
        Ok(Some(()))
    }

    pub fn content_length_header(&self) -> bool {
        matches!(self.framing, Framing::Length(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8], head: bool) -> ResponseHead {
        let mut r = ResponseHead::default();
        r.parse(raw, head).expect("valid").expect("complete");
        r
    }

    #[test]
    fn framing_rules() {
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false).framing, Framing::Length(5));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).framing, Framing::None);
        assert_eq!(parse(b"HTTP/1.1 204 No Content\r\n\r\n", false).framing, Framing::None);
        assert_eq!(parse(b"HTTP/1.1 304 NM\r\nContent-Length: 9\r\n\r\n", false).framing, Framing::None);
        let r = parse(b"HTTP/1.1 200 OK\r\n\r\n", false);
        assert_eq!(r.framing, Framing::UntilClose);
        assert!(r.close);
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", false);
        assert_eq!(r.framing, Framing::Chunked);
        assert!(r.close);
        assert!(parse(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false).close);
    }
}

//! Request heads: parsed once into spans, checked for every framing ambiguity before anything is
//! forwarded (request smuggling: CL+TE, differing lengths, unknown codings, folding, bare CR).

use super::headers::{content_length, tokens, trim};
use super::{Framing, Span, MAX_HEADERS};

#[derive(Clone, Copy, Debug, Default)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
}

/// Why a head was refused; each maps to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("malformed request")]
    Malformed(&'static str),
    #[error("request header fields too large")]
    TooLarge,
    #[error("transfer coding not implemented")]
    UnsupportedCoding,
    #[error("expectation failed")]
    Expectation,
}

impl HeadError {
    pub fn status(self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::TooLarge => 431,
            HeadError::UnsupportedCoding => 501,
            HeadError::Expectation => 417,
        }
    }
}

/// A parsed request head; spans point into the connection buffer it was parsed from.
#[derive(Debug, Default)]
pub struct RequestHead {
    pub len: usize,
    pub method: Span,
    /// The path part of the target (origin form), without the query.
    pub path: Span,
    /// The query without '?', possibly empty.
    pub query: Span,
    pub minor_version: u8,
    pub headers: Vec<HeaderSpan>,
    /// Bit i set: header i is not forwarded (hop-by-hop, or named in `Connection`).
    pub drop_mask: u128,
    pub framing: Framing,
    /// The authority the request is for: the absolute-form target's when there is one (it wins
    /// over Host, RFC 9112 §3.2.2), else the Host header's.
    pub host: Option<Span>,
    /// The authority of an absolute-form target.
    pub authority: Option<Span>,
    pub close: bool,
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// An HTTP/1.1 request asking to switch to WebSocket (`Upgrade: websocket` and an `upgrade`
    /// token in `Connection`, RFC 6455 §4.1); only WebSocket APIs act on it.
    pub websocket: bool,
}

impl RequestHead {
    /// Parses `buf`. `Ok(None)` means the head is not complete yet.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<()>, HeadError> {
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut raw);
        let len = match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
            Err(httparse::Error::Version) => return Err(HeadError::Malformed("unsupported HTTP version")),
            Err(_) => return Err(HeadError::Malformed("malformed request head")),
        };
        let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
            return Err(HeadError::Malformed("incomplete request line"));
        };
        self.len = len;
        self.method = Span::of(buf, method.as_bytes());
        self.minor_version = minor;
        self.split_target(buf, target.as_bytes())?;
        self.headers.clear();
        for h in req.headers.iter() {
            self.headers.push(HeaderSpan { name: Span::of(buf, h.name.as_bytes()), value: Span::of(buf, h.value) });
        }
        self.check_headers(buf)?;
        Ok(Some(()))
    }

    fn split_target(&mut self, buf: &[u8], target: &[u8]) -> Result<(), HeadError> {
        self.authority = None;
        let path_start = if target.first() == Some(&b'/') {
            0
        } else if let Some(rest) = strip_scheme(target) {
            // Absolute form: the authority in the target wins over Host (RFC 9112 §3.2.2), for
            // routing and for everything that reads the host.
            let offset = target.len() - rest.len();
            let p = match rest.iter().position(|b| *b == b'/' || *b == b'?') {
                Some(p) => p,
                None => return Err(HeadError::Malformed("absolute target without a path")),
            };
            let authority = &rest[..p];
            if authority.is_empty() || authority.contains(&b'@') {
                return Err(HeadError::Malformed("absolute target needs a host and no userinfo"));
            }
            self.authority = Some(Span::of(buf, authority));
            offset + p
        } else {
            return Err(HeadError::Malformed("request target must be a path"));
        };
        let t = &target[path_start..];
        if t.first() != Some(&b'/') {
            return Err(HeadError::Malformed("request target must be a path"));
        }
        match memchr::memchr(b'?', t) {
            Some(q) => {
                self.path = Span::of(buf, &t[..q]);
                self.query = Span::of(buf, &t[q + 1..]);
            }
            None => {
                self.path = Span::of(buf, t);
                self.query = Span::of(buf, &t[t.len()..]);
            }
        }
        Ok(())
    }

    fn check_headers(&mut self, buf: &[u8]) -> Result<(), HeadError> {
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut te_seen = false;
        self.drop_mask = 0;
        self.host = None;
        self.close = self.minor_version == 0;
        self.keep_alive = false;
        self.expect_continue = false;
        self.websocket = false;
        let (mut upgrade_token, mut upgrade_websocket) = (false, false);
        let mut host_count = 0;
        for (i, h) in self.headers.iter().enumerate() {
            let name = h.name.get(buf);
            let value = h.value.get(buf);
            if super::headers::is_hop_by_hop(name) {
                self.drop_mask |= 1 << i;
            }
            if name.contains(&b'_') {
                // `Transfer_Encoding`, `X_Forwarded_For`: CGI-style backends read `_` as `-`, so
                // such a field could pose as one the gateway checks or sets. Dropped, as nginx
                // does by default (`underscores_in_headers off`).
                self.drop_mask |= 1 << i;
                continue;
            }
            if name.eq_ignore_ascii_case(b"content-length") {
                let n = content_length(value).ok_or(HeadError::Malformed("invalid Content-Length"))?;
                if length.is_some_and(|l| l != n) {
                    return Err(HeadError::Malformed("differing Content-Length headers"));
                }
                length = Some(n);
                self.drop_mask |= 1 << i; // re-emitted by the framing code
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                te_seen = true;
                for t in tokens(value) {
                    if chunked {
                        return Err(HeadError::Malformed("chunked must be the last transfer coding"));
                    }
                    if t.eq_ignore_ascii_case(b"chunked") {
                        chunked = true;
                    } else {
                        return Err(HeadError::UnsupportedCoding);
                    }
                }
            } else if name.eq_ignore_ascii_case(b"host") {
                host_count += 1;
                self.host = Some(h.value);
            } else if name.eq_ignore_ascii_case(b"connection") {
                for t in tokens(value) {
                    if t.eq_ignore_ascii_case(b"close") {
                        self.close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        self.keep_alive = true;
                    } else if t.eq_ignore_ascii_case(b"upgrade") {
                        upgrade_token = true;
                    }
                }
            } else if name.eq_ignore_ascii_case(b"upgrade") {
                upgrade_websocket |= tokens(value).any(|t| t.eq_ignore_ascii_case(b"websocket"));
            } else if name.eq_ignore_ascii_case(b"expect") {
                if trim(value).eq_ignore_ascii_case(b"100-continue") {
                    self.expect_continue = self.minor_version >= 1;
                    self.drop_mask |= 1 << i; // the gateway answers 100 itself
                } else {
                    return Err(HeadError::Expectation);
                }
            }
        }
        if self.minor_version == 0 && self.keep_alive {
            self.close = false;
        }
        self.websocket = upgrade_token && upgrade_websocket && self.minor_version >= 1;
        // Headers named in Connection are hop-by-hop too.
        for h in self.headers.iter().filter(|h| h.name.get(buf).eq_ignore_ascii_case(b"connection")) {
            for t in tokens(h.value.get(buf)) {
                for (j, other) in self.headers.iter().enumerate() {
                    if other.name.get(buf).eq_ignore_ascii_case(t) {
                        self.drop_mask |= 1 << j;
                    }
                }
            }
        }
        if host_count > 1 || (host_count == 0 && self.minor_version >= 1) {
            return Err(HeadError::Malformed("a request needs exactly one Host header"));
        }
        if self.authority.is_some() {
            self.host = self.authority;
        }
        self.framing = match (te_seen, length) {
            (true, Some(_)) => return Err(HeadError::Malformed("both Content-Length and Transfer-Encoding")),
            (true, None) if !chunked || self.minor_version == 0 => {
                return Err(HeadError::Malformed("transfer coding without chunked"))
            }
            (true, None) => Framing::Chunked,
            (false, Some(0)) | (false, None) => Framing::None,
            (false, Some(n)) => Framing::Length(n),
        };
        Ok(())
    }

    /// Normalises the path in place (see [`super::path`]): what routing, admission and the
    /// backend all see. A path that stays ambiguous is refused (400).
    pub fn normalise_path(&mut self, buf: &mut [u8]) -> Result<(), HeadError> {
        self.path = super::path::normalise_in_place(buf, self.path).map_err(|e| {
            HeadError::Malformed(match e {
                super::path::PathError::AboveRoot => "the path climbs above the root",
                super::path::PathError::HiddenDotSegment => "the path hides a dot-segment behind an encoded separator",
            })
        })?;
        Ok(())
    }

    /// The first value of a header the client sent (and the gateway would forward: names with
    /// underscores are dropped, so they are not seen here either).
    pub fn header<'a>(&self, buf: &'a [u8], lowercase_name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .enumerate()
            .find(|(i, h)| {
                h.name.get(buf).eq_ignore_ascii_case(lowercase_name.as_bytes()) && !self.underscored(buf, *i)
            })
            .map(|(_, h)| h.value.get(buf))
    }

    fn underscored(&self, buf: &[u8], i: usize) -> bool {
        self.headers.get(i).is_some_and(|h| h.name.get(buf).contains(&b'_'))
    }

    /// Methods a retry may repeat (RFC 9110 §9.2.2).
    pub fn is_idempotent(&self, buf: &[u8]) -> bool {
        matches!(self.method.get(buf), b"GET" | b"HEAD" | b"OPTIONS" | b"PUT" | b"DELETE" | b"TRACE")
    }

    pub fn is_head(&self, buf: &[u8]) -> bool {
        self.method.get(buf) == b"HEAD"
    }
}

fn strip_scheme(t: &[u8]) -> Option<&[u8]> {
    for scheme in [&b"http://"[..], b"https://"] {
        if t.len() > scheme.len() && t[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&t[scheme.len()..]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<RequestHead>, HeadError> {
        let mut h = RequestHead::default();
        Ok(h.parse(raw)?.map(|_| h))
    }

    #[test]
    fn parses_spans_and_framing() {
        let raw = b"POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close, x-foo\r\nX-Foo: 1\r\n\r\nhello";
        let h = parse(raw).expect("ok").expect("complete");
        assert_eq!(h.path.get(raw), b"/a/b");
        assert_eq!(h.query.get(raw), b"x=1");
        assert_eq!(h.framing, Framing::Length(5));
        assert!(h.close);
        assert_eq!(h.drop_mask, 0b1110, "content-length, connection and x-foo dropped");
        assert_eq!(h.len, raw.len() - 5);
    }

    #[test]
    fn websocket_handshakes_need_both_headers() {
        let ws = b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n";
        let h = parse(ws).expect("ok").expect("complete");
        assert!(h.websocket);
        assert_eq!(h.drop_mask, 0b110, "upgrade and connection are hop-by-hop");
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        ] {
            assert!(!parse(raw).expect("ok").expect("complete").websocket, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn partial_is_none() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").expect("ok").is_none());
    }

    #[test]
    fn smuggling_shapes_are_refused() {
        let bad: &[&[u8]] = &[
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\rX-B: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"GET http//x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
        ];
        for raw in bad {
            let r = parse(raw);
            assert!(matches!(r, Err(HeadError::Malformed(_))), "{:?}: {r:?}", String::from_utf8_lossy(raw));
        }
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n").err(),
            Some(HeadError::UnsupportedCoding)
        );
    }

    #[test]
    fn same_duplicate_length_is_accepted() {
        let h = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")
            .expect("ok")
            .expect("complete");
        assert_eq!(h.framing, Framing::Length(3));
    }

    #[test]
    fn http10_defaults_to_close() {
        let h = parse(b"GET / HTTP/1.0\r\n\r\n").expect("ok").expect("complete");
        assert!(h.close);
        let h = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").expect("ok").expect("complete");
        assert!(!h.close);
    }

    #[test]
    fn absolute_form_keeps_path() {
        let raw = b"GET http://x.y/p?q HTTP/1.1\r\nHost: x.y\r\n\r\n";
        let h = parse(raw).expect("ok").expect("complete");
        assert_eq!(h.path.get(raw), b"/p");
        assert_eq!(h.query.get(raw), b"q");
    }

    #[test]
    fn absolute_form_authority_wins_over_host() {
        let raw = b"GET http://a.example:81/p HTTP/1.1\r\nHost: b.example\r\n\r\n";
        let h = parse(raw).expect("ok").expect("complete");
        assert_eq!(h.host.map(|s| s.get(raw)), Some(&b"a.example:81"[..]));
        for bad in [&b"GET http:///p HTTP/1.1\r\nHost: b\r\n\r\n"[..], b"GET http://u@a/p HTTP/1.1\r\nHost: b\r\n\r\n"]
        {
            assert!(matches!(parse(bad), Err(HeadError::Malformed(_))), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn underscored_names_are_dropped_not_obeyed() {
        let raw = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\nContent_Length: 5\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n";
        let h = parse(raw).expect("ok").expect("complete");
        assert_eq!(h.framing, Framing::None, "underscored names are not framing");
        assert_eq!(h.drop_mask, 0b1110);
        assert_eq!(h.header(raw, "x_forwarded_for"), None);
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        let mut raw = b"GET /a/%2e%2e/b/./c?x=/../ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        let mut h = RequestHead::default();
        h.parse(&raw).expect("ok").expect("complete");
        h.normalise_path(&mut raw).expect("normalised");
        assert_eq!(h.path.get(&raw), b"/b/c");
        assert_eq!(h.query.get(&raw), b"x=/../");
        let mut raw = b"GET /a/..%2F..%2Fb HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        h.parse(&raw).expect("ok").expect("complete");
        assert!(matches!(h.normalise_path(&mut raw), Err(HeadError::Malformed(_))));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;

    /// Arbitrary bytes and mutated valid heads never panic, and a head that parses is always
    /// internally consistent (spans inside the buffer, framing decided).
    #[test]
    fn arbitrary_input_never_panics() {
        let seeds: &[&[u8]] = &[
            b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close, te\r\n\r\n",
            b"GET http://h/p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut head = RequestHead::default();
        for i in 0..20_000 {
            let mut input: Vec<u8> = if i % 2 == 0 {
                let len = rng.usize(0..256);
                (0..len).map(|_| rng.u8(..)).collect()
            } else {
                seeds[i % seeds.len()].to_vec()
            };
            for _ in 0..rng.usize(0..6) {
                if input.is_empty() {
                    break;
                }
                let at = rng.usize(0..input.len());
                match rng.u8(0..3) {
                    0 => input[at] = rng.u8(..),
                    1 => input.insert(at, *rng.choice(b"\r\n :,;\t\0".iter()).unwrap_or(&b'x')),
                    _ => {
                        input.remove(at);
                    }
                }
            }
            if let Ok(Some(())) = head.parse(&input) {
                assert!(head.len <= input.len());
                for h in &head.headers {
                    assert!(h.name.end as usize <= head.len && h.value.end as usize <= head.len);
                }
            }
        }
    }
}

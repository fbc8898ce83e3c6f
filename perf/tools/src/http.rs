//! Minimal HTTP/1.1 client pieces for the load generator: target URL parsing,
//! request encoding and a response reader that keeps leftover bytes.

use std::io::{self, Read};
use std::net::{SocketAddr, ToSocketAddrs};

/// Longest response head (or chunk-size line) accepted before giving up.
const MAX_HEAD: usize = 1024 * 1024;
const MAX_HEADERS: usize = 64;

/// A parsed `http://host:port/path` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub addr: SocketAddr,
    /// `host:port` as written in the URL (sent as the `Host` header).
    pub authority: String,
    /// Path plus query, always starting with `/`.
    pub path: String,
}

/// Parse a plain-HTTP URL. The host must resolve to an IPv4 address.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest =
        url.strip_prefix("http://").ok_or_else(|| format!("unsupported URL {url:?}: only http:// is supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("URL {url:?} has no host"));
    }
    let with_port = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority:?}: {e}"))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| format!("{authority:?} has no IPv4 address"))?;
    Ok(Target { addr, authority: authority.to_string(), path: path.to_string() })
}

/// Encode the GET request sent for every scheduled request.
/// `headers` are `Name: value` strings; a user-supplied `Host` replaces the default.
pub fn build_request(target: &Target, headers: &[String]) -> Result<Vec<u8>, String> {
    let mut req = format!("GET {} HTTP/1.1\r\n", target.path);
    let mut has_host = false;
    let mut extra = String::new();
    for h in headers {
        let (name, value) = h.split_once(':').ok_or_else(|| format!("bad header {h:?}: expected \"Name: value\""))?;
        let name = name.trim();
        if name.is_empty() || h.contains(['\r', '\n']) {
            return Err(format!("bad header {h:?}"));
        }
        has_host |= name.eq_ignore_ascii_case("host");
        extra.push_str(&format!("{name}: {}\r\n", value.trim()));
    }
    if !has_host {
        req.push_str(&format!("Host: {}\r\n", target.authority));
    }
    req.push_str(&extra);
    req.push_str("\r\n");
    Ok(req.into_bytes())
}

/// What the load generator needs to know about one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body_len: usize,
    /// The server will close the connection after this response.
    pub close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads whole responses from a byte stream with one reused buffer.
/// Bytes read past the end of a response stay buffered for the next one.
pub struct ResponseReader {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::with_capacity(64 * 1024)
    }
}

impl ResponseReader {
    pub fn with_capacity(cap: usize) -> Self {
        Self { buf: vec![0; cap.max(16)], pos: 0, end: 0 }
    }

    /// Drop buffered bytes (after reconnecting).
    pub fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
    }

    /// Number of bytes buffered but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.end - self.pos
    }

    /// Read one complete response (skipping 1xx interim responses) and discard its body.
    pub fn read_response<R: Read>(&mut self, r: &mut R) -> io::Result<Response> {
        loop {
            let (status, framing, close) = self.read_head(r)?;
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let body_len = match framing {
                Framing::Empty => 0,
                Framing::Length(n) => {
                    self.skip(n, r)?;
                    n
                }
                Framing::Chunked => self.skip_chunked(r)?,
                Framing::UntilClose => self.skip_until_eof(r)?,
            };
            let close = close || framing == Framing::UntilClose;
            return Ok(Response { status, body_len, close });
        }
    }

    fn read_head<R: Read>(&mut self, r: &mut R) -> io::Result<(u16, Framing, bool)> {
        loop {
            if let Some((len, head)) = parse_head(&self.buf[self.pos..self.end])? {
                self.pos += len;
                return Ok(head);
            }
            if !self.fill(r)? {
                return Err(eof("connection closed before a complete response head"));
            }
        }
    }

    /// Read more bytes into the buffer, compacting or growing it as needed.
    /// Returns false at end of stream.
    fn fill<R: Read>(&mut self, r: &mut R) -> io::Result<bool> {
        if self.pos == self.end {
            self.clear();
        } else if self.end == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            } else if self.buf.len() >= MAX_HEAD {
                return Err(invalid("response head or chunk line too long"));
            } else {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        loop {
            match r.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn skip<R: Read>(&mut self, mut n: usize, r: &mut R) -> io::Result<()> {
        loop {
            let take = n.min(self.buffered());
            self.pos += take;
            n -= take;
            if n == 0 {
                return Ok(());
            }
            if !self.fill(r)? {
                return Err(eof("connection closed in the middle of a body"));
            }
        }
    }

    fn skip_until_eof<R: Read>(&mut self, r: &mut R) -> io::Result<usize> {
        let mut total = 0;
        loop {
            total += self.buffered();
            self.clear();
            if !self.fill(r)? {
                return Ok(total);
            }
        }
    }

    /// Consume one CRLF- (or LF-) terminated line; returns its range in `buf` without the terminator.
    fn read_line<R: Read>(&mut self, r: &mut R) -> io::Result<std::ops::Range<usize>> {
        let mut scanned = 0;
        loop {
            let avail = &self.buf[self.pos + scanned..self.end];
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                let start = self.pos;
                let mut stop = self.pos + scanned + i;
                self.pos = stop + 1;
                if stop > start && self.buf[stop - 1] == b'\r' {
                    stop -= 1;
                }
                return Ok(start..stop);
            }
            scanned = self.buffered();
            if !self.fill(r)? {
                return Err(eof("connection closed in the middle of a chunked body"));
            }
        }
    }

    fn skip_chunked<R: Read>(&mut self, r: &mut R) -> io::Result<usize> {
        let mut total = 0usize;
        loop {
            let line = self.read_line(r)?;
            let size = parse_chunk_size(&self.buf[line])?;
            if size == 0 {
                // Trailer section: header lines until an empty line.
                while !self.read_line(r)?.is_empty() {}
                return Ok(total);
            }
            self.skip(size, r)?;
            total = total.saturating_add(size);
            if !self.read_line(r)?.is_empty() {
                return Err(invalid("missing CRLF after chunk data"));
            }
        }
    }
}

/// Parse a complete response head; `Ok(None)` if more bytes are needed.
/// Returns the head length, status, body framing and whether the connection will close.
#[allow(clippy::type_complexity)]
fn parse_head(data: &[u8]) -> io::Result<Option<(usize, (u16, Framing, bool))>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(data) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("bad response head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let mut close = resp.version == Some(0);
    let mut length = None;
    let mut chunked = false;
    for h in resp.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value.trim().parse::<usize>().map_err(|_| invalid(&format!("bad Content-Length {value:?}")))?;
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") && resp.version == Some(0) {
                    close = false;
                }
            }
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok(Some((len, (status, framing, close))))
}

fn parse_chunk_size(line: &[u8]) -> io::Result<usize> {
    let text = std::str::from_utf8(line).map_err(|_| invalid("bad chunk size line"))?;
    let hex = text.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(hex, 16).map_err(|_| invalid(&format!("bad chunk size {text:?}")))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn eof(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its data in fixed-size pieces.
    struct Pieces {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn pieces(data: &[u8], step: usize) -> Pieces {
        Pieces { data: data.to_vec(), pos: 0, step }
    }

    fn ok(status: u16, body_len: usize) -> Response {
        Response { status, body_len, close: false }
    }

    #[test]
    fn content_length_response() {
        let data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut rr = ResponseReader::default();
        let resp = rr.read_response(&mut pieces(data, 1 << 20)).unwrap();
        assert_eq!(resp, ok(200, 5));
        assert_eq!(rr.buffered(), 0);
    }

    #[test]
    fn chunked_response_with_extension_and_trailer() {
        let data = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n\
                     4;ext=1\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n";
        let mut rr = ResponseReader::default();
        let resp = rr.read_response(&mut pieces(data, 1 << 20)).unwrap();
        assert_eq!(resp, ok(404, 14));
        assert_eq!(rr.buffered(), 0);
    }

    #[test]
    fn large_body_split_across_many_reads_with_small_buffer() {
        let body = vec![b'x'; 256 * 1024];
        let mut data = b"HTTP/1.1 200 OK\r\nContent-Length: 262144\r\n\r\n".to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..4 {
            data.extend_from_slice(b"10000\r\n");
            data.extend_from_slice(&body[..0x10000]);
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b"0\r\n\r\n");
        for step in [1, 7, 1000, 1 << 20] {
            let mut rr = ResponseReader::with_capacity(64);
            let mut src = pieces(&data, step);
            assert_eq!(rr.read_response(&mut src).unwrap(), ok(200, 256 * 1024));
            assert_eq!(rr.read_response(&mut src).unwrap(), ok(200, 256 * 1024));
            assert_eq!(rr.buffered(), 0, "step {step}");
        }
    }

    #[test]
    fn leftover_bytes_are_kept_for_the_next_response() {
        let data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\
                     HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n\
                     HTTP/1.1 204 No Content\r\n\r\n\
                     HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!";
        let mut rr = ResponseReader::default();
        let mut src = pieces(data, 1 << 20);
        assert_eq!(rr.read_response(&mut src).unwrap(), ok(200, 2));
        assert!(rr.buffered() > 0, "second response must stay buffered");
        assert_eq!(rr.read_response(&mut src).unwrap(), ok(503, 0));
        assert_eq!(rr.read_response(&mut src).unwrap(), ok(204, 0));
        assert_eq!(rr.read_response(&mut src).unwrap(), ok(201, 1));
        assert_eq!(rr.buffered(), 0);
    }

    #[test]
    fn close_delimited_and_connection_close() {
        let data = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil the end";
        let mut rr = ResponseReader::default();
        let resp = rr.read_response(&mut pieces(data, 3)).unwrap();
        assert_eq!(resp, Response { status: 200, body_len: 13, close: true });
        let data = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        let resp = rr.read_response(&mut pieces(data, 3)).unwrap();
        assert!(resp.close);
    }

    #[test]
    fn truncated_and_malformed_responses_are_errors() {
        let mut rr = ResponseReader::default();
        let err = rr.read_response(&mut pieces(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 4)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        rr.clear();
        let err = rr.read_response(&mut pieces(b"garbage\r\n\r\n", 64)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn url_and_request() {
        let t = parse_url("http://127.0.0.1:8080/1k?x=1").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.path, "/1k?x=1");
        let t2 = parse_url("http://127.0.0.1:9").unwrap();
        assert_eq!(t2.path, "/");
        assert!(parse_url("https://127.0.0.1/").is_err());
        let req = build_request(&t, &["X-Api-Key: abc".into()]).unwrap();
        assert_eq!(req, b"GET /1k?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Api-Key: abc\r\n\r\n");
        let req = build_request(&t, &["host: example".into()]).unwrap();
        assert_eq!(req, b"GET /1k?x=1 HTTP/1.1\r\nhost: example\r\n\r\n");
        assert!(build_request(&t, &["no colon".into()]).is_err());
    }
}

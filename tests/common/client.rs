//! A raw HTTP/1.1 client over std TcpStream: arbitrary bytes out, one response
//! in (content-length, chunked, until-close, HEAD/204/304), keep-alive reuse and
//! close detection with a deadline.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::Fnv64;

pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// Value sent as `Host` by the convenience methods.
    pub host: String,
}

#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// The body when stored (see [`Conn::read_response_opts`]); empty otherwise.
    pub body: Vec<u8>,
    pub body_len: u64,
    pub body_fnv: String,
    pub chunked: bool,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.body[..self.body.len().min(2000)];
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(shown))
            .field("body_len", &self.body_len)
            .finish()
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("response body is not JSON ({e}): {self:?}"))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        Conn { stream, buf: Vec::new(), host: addr.to_string() }
    }

    pub fn set_read_timeout(&self, d: Duration) {
        self.stream.set_read_timeout(Some(d)).unwrap();
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Send a request built from parts. Adds `Host` unless given, and
    /// `Content-Length` when a body is given and no framing header is.
    pub fn send_request(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req = format!("{method} {target} HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            req.push_str(&format!("Host: {}\r\n", self.host));
        }
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        let framed = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding"));
        if !framed && (!body.is_empty() || method == "POST" || method == "PUT") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes).unwrap_or_else(|e| panic!("sending {method} {target}: {e}"));
    }

    /// Send a request and read its response (body stored).
    pub fn request(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.send_request(method, target, headers, body);
        self.read_response(method == "HEAD").unwrap_or_else(|e| panic!("reading response to {method} {target}: {e}"))
    }

    /// Send a request and read its response without storing the body
    /// (length and checksum only).
    pub fn request_nostore(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send_request(method, target, headers, b"");
        self.read_response_opts(method == "HEAD", false)
            .unwrap_or_else(|e| panic!("reading response to {method} {target}: {e}"))
    }

    pub fn get(&mut self, target: &str) -> Response {
        self.request("GET", target, &[], b"")
    }

    pub fn get_with(&mut self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", target, headers, b"")
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 64 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    pub fn read_response(&mut self, head_request: bool) -> io::Result<Response> {
        self.read_response_opts(head_request, true)
    }

    /// Read one response. 1xx interim responses are skipped. When `store` is
    /// false the body is only counted and checksummed (large downloads).
    pub fn read_response_opts(&mut self, head_request: bool, store: bool) -> io::Result<Response> {
        loop {
            let resp = self.read_head()?;
            if (100..200).contains(&resp.status) {
                continue;
            }
            return self.read_body(resp, head_request, store);
        }
    }

    fn read_head(&mut self) -> io::Result<Response> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 128];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let resp = Response {
                        status: parsed.code.unwrap_or(0),
                        reason: parsed.reason.unwrap_or("").to_string(),
                        headers: parsed
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                        body: Vec::new(),
                        body_len: 0,
                        body_fnv: String::new(),
                        chunked: false,
                    };
                    self.buf.drain(..len);
                    return Ok(resp);
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => {
                    return Err(invalid(format!("bad response head ({e}): {:?}", String::from_utf8_lossy(&self.buf))))
                }
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "connection closed before a complete response head (had {:?})",
                        String::from_utf8_lossy(&self.buf)
                    ),
                ));
            }
        }
    }

    fn read_body(&mut self, mut resp: Response, head_request: bool, store: bool) -> io::Result<Response> {
        let mut h = Fnv64::default();
        let mut len = 0u64;
        let mut body = Vec::new();
        let mut sink = |data: &[u8]| {
            h.update(data);
            len += data.len() as u64;
            if store {
                body.extend_from_slice(data);
            }
        };
        let te_chunked =
            resp.header("transfer-encoding").map(|v| v.to_ascii_lowercase().contains("chunked")).unwrap_or(false);
        if head_request || resp.status == 204 || resp.status == 304 {
            // no body
        } else if te_chunked {
            resp.chunked = true;
            loop {
                let line = self.read_line()?;
                let size_str = line.split(';').next().unwrap_or("").trim();
                let size =
                    u64::from_str_radix(size_str, 16).map_err(|_| invalid(format!("bad chunk size line {line:?}")))?;
                if size == 0 {
                    // trailers until an empty line
                    loop {
                        if self.read_line()?.is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let mut left = size;
                while left > 0 {
                    if self.buf.is_empty() && self.fill()? == 0 {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside a chunk"));
                    }
                    let n = (left as usize).min(self.buf.len());
                    sink(&self.buf[..n]);
                    self.buf.drain(..n);
                    left -= n as u64;
                }
                if !self.read_line()?.is_empty() {
                    return Err(invalid("missing CRLF after chunk data"));
                }
            }
        } else if let Some(cl) = resp.header("content-length") {
            let mut left: u64 = cl.trim().parse().map_err(|_| invalid(format!("bad content-length {cl:?}")))?;
            while left > 0 {
                if self.buf.is_empty() && self.fill()? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("closed with {left} body bytes missing"),
                    ));
                }
                let n = (left as usize).min(self.buf.len());
                sink(&self.buf[..n]);
                self.buf.drain(..n);
                left -= n as u64;
            }
        } else {
            // delimited by close
            loop {
                if !self.buf.is_empty() {
                    let data = std::mem::take(&mut self.buf);
                    sink(&data);
                }
                if self.fill()? == 0 {
                    break;
                }
            }
        }
        resp.body = body;
        resp.body_len = len;
        resp.body_fnv = h.hex();
        Ok(resp)
    }

    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > 64 * 1024 {
                return Err(invalid("line too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed inside a line"));
            }
        }
    }

    /// Wait until the peer closes (read returns 0 or the connection is reset).
    /// Returns the bytes received meanwhile, or Err(bytes) on timeout.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<Vec<u8>, Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut got = std::mem::take(&mut self.buf);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(got);
            }
            self.stream.set_read_timeout(Some((deadline - now).max(Duration::from_millis(1)))).unwrap();
            let mut tmp = [0u8; 16 * 1024];
            match self.stream.read(&mut tmp) {
                Ok(0) => return Ok(got),
                Ok(n) => got.extend_from_slice(&tmp[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Err(got),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(got), // reset counts as closed
            }
        }
    }

    /// True when a response has (at least partly) arrived, without blocking.
    pub fn has_data(&mut self) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        self.stream.set_nonblocking(true).unwrap();
        let mut tmp = [0u8; 1];
        let r = self.stream.peek(&mut tmp);
        self.stream.set_nonblocking(false).unwrap();
        matches!(r, Ok(n) if n > 0)
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// One request on a fresh connection.
pub fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Response {
    Conn::connect(addr).request("GET", target, headers, b"")
}

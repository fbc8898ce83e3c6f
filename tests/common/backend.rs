//! Test backends: threaded std::net servers on 127.0.0.1:0 that count
//! connections and requests and answer by the first known path segment
//! anywhere in the path (so a `serviceUrl` prefix like `/api-a` is allowed):
//!
//! - `…/echo…` (and anything unknown): JSON describing the request received
//!   (`method`, `path` (path+query), `headers` as `[[name,value],…]`,
//!   `bodyLength`, `bodyFnv` (FNV-1a 64, hex), `connection` (index on this backend))
//! - `…/upload`: same as echo (the body is streamed and checksummed, never stored)
//! - `…/bytes/N`: N pattern bytes with content-length; `…/chunked/N`: the same, chunked
//! - `…/slow/MS`: sleep MS, then echo
//! - `…/status/N`: answer N (no body for 204/304, echo JSON otherwise)
//! - `…/head`: 1234 pattern bytes (headers only for HEAD)
//! - `…/truncate/N`: declares N bytes, sends N/2, closes
//! - HEAD on anything: the GET head without its body

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{fill_pattern, Fnv64};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendMode {
    /// Keep-alive HTTP/1.1.
    Normal,
    /// Close each connection after one response, without saying `Connection: close`.
    CloseAfterResponse,
    /// Read the request head, then reset the connection (SO_LINGER 0).
    Reset,
    /// Read a whole request, then write these bytes as they are (a malformed answer) and close.
    Canned(&'static [u8]),
    /// As `Canned`, in two writes 300 ms apart (a fault after the head was relayed).
    CannedInTwo(&'static [u8], &'static [u8]),
    /// Answers these bytes as soon as the request head is read, without waiting for the body
    /// (a backend refusing an upload early), then reads and drops what still comes and closes.
    EarlyReply(&'static [u8]),
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
pub struct Stats {
    /// Accepted connections.
    pub connections: AtomicUsize,
    /// Request heads parsed.
    pub heads: AtomicUsize,
    /// Complete requests (head and well-framed body) received.
    pub requests: AtomicUsize,
    pub seen: Mutex<Vec<Seen>>,
    /// Every byte received, on every connection, in arrival order.
    pub raw: Mutex<Vec<u8>>,
}

pub struct Backend {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    tls: bool,
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

impl Backend {
    pub fn start(mode: BackendMode) -> Backend {
        Self::spawn(mode, None)
    }

    pub fn normal() -> Backend {
        Self::start(BackendMode::Normal)
    }

    /// A TLS backend (serves what [`Backend::normal`] serves).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Backend {
        Self::spawn(BackendMode::Normal, Some(config))
    }

    fn spawn(mode: BackendMode, tls: Option<Arc<rustls::ServerConfig>>) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let is_tls = tls.is_some();
        {
            let stats = stats.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = conn else { continue };
                    let index = stats.connections.fetch_add(1, Ordering::SeqCst);
                    let stats = stats.clone();
                    let tls = tls.clone();
                    std::thread::spawn(move || {
                        tcp.set_read_timeout(Some(Duration::from_secs(60))).ok();
                        tcp.set_nodelay(true).ok();
                        let ctl = tcp.try_clone().unwrap();
                        match tls {
                            None => serve(tcp, &ctl, mode, &stats, index),
                            Some(cfg) => {
                                let conn = rustls::ServerConnection::new(cfg).unwrap();
                                serve(rustls::StreamOwned::new(conn, tcp), &ctl, mode, &stats, index)
                            }
                        }
                    });
                }
            });
        }
        Backend { addr, stats, stop, tls: is_tls }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT` (`https://localhost:PORT` for TLS).
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::SeqCst)
    }
    pub fn heads(&self) -> usize {
        self.stats.heads.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.stats.seen.lock().unwrap().clone()
    }
    /// Every byte the backend received.
    pub fn raw(&self) -> Vec<u8> {
        self.stats.raw.lock().unwrap().clone()
    }
    /// The request lines in what the backend received: every CRLF-ended line that ends in an
    /// HTTP version, wherever it stands (a smuggled second request shows up here).
    pub fn raw_request_lines(&self) -> Vec<String> {
        let raw = self.raw();
        raw.split(|b| *b == b'\n')
            .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
            .filter(|l| l.contains(" HTTP/1."))
            .collect()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

struct Reader<'a, S> {
    s: S,
    buf: Vec<u8>,
    raw: &'a Mutex<Vec<u8>>,
}

impl<S: Read> Reader<'_, S> {
    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 64 * 1024];
        let n = self.s.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        self.raw.lock().unwrap().extend_from_slice(&tmp[..n]);
        Ok(n)
    }
    fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = self.buf[..p].to_vec();
                self.buf.drain(..p + 2);
                return Ok(l);
            }
            if self.buf.len() > 8192 || self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad line"));
            }
        }
    }
    /// Consume exactly n bytes into the hasher.
    fn body(&mut self, mut n: u64, h: &mut Fnv64) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
            }
            let k = (n as usize).min(self.buf.len());
            h.update(&self.buf[..k]);
            self.buf.drain(..k);
            n -= k as u64;
        }
        Ok(())
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    version: u8,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn serve<S: Read + Write>(s: S, ctl: &TcpStream, mode: BackendMode, stats: &Stats, index: usize) {
    let mut r = Reader { s, buf: Vec::new(), raw: &stats.raw };
    loop {
        // head
        let req = loop {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut p = httparse::Request::new(&mut hs);
            match p.parse(&r.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let req = Req {
                        method: p.method.unwrap_or("").to_string(),
                        target: p.path.unwrap_or("").to_string(),
                        headers: p
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                        version: p.version.unwrap_or(1),
                    };
                    r.buf.drain(..len);
                    break req;
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => {
                    let _ = respond_simple(&mut r.s, 400, "bad request");
                    return;
                }
            }
            match r.fill() {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if r.buf.len() > 1 << 20 {
                return;
            }
        };
        stats.heads.fetch_add(1, Ordering::SeqCst);
        stats.seen.lock().unwrap().push(Seen {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
        });
        if let BackendMode::EarlyReply(reply) = mode {
            let _ = r.s.write_all(reply);
            let _ = r.s.flush();
            while matches!(r.fill(), Ok(n) if n > 0) {
                r.buf.clear();
                r.raw.lock().unwrap().clear(); // the dropped upload is not kept
            }
            return;
        }
        if mode == BackendMode::Reset {
            let _ = socket2::SockRef::from(ctl).set_linger(Some(Duration::ZERO));
            return;
        }
        // body
        let mut h = Fnv64::default();
        let mut len = 0u64;
        let chunked =
            req.header("transfer-encoding").map(|v| v.to_ascii_lowercase().contains("chunked")).unwrap_or(false);
        let framed: io::Result<()> = (|| {
            if chunked {
                loop {
                    let line = r.line()?;
                    let line = String::from_utf8_lossy(&line).into_owned();
                    let size = u64::from_str_radix(line.split(';').next().unwrap().trim(), 16)
                        .map_err(|_| bad("chunk size"))?;
                    if size == 0 {
                        while !r.line()?.is_empty() {}
                        return Ok(());
                    }
                    r.body(size, &mut h)?;
                    len += size;
                    if !r.line()?.is_empty() {
                        return Err(bad("chunk crlf"));
                    }
                }
            } else if let Some(cl) = req.header("content-length") {
                let n: u64 = cl.trim().parse().map_err(|_| bad("content-length"))?;
                r.body(n, &mut h)?;
                len = n;
                Ok(())
            } else {
                Ok(())
            }
        })();
        if framed.is_err() {
            let _ = respond_simple(&mut r.s, 400, "bad body");
            return;
        }
        stats.requests.fetch_add(1, Ordering::SeqCst);
        if let BackendMode::Canned(reply) | BackendMode::CannedInTwo(reply, _) = mode {
            let _ = r.s.write_all(reply);
            let _ = r.s.flush();
            if let BackendMode::CannedInTwo(_, rest) = mode {
                std::thread::sleep(Duration::from_millis(300)); // the scenario: a later fault
                let _ = r.s.write_all(rest);
                let _ = r.s.flush();
            }
            let _ = ctl.shutdown(Shutdown::Both);
            return;
        }
        let client_close =
            req.header("connection").map(|v| v.to_ascii_lowercase().contains("close")).unwrap_or(req.version == 0);
        if respond(&mut r.s, &req, len, &h, index).is_err() {
            return;
        }
        let _ = r.s.flush();
        if client_close || mode == BackendMode::CloseAfterResponse {
            let _ = ctl.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn respond_simple<W: Write>(w: &mut W, status: u16, msg: &str) -> io::Result<()> {
    write!(w, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}", msg.len())?;
    w.flush()
}

fn endpoint(target: &str) -> (&'static str, Option<String>) {
    let path = target.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path.split('/').collect();
    for (i, s) in segs.iter().enumerate() {
        let name = match *s {
            "echo" => "echo",
            "upload" => "echo",
            "bytes" => "bytes",
            "chunked" => "chunked",
            "slow" => "slow",
            "status" => "status",
            "head" => "head",
            "truncate" => "truncate",
            "redirect" => "redirect",
            _ => continue,
        };
        return (name, segs.get(i + 1).map(|a| a.to_string()));
    }
    ("echo", None)
}

fn echo_json(req: &Req, len: u64, h: &Fnv64, index: usize) -> Vec<u8> {
    let headers: Vec<serde_json::Value> = req.headers.iter().map(|(n, v)| serde_json::json!([n, v])).collect();
    serde_json::to_vec(&serde_json::json!({
        "method": req.method,
        "path": req.target,
        "headers": headers,
        "bodyLength": len,
        "bodyFnv": h.hex(),
        "connection": index,
    }))
    .unwrap()
}

fn respond<W: Write>(w: &mut W, req: &Req, len: u64, h: &Fnv64, index: usize) -> io::Result<()> {
    let head_only = req.method == "HEAD";
    let (ep, arg) = endpoint(&req.target);
    let num = |d: u64| arg.as_deref().and_then(|a| a.parse::<u64>().ok()).unwrap_or(d);
    match ep {
        "bytes" | "head" | "chunked" => {
            let n = if ep == "head" { 1234 } else { num(0) };
            let chunked = ep == "chunked";
            if chunked {
                write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                )?;
            } else {
                write!(w, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n\r\n")?;
            }
            if head_only {
                return Ok(());
            }
            let mut buf = vec![0u8; 64 * 1024];
            let mut off = 0u64;
            let mut i = 0usize;
            while off < n {
                // vary chunk sizes so boundaries move around
                let want = if i % 3 == 2 { 1000 } else { buf.len() };
                let k = ((n - off) as usize).min(want);
                fill_pattern(off, &mut buf[..k]);
                if chunked {
                    write!(w, "{k:x}\r\n")?;
                    w.write_all(&buf[..k])?;
                    w.write_all(b"\r\n")?;
                } else {
                    w.write_all(&buf[..k])?;
                }
                off += k as u64;
                i += 1;
            }
            if chunked {
                w.write_all(b"0\r\n\r\n")?;
            }
            Ok(())
        }
        "truncate" => {
            // declares N bytes, sends half, and the caller closes the connection
            let n = num(1000);
            write!(w, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n")?;
            let mut buf = vec![0u8; (n / 2) as usize];
            fill_pattern(0, &mut buf);
            w.write_all(&buf)?;
            w.flush()?;
            Err(io::Error::other("truncated on purpose"))
        }
        "redirect" => {
            // /redirect/<code>?to=<location|self>: a redirect for forward-request follow-redirects.
            let code = num(302);
            let query = req.target.split_once('?').map_or("", |(_, q)| q);
            let to = match query.split('&').find_map(|p| p.strip_prefix("to=")).unwrap_or("/echo") {
                "self" => req.target.as_str(), // a loop
                other => other,
            };
            write!(w, "HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")?;
            Ok(())
        }
        "status" => {
            let code = num(200) as u16;
            if code == 204 || code == 304 {
                write!(w, "HTTP/1.1 {code} X\r\nX-Backend: yes\r\n\r\n")?;
                return Ok(());
            }
            let body = echo_json(req, len, h, index);
            write!(w, "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len())?;
            if !head_only {
                w.write_all(&body)?;
            }
            Ok(())
        }
        _ => {
            if ep == "slow" {
                std::thread::sleep(Duration::from_millis(num(1000)));
            }
            let body = echo_json(req, len, h, index);
            write!(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len())?;
            if !head_only {
                w.write_all(&body)?;
            }
            Ok(())
        }
    }
}

/// Header value from an echo JSON (`headers` list), case-insensitive; all values.
pub fn echoed_headers(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .unwrap_or_else(|| panic!("not an echo body: {echo}"))
        .iter()
        .filter(|pair| pair[0].as_str().unwrap_or("").eq_ignore_ascii_case(name))
        .map(|pair| pair[1].as_str().unwrap_or("").to_string())
        .collect()
}

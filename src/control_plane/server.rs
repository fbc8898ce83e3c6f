//! The control plane's HTTP/1.1 server: a thread per connection (a fleet's gateways poll every
//! few seconds; this is not a data plane), our codec for heads, TLS unless told otherwise.
//!
//! Budgets: a request head must arrive whole within [`Limits::head_time`] and
//! [`Limits::max_head`] bytes; the caller is then authenticated from the head alone, and a
//! request that is not authenticated (or goes nowhere) is answered and the connection closed
//! without reading a byte of its body. Only then is the body read, up to the cap of its call
//! (the document upload's is `--max-document-bytes`, the others' [`Limits::max_small_body`])
//! and within [`Limits::body_time`].

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::api::{self, Request};
use super::store::Store;
use crate::http::chunked::ChunkedScanner;
use crate::http::request::RequestHead;
use crate::http::write::{content_length, header, reason, status_line};
use crate::http::Framing;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_head: usize,
    pub head_time: Duration,
    /// Bodies of the calls other than the document upload (heartbeats, tokens, keys).
    pub max_small_body: u64,
    pub max_document_bytes: u64,
    pub body_time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 16 * 1024,
            head_time: Duration::from_secs(10),
            max_small_body: 64 * 1024,
            max_document_bytes: super::DEFAULT_MAX_DOCUMENT_BYTES,
            body_time: Duration::from_secs(120),
        }
    }
}

/// A plain or TLS connection.
trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

/// Why reading stopped.
enum ReadEnd {
    /// The peer closed or the connection failed: nothing to answer.
    Gone,
    /// The deadline passed: 408.
    Late,
}

struct Conn {
    io: Box<dyn Io>,
    /// The socket, for read timeouts (shared with `io`).
    tcp: TcpStream,
}

impl Conn {
    /// Reads more into `buf` before `deadline`.
    fn read_more(&mut self, buf: &mut Vec<u8>, chunk: &mut [u8], deadline: Instant) -> Result<(), ReadEnd> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadEnd::Late);
        }
        let _ = self.tcp.set_read_timeout(Some(left));
        match self.io.read(chunk) {
            Ok(0) => Err(ReadEnd::Gone),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Err(ReadEnd::Late)
            }
            Err(_) => Err(ReadEnd::Gone),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> bool {
        self.io.write_all(bytes).is_ok() && self.io.flush().is_ok()
    }
}

pub fn serve(stream: TcpStream, tls: Option<Arc<rustls::ServerConfig>>, store: &Store, key: &str, limits: Limits) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let Ok(tcp) = stream.try_clone() else { return };
    let io: Box<dyn Io> = match tls {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(c) => Box::new(rustls::StreamOwned::new(c, stream)),
            Err(_) => return,
        },
        None => Box::new(stream),
    };
    let mut conn = Conn { io, tcp };
    serve_conn(&mut conn, store, key, limits);
}

fn serve_conn(conn: &mut Conn, store: &Store, admin_key: &str, limits: Limits) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut head = RequestHead::default();
    loop {
        // The head's clock starts when its first byte is awaited (an idle kept-alive
        // connection gets the same budget, then is closed).
        let deadline = Instant::now() + limits.head_time;
        loop {
            match head.parse(&buf) {
                Ok(Some(())) => break,
                Ok(None) if buf.len() < limits.max_head => {}
                Ok(None) => return reply_error(conn, 431),
                Err(_) => return reply_error(conn, 400),
            }
            match conn.read_more(&mut buf, &mut chunk, deadline) {
                Ok(()) => {}
                Err(ReadEnd::Late) if !buf.is_empty() => return reply_error(conn, 408),
                Err(_) => return,
            }
        }
        let text = |s: crate::http::Span| String::from_utf8_lossy(s.get(&buf)).into_owned();
        let mut req = Request {
            method: text(head.method),
            path: text(head.path),
            headers: head.headers.iter().map(|h| (text(h.name), text(h.value))).collect(),
            body: Vec::new(),
        };
        // Authenticated from the head alone: a refused caller's body is never read.
        let cap = match api::authorize(store, admin_key, &req, &limits) {
            Ok(cap) => cap,
            Err(resp) => {
                write_response(conn, &resp, true);
                return;
            }
        };
        let mut used = head.len;
        let deadline = Instant::now() + limits.body_time;
        match head.framing {
            Framing::Length(n) if n > cap => return reply_error(conn, 413),
            Framing::Length(n) => {
                let end = head.len + n as usize;
                while buf.len() < end {
                    match conn.read_more(&mut buf, &mut chunk, deadline) {
                        Ok(()) => {}
                        Err(ReadEnd::Late) => return reply_error(conn, 408),
                        Err(ReadEnd::Gone) => return,
                    }
                }
                req.body = buf[head.len..end].to_vec();
                used = end;
            }
            Framing::Chunked => {
                let mut scanner = ChunkedScanner::default();
                let mut at = head.len;
                loop {
                    match scanner.scan(&buf[at..], |d| req.body.extend_from_slice(d)) {
                        Ok(k) => at += k,
                        Err(_) => return reply_error(conn, 400),
                    }
                    if req.body.len() as u64 > cap {
                        return reply_error(conn, 413);
                    }
                    if scanner.is_done() {
                        break;
                    }
                    // What was scanned is in `req.body`: keep only the unscanned tail.
                    buf.drain(head.len..at);
                    at = head.len;
                    match conn.read_more(&mut buf, &mut chunk, deadline) {
                        Ok(()) => {}
                        Err(ReadEnd::Late) => return reply_error(conn, 408),
                        Err(ReadEnd::Gone) => return,
                    }
                }
                used = at;
            }
            Framing::None | Framing::UntilClose => {}
        }
        let close = head.close;
        buf.drain(..used);
        let resp = api::handle(store, admin_key, &req);
        if !write_response(conn, &resp, close) || close {
            return;
        }
    }
}

fn write_response(conn: &mut Conn, resp: &api::Response, close: bool) -> bool {
    let mut out = Vec::with_capacity(resp.body.len() + 256);
    status_line(&mut out, resp.status, reason(resp.status).as_bytes());
    for (k, v) in &resp.headers {
        header(&mut out, k.as_bytes(), v.as_bytes());
    }
    if resp.status != 204 && resp.status != 304 {
        content_length(&mut out, resp.body.len() as u64);
    }
    if close {
        header(&mut out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&resp.body);
    conn.send(&out)
}

fn reply_error(conn: &mut Conn, status: u16) {
    let mut out = Vec::new();
    crate::http::write::error_response(&mut out, status, reason(status), true, false);
    let _ = conn.send(&out);
}

//! The control plane's HTTP/1.1 server: a thread per connection (a fleet's gateways poll every
//! few seconds; this is not a data plane), our codec for heads, size limits and read timeouts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use super::api::{self, Request};
use super::store::Store;
use crate::http::chunked::ChunkedScanner;
use crate::http::request::RequestHead;
use crate::http::write::{content_length, header, reason, status_line};
use crate::http::Framing;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: u64 = 64 << 20;

pub fn serve(mut stream: TcpStream, store: Arc<Store>, admin_key: Arc<str>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut head = RequestHead::default();
    loop {
        loop {
            match head.parse(&buf) {
                Ok(Some(())) => break,
                Ok(None) if buf.len() < MAX_HEAD => {}
                _ => return reply_error(&mut stream, 400),
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let text = |s: crate::http::Span| String::from_utf8_lossy(s.get(&buf)).into_owned();
        let mut req = Request {
            method: text(head.method),
            path: text(head.path),
            headers: head.headers.iter().map(|h| (text(h.name), text(h.value))).collect(),
            body: Vec::new(),
        };
        let mut used = head.len;
        match head.framing {
            Framing::Length(n) if n > MAX_BODY => return reply_error(&mut stream, 413),
            Framing::Length(n) => {
                let end = head.len + n as usize;
                while buf.len() < end {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
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
                        Err(_) => return reply_error(&mut stream, 400),
                    }
                    if scanner.is_done() {
                        break;
                    }
                    if req.body.len() as u64 > MAX_BODY {
                        return reply_error(&mut stream, 413);
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                used = at;
            }
            Framing::None | Framing::UntilClose => {}
        }
        let close = head.close;
        buf.drain(..used);
        let resp = api::handle(&store, &admin_key, &req);
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
        if stream.write_all(&out).is_err() || close {
            return;
        }
    }
}

fn reply_error(stream: &mut TcpStream, status: u16) {
    let mut out = Vec::new();
    crate::http::write::error_response(&mut out, status, reason(status), true, false);
    let _ = stream.write_all(&out);
}

//! The admin port (loopback by default): `/status` JSON and `/metrics` in Prometheus text.
//! Served by its own small thread, far from the workers' event loops. It takes no request
//! bodies (a request announcing one is answered 413 and the connection closed, unread), a
//! head must arrive whole within [`HEAD_TIME`], and at most [`MAX_CONNECTIONS`] are served
//! at once.

pub mod metrics;
pub mod status;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::node::NodeState;

/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 64;
/// The time a request head has to arrive whole.
const HEAD_TIME: Duration = Duration::from_secs(10);

pub fn spawn(listener: TcpListener, node: Arc<NodeState>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("gw-admin".into()).spawn(move || {
        let open = Arc::new(AtomicUsize::new(0));
        for stream in listener.incoming().flatten() {
            if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                open.fetch_sub(1, Ordering::AcqRel);
                continue; // dropped: closed unread
            }
            let (node, done) = (node.clone(), open.clone());
            // Scrapes are rare and small; a thread each keeps a slow client from blocking others.
            let spawned = std::thread::Builder::new().name("gw-admin-conn".into()).spawn(move || {
                serve(stream, &node);
                done.fetch_sub(1, Ordering::AcqRel);
            });
            if spawned.is_err() {
                open.fetch_sub(1, Ordering::AcqRel);
            }
        }
    })
}

fn serve(mut stream: TcpStream, node: &NodeState) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let deadline = Instant::now() + HEAD_TIME;
        let (path, head_len, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let close = req.version == Some(0)
                        || req.headers.iter().any(|h| {
                            h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close")
                        });
                    let has_body = req.headers.iter().any(|h| {
                        h.name.eq_ignore_ascii_case("transfer-encoding")
                            || (h.name.eq_ignore_ascii_case("content-length") && h.value.iter().any(|b| *b != b'0'))
                    });
                    if has_body {
                        let mut out = Vec::new();
                        crate::http::write::error_response(
                            &mut out,
                            413,
                            "the admin port takes no request bodies",
                            true,
                            false,
                        );
                        let _ = stream.write_all(&out);
                        return;
                    }
                    break (req.path.unwrap_or("/").to_string(), n, close);
                }
                Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => {}
                _ => return,
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let _ = stream.set_read_timeout(Some(left));
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..head_len);
        let path = path.split('?').next().unwrap_or("/");
        let (status, ctype, body) = match path {
            "/status" => {
                let s = status::render(node);
                (if s.1 { 200 } else { 503 }, "application/json", s.0)
            }
            "/metrics" => (200, "text/plain; version=0.0.4; charset=utf-8", metrics::render(node)),
            _ => (404, "application/json", "{\"statusCode\":404,\"message\":\"Resource not found\"}".to_string()),
        };
        let mut out = Vec::with_capacity(body.len() + 128);
        crate::http::write::simple_response(&mut out, status, ctype.as_bytes(), body.as_bytes(), close, false);
        if stream.write_all(&out).is_err() || close {
            return;
        }
    }
}

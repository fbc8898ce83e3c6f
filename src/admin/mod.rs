//! The admin port (loopback by default): `/status` JSON and `/metrics` in Prometheus text.
//! Served by its own small thread, far from the workers' event loops.

pub mod metrics;
pub mod status;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::node::NodeState;

pub fn spawn(listener: TcpListener, node: Arc<NodeState>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("gw-admin".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            let node = node.clone();
            // Scrapes are rare and small; a thread each keeps a slow client from blocking others.
            let _ = std::thread::Builder::new().name("gw-admin-conn".into()).spawn(move || serve(stream, &node));
        }
    })
}

fn serve(mut stream: TcpStream, node: &NodeState) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let (path, head_len, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let close = req.version == Some(0)
                        || req.headers.iter().any(|h| {
                            h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close")
                        });
                    break (req.path.unwrap_or("/").to_string(), n, close);
                }
                Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => {}
                _ => return,
            }
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

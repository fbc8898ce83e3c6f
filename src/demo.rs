//! The built-in demo: with no configuration source at all, an echo backend on loopback and an
//! `echo` API in front of it (like APIM's Echo API), with a fresh subscription key each start.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::http::chunked::ChunkedScanner;
use crate::http::request::RequestHead;
use crate::http::write::{json_escape_into, simple_response};
use crate::http::Framing;

pub struct Demo {
    pub document: Vec<u8>,
    pub key: String,
}

/// Starts the echo backend and returns the document that fronts it.
pub fn start() -> std::io::Result<Demo> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::Builder::new().name("demo-echo".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = std::thread::Builder::new().name("demo-echo-conn".into()).spawn(move || echo(stream));
        }
    })?;
    let key: String = (0..32).map(|_| fastrand::alphanumeric()).collect();
    let document = format!(
        r#"{{"revision":"demo","apis":[{{"id":"echo","name":"Echo API","path":"echo","serviceUrl":"http://127.0.0.1:{port}"}}],
"products":[{{"id":"starter","name":"Starter","apis":["echo"]}}],
"subscriptions":[{{"id":"demo","name":"Demo subscription","scope":"/products/starter","primaryKey":"{key}","state":"active"}}]}}"#
    );
    Ok(Demo { document: document.into_bytes(), key })
}

const MAX_BODY: usize = 1 << 20;

fn echo(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let mut head = RequestHead::default();
    loop {
        while !matches!(head.parse(&buf), Ok(Some(()))) {
            if head.parse(&buf).is_err() || buf.len() > 64 * 1024 {
                return;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let mut body = Vec::new();
        let mut used = head.len;
        match head.framing {
            Framing::Length(n) if n as usize <= MAX_BODY => {
                while buf.len() < head.len + n as usize {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                body.extend_from_slice(&buf[head.len..head.len + n as usize]);
                used += n as usize;
            }
            Framing::Chunked => {
                let mut scanner = ChunkedScanner::default();
                let mut at = head.len;
                loop {
                    match scanner.scan(&buf[at..], |d| body.extend_from_slice(d)) {
                        Ok(k) => at += k,
                        Err(_) => return,
                    }
                    if scanner.is_done() || body.len() > MAX_BODY {
                        break;
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                used = at;
            }
            Framing::None | Framing::UntilClose => {}
            Framing::Length(_) => return,
        }
        let json = describe(&head, &buf, &body);
        let mut out = Vec::with_capacity(json.len() + 128);
        simple_response(&mut out, 200, b"application/json", json.as_bytes(), head.close, head.is_head(&buf));
        if stream.write_all(&out).is_err() || head.close {
            return;
        }
        buf.drain(..used);
    }
}

fn describe(head: &RequestHead, buf: &[u8], body: &[u8]) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut s = String::from("{\"method\":\"");
    json_escape_into(&mut s, &text(head.method.get(buf)));
    s.push_str("\",\"path\":\"");
    json_escape_into(&mut s, &text(head.path.get(buf)));
    s.push_str("\",\"query\":\"");
    json_escape_into(&mut s, &text(head.query.get(buf)));
    s.push_str("\",\"headers\":{");
    for (i, h) in head.headers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        json_escape_into(&mut s, &text(h.name.get(buf)).to_ascii_lowercase());
        s.push_str("\":\"");
        json_escape_into(&mut s, &text(h.value.get(buf)));
        s.push('"');
    }
    s.push_str("},\"body\":\"");
    json_escape_into(&mut s, &text(body));
    s.push_str("\"}\n");
    s
}

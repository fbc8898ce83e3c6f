//! A fast HTTP/1.1 origin for the performance lab (perf/lab.py).
//!
//! Question it serves: "how much does the proxy in front of me cost?" It must
//! therefore cost as little as possible itself: one monoio thread (io_uring,
//! epoll fallback), keep-alive, responses pre-rendered once at start-up, one
//! read buffer per connection reused for every request, no allocation per
//! request.
//!
//! Paths: `/` (5 bytes), `/128` (128 bytes), `/1k`, `/16k`, `/64k`, `/256k` (1024 × n bytes), any
//! other path answers 404. Query strings are ignored. GET, HEAD and POST/PUT
//! (the request body, framed by `content-length`, is read and discarded).
//! `transfer-encoding` request bodies are refused with 501 and the connection
//! closes. `connection: close` and HTTP/1.0 (without `connection:
//! keep-alive`) close after the response.
//!
//! Usage: `bench_backend 127.0.0.1:9000`

use std::net::SocketAddr;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{ListenerOpts, TcpListener, TcpStream};

/// Read buffer per connection; a request head larger than this gets 431.
const BUF_CAP: usize = 64 * 1024;
const MAX_HEADERS: usize = 32;

/// One pre-rendered response: the whole message and where its body starts
/// (HEAD writes only `bytes[..head_len]`).
#[derive(Clone, Copy)]
struct Canned {
    bytes: &'static [u8],
    head_len: usize,
}

impl Canned {
    fn new(status: &str, body: &[u8], close: bool) -> Canned {
        let mut v = format!(
            "HTTP/1.1 {status}\r\nserver: bench_backend\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{}\r\n",
            body.len(),
            if close { "connection: close\r\n" } else { "" }
        )
        .into_bytes();
        let head_len = v.len();
        v.extend_from_slice(body);
        Canned { bytes: Box::leak(v.into_boxed_slice()), head_len }
    }
}

/// Keep-alive and closing variants of one response.
#[derive(Clone, Copy)]
struct Pair {
    keep: Canned,
    close: Canned,
}

impl Pair {
    fn new(status: &str, body: &[u8]) -> Pair {
        Pair { keep: Canned::new(status, body, false), close: Canned::new(status, body, true) }
    }
}

struct Routes {
    root: Pair,
    k1: Pair,
    b128: Pair,
    k16: Pair,
    k64: Pair,
    k256: Pair,
    not_found: Pair,
    bad_request: Canned,
    too_large: Canned,
    not_impl: Canned,
}

fn body(n: usize) -> Vec<u8> {
    // Printable and slightly varied so that nothing along the way can cheat
    // with a constant pattern, and a truncated body is easy to see.
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

impl Routes {
    fn build() -> &'static Routes {
        let r = Routes {
            root: Pair::new("200 OK", b"hello"),
            k1: Pair::new("200 OK", &body(1024)),
            b128: Pair::new("200 OK", &body(128)),
            k16: Pair::new("200 OK", &body(16 * 1024)),
            k64: Pair::new("200 OK", &body(64 * 1024)),
            k256: Pair::new("200 OK", &body(256 * 1024)),
            not_found: Pair::new("404 Not Found", b"not found"),
            bad_request: Canned::new("400 Bad Request", b"bad request", true),
            too_large: Canned::new("431 Request Header Fields Too Large", b"head too large", true),
            not_impl: Canned::new("501 Not Implemented", b"chunked request bodies not supported", true),
        };
        Box::leak(Box::new(r))
    }

    fn lookup(&self, path: &[u8]) -> Pair {
        let path = match memchr::memchr(b'?', path) {
            Some(q) => &path[..q],
            None => path,
        };
        match path {
            b"/" => self.root,
            b"/128" => self.b128,
            b"/1k" => self.k1,
            b"/16k" => self.k16,
            b"/64k" => self.k64,
            b"/256k" => self.k256,
            _ => self.not_found,
        }
    }
}

/// What one parsed request head asks of the connection loop.
struct Head {
    consumed: usize,
    response: Canned,
    head_only: bool,
    body_len: u64,
    close: bool,
}

enum Parsed {
    Complete(Head),
    Partial,
    /// Answer this and close the connection.
    Fatal(Canned),
}

fn parse(buf: &[u8], routes: &Routes) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let consumed = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Fatal(routes.bad_request),
    };
    let http10 = req.version == Some(0);
    let mut close = http10;
    let mut body_len = 0u64;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            match std::str::from_utf8(h.value).ok().and_then(|s| s.trim().parse::<u64>().ok()) {
                Some(n) => body_len = n,
                None => return Parsed::Fatal(routes.bad_request),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Parsed::Fatal(routes.not_impl);
        } else if name.eq_ignore_ascii_case(b"connection") {
            let v = h.value;
            if contains_token(v, b"close") {
                close = true;
            } else if http10 && contains_token(v, b"keep-alive") {
                // The canned keep-alive responses are HTTP/1.1 without a
                // connection header; HTTP/1.0 clients that asked for
                // keep-alive still get it (ab does).
                close = false;
            }
        }
    }
    let pair = routes.lookup(req.path.unwrap_or("/").as_bytes());
    let response = if close { pair.close } else { pair.keep };
    let head_only = req.method == Some("HEAD");
    Parsed::Complete(Head { consumed, response, head_only, body_len, close })
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Serve one connection until the peer closes, an error, or a closing response.
async fn serve_conn(mut stream: TcpStream, routes: &'static Routes) {
    let mut buf: Vec<u8> = Vec::with_capacity(BUF_CAP);
    loop {
        // Parse whatever is buffered; read more only when the head is partial.
        let head = loop {
            if !buf.is_empty() {
                match parse(&buf, routes) {
                    Parsed::Complete(h) => break h,
                    Parsed::Partial if buf.len() < BUF_CAP => {}
                    Parsed::Partial => {
                        let _ = stream.write_all(routes.too_large.bytes).await;
                        return;
                    }
                    Parsed::Fatal(c) => {
                        let _ = stream.write_all(c.bytes).await;
                        return;
                    }
                }
            }
            let len = buf.len();
            let (res, slice) = stream.read(buf.slice_mut(len..BUF_CAP)).await;
            buf = slice.into_inner();
            match res {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };

        // Discard the request body: first what is already buffered, then read
        // and drop the rest (reusing the same buffer).
        let mut start = head.consumed;
        let mut remaining = head.body_len;
        let in_buf = ((buf.len() - start) as u64).min(remaining) as usize;
        start += in_buf;
        remaining -= in_buf as u64;
        buf.copy_within(start.., 0);
        buf.truncate(buf.len() - start);
        while remaining > 0 {
            // buf is empty here: everything buffered belonged to the body.
            let (res, b) = stream.read(buf).await;
            buf = b;
            let n = match res {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let take = (n as u64).min(remaining) as usize;
            remaining -= take as u64;
            buf.copy_within(take.., 0);
            buf.truncate(n - take);
        }

        let out = if head.head_only { &head.response.bytes[..head.response.head_len] } else { head.response.bytes };
        let (res, _) = stream.write_all(out).await;
        if res.is_err() || head.close {
            return;
        }
    }
}

async fn serve(addr: SocketAddr) {
    let routes = Routes::build();
    // No SO_REUSEPORT (monoio's default): a second process on the same port
    // must fail loudly instead of silently splitting the load.
    let opts = ListenerOpts::new().reuse_port(false).backlog(4096);
    let listener = TcpListener::bind_with_config(addr, &opts).unwrap_or_else(|e| {
        eprintln!("bench_backend: cannot bind {addr}: {e}");
        std::process::exit(2);
    });
    eprintln!("bench_backend: listening on {}", listener.local_addr().map(|a| a.to_string()).unwrap_or_default());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                monoio::spawn(serve_conn(stream, routes));
            }
            Err(e) => {
                // EMFILE and friends: keep serving the connections we have.
                eprintln!("bench_backend: accept: {e}");
                monoio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

fn main() {
    let addr: SocketAddr = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(a)) => a,
        _ => {
            eprintln!("usage: bench_backend 127.0.0.1:9000");
            std::process::exit(2);
        }
    };
    let forced_legacy = std::env::var_os("BENCH_BACKEND_LEGACY").is_some();
    if !forced_legacy {
        match monoio::RuntimeBuilder::<monoio::IoUringDriver>::new().with_entries(4096).enable_timer().build() {
            Ok(mut rt) => {
                eprintln!("bench_backend: driver io_uring");
                rt.block_on(serve(addr));
                return;
            }
            Err(e) => eprintln!("bench_backend: io_uring unavailable ({e}), falling back to epoll"),
        }
    }
    let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
        .expect("bench_backend: cannot build the epoll runtime");
    eprintln!("bench_backend: driver epoll (legacy)");
    rt.block_on(serve(addr));
}

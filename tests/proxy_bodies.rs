//! Bodies through the gateway: 100 MiB up and down (content-length and chunked)
//! with matching checksums and bounded gateway memory; small bodies; HEAD, 204, 304.

mod common;

use common::*;

const BIG: u64 = 100 * 1024 * 1024;
const RSS_LIMIT: u64 = 128 * 1024 * 1024;

fn start() -> (Backend, Gateway) {
    let b = Backend::normal();
    let gw = Gateway::start(
        &format!(
            r#"{{"revision":"r1","apis":[{{"id":"b","path":"b","serviceUrl":"{}/be","subscriptionRequired":false}}]}}"#,
            b.url()
        ),
        &[],
    );
    (b, gw)
}

fn upload(c: &mut Conn, len: u64, chunked: bool) -> Response {
    let framing = if chunked { "Transfer-Encoding: chunked".to_string() } else { format!("Content-Length: {len}") };
    c.send(format!("POST /b/upload HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n").as_bytes()).unwrap();
    let mut buf = vec![0u8; 256 * 1024 + 17];
    let mut off = 0u64;
    while off < len {
        let n = ((len - off) as usize).min(buf.len());
        fill_pattern(off, &mut buf[..n]);
        if chunked {
            c.send(format!("{n:x}\r\n").as_bytes()).unwrap();
            c.send(&buf[..n]).unwrap();
            c.send(b"\r\n").unwrap();
        } else {
            c.send(&buf[..n]).unwrap_or_else(|e| panic!("upload failed at byte {off}: {e}"));
        }
        off += n as u64;
    }
    if chunked {
        c.send(b"0\r\n\r\n").unwrap();
    }
    c.read_response(false).unwrap()
}

#[test]
fn upload_100mib_content_length_and_chunked() {
    let (b, gw) = start();
    let want = pattern_fnv(BIG);
    let mut c = Conn::connect(gw.http_addr());
    for chunked in [false, true] {
        let r = upload(&mut c, BIG, chunked);
        assert_eq!(r.status, 200, "chunked={chunked}: {r:?}");
        let v = r.json();
        assert_eq!(v["bodyLength"].as_u64(), Some(BIG), "chunked={chunked}: {v}");
        assert_eq!(v["bodyFnv"].as_str(), Some(want.as_str()), "chunked={chunked}: checksum");
    }
    assert_eq!(b.requests(), 2);
    let rss = gw.peak_rss();
    eprintln!("gateway peak RSS: {} MiB", rss >> 20);
    assert!(rss < RSS_LIMIT, "gateway peak RSS {} MiB ≥ 128 MiB", rss >> 20);
}

#[test]
fn download_100mib_content_length_and_chunked() {
    let (_b, gw) = start();
    let want = pattern_fnv(BIG);
    let mut c = Conn::connect(gw.http_addr());
    for path in [format!("/b/bytes/{BIG}"), format!("/b/chunked/{BIG}")] {
        let r = c.request_nostore("GET", &path, &[]);
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.body_len, BIG, "{path}: length");
        assert_eq!(r.body_fnv, want, "{path}: checksum");
    }
    let rss = gw.peak_rss();
    eprintln!("gateway peak RSS: {} MiB", rss >> 20);
    assert!(rss < RSS_LIMIT, "gateway peak RSS {} MiB ≥ 128 MiB", rss >> 20);
}

#[test]
fn small_bodies_both_framings() {
    let (b, gw) = start();
    let mut c = Conn::connect(gw.http_addr());
    // content-length upload
    let r = c.request("POST", "/b/upload", &[], b"hello world");
    let v = r.json();
    assert_eq!(v["bodyLength"], 11);
    assert_eq!(v["bodyFnv"], fnv_hex(b"hello world"));
    // chunked upload, several chunks, with an extension and a trailer
    c.send(
        b"POST /b/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    .unwrap();
    let v = c.read_response(false).unwrap().json();
    assert_eq!(v["bodyLength"], 11, "{v}");
    assert_eq!(v["bodyFnv"], fnv_hex(b"hello world"));
    // empty POST
    let v = c.request("POST", "/b/upload", &[], b"").json();
    assert_eq!(v["bodyLength"], 0);
    // small downloads, both framings
    let r = c.get("/b/bytes/1000");
    assert_eq!((r.status, r.body_len), (200, 1000));
    assert_eq!(r.body_fnv, pattern_fnv(1000));
    let r = c.get("/b/chunked/70000");
    assert_eq!((r.status, r.body_len), (200, 70000));
    assert_eq!(r.body_fnv, pattern_fnv(70000));
    let r = c.get("/b/bytes/0");
    assert_eq!((r.status, r.body_len), (200, 0));
    // all on one client connection
    let v = c.get("/b/echo").json();
    assert_eq!(v["method"], "GET");
    assert_eq!(b.requests(), 7);
}

#[test]
fn head_204_304_have_no_body_and_keep_the_connection() {
    let (b, gw) = start();
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(std::time::Duration::from_secs(10));
    let r = c.request("HEAD", "/b/head", &[], b"");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-length"), Some("1234"), "HEAD keeps the GET length: {r:?}");
    let r = c.request("HEAD", "/b/chunked/5000", &[], b"");
    assert_eq!(r.status, 200, "{r:?}");
    let r = c.get("/b/status/204");
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(r.header("x-backend"), Some("yes"));
    let r = c.get_with("/b/status/304", &[("If-None-Match", "\"x\"")]);
    assert_eq!(r.status, 304, "{r:?}");
    // no stray body bytes: the next response on the same connection parses
    let r = c.get("/b/head");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_len, 1234);
    assert_eq!(r.body_fnv, pattern_fnv(1234));
    assert!(!c.has_data(), "extra bytes after the last response");
    assert_eq!(b.requests(), 5);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (b, gw) = start();
    let mut c = Conn::connect(gw.http_addr());
    c.send(
        b"GET /b/echo/first HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /b/upload/second HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
          GET /b/bytes/3000 HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    let r1 = c.read_response(false).unwrap();
    assert_eq!(r1.json()["path"], "/be/echo/first", "{r1:?}");
    let r2 = c.read_response(false).unwrap();
    assert_eq!(r2.json()["path"], "/be/upload/second", "{r2:?}");
    assert_eq!(r2.json()["bodyLength"], 5);
    let r3 = c.read_response(false).unwrap();
    assert_eq!((r3.status, r3.body_len), (200, 3000));
    assert_eq!(b.requests(), 3);
}

/// Assumption (APIM/HTTP behaviour): `Expect: 100-continue` gets an interim
/// `100 Continue` before the client sends the body.
#[test]
fn expect_100_continue_upload() {
    let (_b, gw) = start();
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(std::time::Duration::from_secs(5));
    c.send(b"POST /b/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        assert!(std::time::Instant::now() < deadline, "no interim response: {:?}", String::from_utf8_lossy(&got));
        let mut tmp = [0u8; 256];
        use std::io::Read;
        let n = c.stream.read(&mut tmp).expect("an interim 100 Continue");
        assert!(n > 0, "closed before 100 Continue");
        got.extend_from_slice(&tmp[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 100"), "expected 100 Continue, got {:?}", String::from_utf8_lossy(&got));
    c.send(b"hello world").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["bodyLength"], 11);
    assert_eq!(r.json()["bodyFnv"], fnv_hex(b"hello world"));
}

#[test]
fn http10_client_gets_no_chunked_response() {
    let (_b, gw) = start();
    let mut c = Conn::connect(gw.http_addr());
    c.send(b"GET /b/chunked/70000 HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert!(!r.chunked, "chunked response to an HTTP/1.0 client: {r:?}");
    assert_eq!(r.body_len, 70000);
    assert_eq!(r.body_fnv, pattern_fnv(70000));
}

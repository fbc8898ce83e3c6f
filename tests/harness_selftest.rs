//! The harness checked against itself: backends and the raw client, no gateway.

mod common;

use common::backend::echoed_headers;
use common::*;
use std::time::Duration;

#[test]
fn echo_reports_method_path_headers_and_body() {
    let b = Backend::normal();
    let mut c = Conn::connect(b.addr);
    let r = c.request("POST", "/pre/echo/x?y=1", &[("X-Test", "v")], b"hello");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/pre/echo/x?y=1");
    assert_eq!(v["bodyLength"], 5);
    assert_eq!(v["bodyFnv"], fnv_hex(b"hello"));
    assert_eq!(echoed_headers(&v, "x-test"), vec!["v".to_string()]);
    // keep-alive reuse
    let r2 = c.get("/echo");
    assert_eq!(r2.status, 200);
    assert_eq!(b.connections(), 1);
    assert_eq!(b.requests(), 2);
}

#[test]
fn bytes_chunked_head_204_304_framing() {
    let b = Backend::normal();
    let mut c = Conn::connect(b.addr);
    let n = 3_000_017u64;
    let r = c.get("/bytes/3000017");
    assert_eq!(r.body_len, n);
    assert_eq!(r.body_fnv, pattern_fnv(n));
    assert!(!r.chunked);
    let r = c.get("/chunked/3000017");
    assert!(r.chunked);
    assert_eq!(r.body_len, n);
    assert_eq!(r.body_fnv, pattern_fnv(n));
    let r = c.request("HEAD", "/head", &[], b"");
    assert_eq!(r.header("content-length"), Some("1234"));
    assert_eq!(r.body_len, 0);
    assert_eq!(c.get("/status/204").status, 204);
    assert_eq!(c.get("/status/304").status, 304);
    let r = c.get("/head");
    assert_eq!(r.body_len, 1234);
    assert_eq!(b.connections(), 1);
}

#[test]
fn chunked_upload_is_decoded() {
    let b = Backend::normal();
    let mut c = Conn::connect(b.addr);
    c.send(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    .unwrap();
    let v = c.read_response(false).unwrap().json();
    assert_eq!(v["bodyLength"], 11);
    assert_eq!(v["bodyFnv"], fnv_hex(b"hello world"));
}

#[test]
fn close_after_response_mode_closes_silently() {
    let b = Backend::start(BackendMode::CloseAfterResponse);
    let mut c = Conn::connect(b.addr);
    let r = c.get("/echo");
    assert_eq!(r.status, 200);
    assert!(r.header("connection").is_none());
    assert!(c.wait_closed(Duration::from_secs(5)).is_ok());
}

#[test]
fn reset_mode_resets() {
    let b = Backend::start(BackendMode::Reset);
    let mut c = Conn::connect(b.addr);
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(c.read_response(false).is_err());
    assert_eq!(b.heads(), 1);
    assert_eq!(b.requests(), 0);
}

#[test]
fn slow_endpoint_delays() {
    let b = Backend::normal();
    let t = std::time::Instant::now();
    let r = common::client::get(b.addr, "/slow/300", &[]);
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[test]
fn tls_backend_serves_with_test_ca() {
    let pki = common::tls::TestPki::generate();
    let b = Backend::start_tls(pki.server_config());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(pki.ca_der.clone())).unwrap();
    let cfg =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(cfg), "localhost".try_into().unwrap()).unwrap();
    let tcp = std::net::TcpStream::connect(b.addr).unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    use std::io::{Read, Write};
    s.write_all(b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn metric_parser() {
    let text = "# HELP x\nringgate_requests_total{api=\"a\",operation=\"o\",code_class=\"2xx\"} 3\nringgate_worker_requests_total{worker=\"1\"} 7\n";
    assert_eq!(
        common::gateway::metric_value(
            text,
            "ringgate_requests_total",
            &[("operation", "o"), ("api", "a"), ("code_class", "2xx")]
        ),
        Some(3.0)
    );
    assert_eq!(common::gateway::metric_value(text, "ringgate_worker_requests_total", &[("worker", "1")]), Some(7.0));
    assert_eq!(common::gateway::metric_value(text, "ringgate_worker_requests_total", &[("worker", "0")]), None);
}

#[test]
fn truncate_endpoint_ends_early() {
    let b = Backend::normal();
    let mut c = Conn::connect(b.addr);
    c.send_request("GET", "/truncate/1000", &[], b"");
    let e = c.read_response(false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
}

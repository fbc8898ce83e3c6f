//! The upstream side: connection reuse, stale pooled connections, TLS backends,
//! forwarded and hop-by-hop headers.

mod common;

use common::backend::echoed_headers;
use common::tls::TestPki;
use common::*;

fn one_api(url: &str, extra_doc: &str) -> String {
    format!(
        r#"{{"revision":"r1","apis":[{{"id":"u","path":"u","serviceUrl":"{url}/be-u","subscriptionRequired":false}}]{extra_doc}}}"#
    )
}

#[test]
fn sequential_requests_reuse_backend_connections() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let mut c = Conn::connect(gw.http_addr());
    for i in 0..300 {
        let r = c.get(&format!("/u/echo/{i}"));
        assert_eq!(r.status, 200, "request {i}: {r:?}");
    }
    assert_eq!(b.requests(), 300);
    assert!(b.connections() <= 4, "300 sequential requests opened {} backend connections", b.connections());
}

#[test]
fn stale_pooled_connections_are_retried() {
    let b = Backend::start(BackendMode::CloseAfterResponse);
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let mut c = Conn::connect(gw.http_addr());
    for i in 0..20 {
        let r = c.get(&format!("/u/echo/{i}"));
        assert_eq!(r.status, 200, "GET {i} over a closing backend: {r:?}");
    }
    // fresh client connections too
    for i in 0..5 {
        assert_eq!(gw.get(&format!("/u/echo/fresh{i}"), &[]).status, 200);
    }
    assert_eq!(b.requests(), 25);
}

fn tls_gateway(pki: &TestPki, b: &Backend, trust: bool) -> Gateway {
    let certs = if trust {
        format!(
            r#","certificates":[{{"id":"ca","pem":{},"isTrusted":true}}]"#,
            serde_json::to_string(&pki.ca_pem).unwrap()
        )
    } else {
        String::new()
    };
    Gateway::start(&one_api(&b.url(), &certs), &[])
}

#[test]
fn https_backend_with_trusted_ca() {
    let pki = TestPki::generate();
    let b = Backend::start_tls(pki.server_config());
    let gw = tls_gateway(&pki, &b, true);
    let r = gw.get("/u/echo/tls?x=1", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/be-u/echo/tls?x=1");
    let mut c = Conn::connect(gw.http_addr());
    for _ in 0..5 {
        assert_eq!(c.get("/u/echo").status, 200);
    }
    let r = c.request("POST", "/u/upload", &[], &vec![7u8; 200_000]);
    assert_eq!(r.json()["bodyLength"], 200_000);
}

#[test]
fn https_backend_without_the_ca_is_502() {
    let pki = TestPki::generate();
    let b = Backend::start_tls(pki.server_config());
    let gw = tls_gateway(&pki, &b, false);
    let r = gw.get("/u/echo", &[]);
    assert_error_shape(&r, 502);
    assert_eq!(b.requests(), 0);
}

#[test]
fn forwarded_headers_hop_by_hop_and_query() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request(
        "GET",
        "/u/echo/p%20q?x=1&y=two%20three&z=&x=2",
        &[
            ("Host", "original.example:8080"),
            ("Connection", "keep-alive, X-Custom-Hop"),
            ("X-Custom-Hop", "must-not-pass"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"),
            ("Trailer", "X-Tr"),
            ("Upgrade", "foo/1"),
            ("X-Keep", "yes"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["path"], "/be-u/echo/p%20q?x=1&y=two%20three&z=&x=2", "{v}");
    let h = |n: &str| echoed_headers(&v, n);
    assert_eq!(h("host"), vec![b.addr.to_string()], "Host must be the backend authority: {v}");
    assert_eq!(h("x-forwarded-for"), vec!["127.0.0.1".to_string()], "{v}");
    assert_eq!(h("x-forwarded-proto"), vec!["http".to_string()], "{v}");
    assert_eq!(h("x-forwarded-host"), vec!["original.example:8080".to_string()], "{v}");
    assert_eq!(h("x-keep"), vec!["yes".to_string()], "{v}");
    for hop in ["keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-custom-hop"] {
        assert!(h(hop).is_empty(), "hop-by-hop header {hop} forwarded: {v}");
    }
    for conn in h("connection") {
        let l = conn.to_ascii_lowercase();
        assert!(l == "keep-alive" || l == "close", "client's Connection header forwarded: {conn}");
    }
    // an existing X-Forwarded-For gets the client appended
    let r = c.get_with("/u/echo", &[("X-Forwarded-For", "203.0.113.9")]);
    let v = r.json();
    let xff = echoed_headers(&v, "x-forwarded-for");
    assert_eq!(xff.len(), 1, "{v}");
    let parts: Vec<&str> = xff[0].split(',').map(str::trim).collect();
    assert_eq!(parts, vec!["203.0.113.9", "127.0.0.1"], "{v}");
    // the connection is kept
    assert_eq!(c.get("/u/echo").status, 200);
}

#[test]
fn backend_error_statuses_pass_through() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let mut c = Conn::connect(gw.http_addr());
    for code in [500u16, 503, 404, 401, 418] {
        let r = c.get(&format!("/u/status/{code}"));
        assert_eq!(r.status, code, "{r:?}");
        // the backend's body, not a gateway error
        assert_eq!(r.json()["path"], format!("/be-u/status/{code}"), "{r:?}");
    }
}

#[test]
fn truncated_backend_response_is_not_passed_off_as_complete() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let mut c = Conn::connect(gw.http_addr());
    c.send_request("GET", "/u/truncate/200000", &[], b"");
    match c.read_response(false) {
        // the head was already sent: the client must see the connection end early
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
        // or the gateway noticed before sending anything
        Ok(r) => assert_error_shape(&r, 502),
    }
    // the gateway still serves
    assert_eq!(gw.get("/u/echo", &[]).status, 200);
}

#[test]
fn many_concurrent_clients() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b.url(), ""), &[]);
    let addr = gw.http_addr();
    let threads: Vec<_> = (0..64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(addr);
                for i in 0..10 {
                    let r = c.request("POST", &format!("/u/upload/{t}/{i}"), &[], format!("body-{t}-{i}").as_bytes());
                    assert_eq!(r.status, 200, "{r:?}");
                    let v = r.json();
                    assert_eq!(v["path"], format!("/be-u/upload/{t}/{i}"));
                    assert_eq!(v["bodyFnv"], fnv_hex(format!("body-{t}-{i}").as_bytes()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread failed");
    }
    assert_eq!(b.requests(), 640);
}

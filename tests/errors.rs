//! Errors the gateway generates, each with the JSON body
//! `{"statusCode": N, "message": "…"}` and `content-type: application/json`.

mod common;

use common::*;
use std::time::{Duration, Instant};

const KEY: &str = "errors-test-key-6b7c8d9e0f";

fn config(b: &Backend, extra: &str) -> String {
    let u = b.url();
    format!(
        r#"{{"revision":"r1",
  "apis":[
    {{"id":"open","path":"open","serviceUrl":"{u}/be-open","subscriptionRequired":false}},
    {{"id":"ops","path":"ops","serviceUrl":"{u}/be-ops","subscriptionRequired":false,
      "operations":[{{"id":"get-item","method":"GET","urlTemplate":"/items/{{id}}"}}]}},
    {{"id":"keyed","path":"keyed","serviceUrl":"{u}/be-keyed"}}
  ],
  "subscriptions":[{{"id":"s","scope":"/apis","primaryKey":"{KEY}","state":"active"}}]
  {extra}}}"#
    )
}

fn start(extra_sets: &[&str]) -> (Backend, Gateway) {
    let b = Backend::normal();
    let gw = Gateway::start(&config(&b, ""), extra_sets);
    (b, gw)
}

#[test]
fn not_found_unknown_api_operation_and_host() {
    let b = Backend::normal();
    let gw = Gateway::start(&config(&b, r#","gateway":{"hostnames":[{"hostname":"gw.test.local"}]}"#), &[]);
    let h = [("Host", "gw.test.local")];
    assert_error_shape(&gw.get("/nope/x", &h), 404);
    assert_error_shape(&gw.get("/ops/other", &h), 404);
    assert_error_shape(&Conn::connect(gw.http_addr()).request("DELETE", "/ops/items/1", &h, b""), 404);
    assert_error_shape(&gw.get("/open/x", &[("Host", "elsewhere.local")]), 404);
    assert_eq!(gw.get("/ops/items/1", &h).status, 200);
    assert_eq!(b.requests(), 1);
}

#[test]
fn unauthorized_missing_and_invalid_key() {
    let (b, gw) = start(&[]);
    let r = gw.get("/keyed/x", &[]);
    assert_error_shape(&r, 401);
    let r = gw.get("/keyed/x", &[("Ocp-Apim-Subscription-Key", "wrong-key-123")]);
    assert_error_shape(&r, 401);
    assert!(!r.text().contains("wrong-key-123"), "error echoes the key: {r:?}");
    assert_eq!(gw.get("/keyed/x", &[("Ocp-Apim-Subscription-Key", KEY)]).status, 200);
    assert_eq!(b.requests(), 1);
}

#[test]
fn bad_gateway_when_backend_refuses() {
    let port = closed_port();
    let gw = Gateway::start(
        &format!(
            r#"{{"revision":"r1","apis":[{{"id":"a","path":"a","serviceUrl":"http://127.0.0.1:{port}","subscriptionRequired":false}}]}}"#
        ),
        &[],
    );
    assert_error_shape(&gw.get("/a/x", &[]), 502);
    // the client connection survives a backend failure, unless the gateway
    // said `Connection: close`
    let mut c = Conn::connect(gw.http_addr());
    let r = c.get("/a/x");
    assert_error_shape(&r, 502);
    if r.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
        assert!(c.wait_closed(Duration::from_secs(5)).is_ok(), "said close, stayed open");
    } else {
        c.send_request("GET", "/a/y", &[], b"");
        let r = c
            .read_response(false)
            .expect("the gateway closed a keep-alive connection after a 502 without `Connection: close`");
        assert_error_shape(&r, 502);
    }
}

#[test]
fn bad_gateway_when_backend_resets() {
    let b = Backend::start(BackendMode::Reset);
    let gw = Gateway::start(
        &format!(
            r#"{{"revision":"r1","apis":[{{"id":"a","path":"a","serviceUrl":"{}","subscriptionRequired":false}}]}}"#,
            b.url()
        ),
        &[],
    );
    assert_error_shape(&gw.get("/a/x", &[]), 502);
    assert!(b.heads() >= 1, "the backend saw the request");
}

#[test]
fn gateway_timeout_from_forward_request_timeout() {
    let b = Backend::normal();
    let policy = r#"<policies><inbound><base/></inbound><backend><forward-request timeout=\"1\"/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"#;
    let gw = Gateway::start(&config(&b, &format!(r#","policy":"{policy}""#)), &[]);
    let t = Instant::now();
    let r = gw.get("/open/slow/4000", &[]);
    let took = t.elapsed();
    assert_error_shape(&r, 504);
    assert!(took < Duration::from_millis(3500), "504 took {took:?}, timeout is 1 s");
    assert!(took >= Duration::from_millis(900), "504 after {took:?}, before the 1 s timeout");
    // fast calls still pass
    assert_eq!(gw.get("/open/slow/10", &[]).status, 200);
}

#[test]
fn bad_request_line_is_400_and_closes() {
    let (b, gw) = start(&[]);
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /open/x HTTP/9.9\r\nHost: x\r\n\r\n",
        b"G\x01T /open/x HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut c = Conn::connect(gw.http_addr());
        c.send(bad).unwrap();
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(bad)));
        if bad.starts_with(b"GET /open/x HTTP/9.9") && r.status == 505 {
            // 505 HTTP Version Not Supported is also a correct answer
            assert_error_shape(&r, 505);
        } else {
            assert_error_shape(&r, 400);
        }
        assert!(
            c.wait_closed(Duration::from_secs(5)).is_ok(),
            "connection stays open after {:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(b.heads(), 0);
}

#[test]
fn slow_request_head_is_408_and_closes() {
    let (b, gw) = start(&["net.server.timeouts.header=1s"]);
    let mut c = Conn::connect(gw.http_addr());
    let t = Instant::now();
    c.send(b"GET /open/x HTTP/1.1\r\nHost: x\r\nX-Half: ").unwrap();
    c.set_read_timeout(Duration::from_secs(10));
    let r = c.read_response(false).expect("a 408 response before the close");
    assert_error_shape(&r, 408);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(900), "408 after {took:?}, before the 1 s timeout");
    assert!(took < Duration::from_secs(5), "408 after {took:?}");
    assert!(c.wait_closed(Duration::from_secs(5)).is_ok(), "connection not closed after 408");
    assert_eq!(b.heads(), 0);
}

#[test]
fn body_over_limit_is_413() {
    let (b, gw) = start(&["net.server.limits.body-bytes=1000"]);
    // declared length over the limit
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/open/upload", &[], &[b'a'; 2000]);
    assert_error_shape(&r, 413);
    // at the limit passes
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/open/upload", &[], &[b'a'; 1000]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["bodyLength"], 1000);
    assert_eq!(b.requests(), 1);
}

/// Assumption: a chunked body that grows over the limit is also answered 413
/// (the backend never gets a complete request).
#[test]
fn chunked_body_over_limit_is_413() {
    let (b, gw) = start(&["net.server.limits.body-bytes=1000"]);
    let mut c = Conn::connect(gw.http_addr());
    let mut req = b"POST /open/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        req.extend_from_slice(b"200\r\n");
        req.extend_from_slice(&[b'z'; 0x200]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let _ = c.send(&req);
    let r = c.read_response(false).expect("a response");
    assert_error_shape(&r, 413);
    assert_eq!(b.requests(), 0, "the backend received the over-limit body");
}

#[test]
fn head_over_limit_is_431() {
    let (b, gw) = start(&["net.server.limits.header-bytes=4096"]);
    let mut c = Conn::connect(gw.http_addr());
    let big = "v".repeat(8192);
    c.send(format!("GET /open/x HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes()).unwrap();
    let r = c.read_response(false).unwrap();
    assert_error_shape(&r, 431);
    // many small headers over the limit too
    let mut c = Conn::connect(gw.http_addr());
    let mut req = String::from("GET /open/x HTTP/1.1\r\nHost: x\r\n");
    for i in 0..200 {
        req.push_str(&format!("X-H{i}: 0123456789012345678901234567890123456789\r\n"));
    }
    req.push_str("\r\n");
    c.send(req.as_bytes()).unwrap();
    assert_error_shape(&c.read_response(false).unwrap(), 431);
    // under the limit passes
    assert_eq!(gw.get("/open/x", &[("X-Small", &"s".repeat(1000))]).status, 200);
    assert_eq!(b.heads(), 1);
}

#[test]
fn client_abort_mid_upload_leaves_the_gateway_serving() {
    let (b, gw) = start(&[]);
    for _ in 0..5 {
        let mut c = Conn::connect(gw.http_addr());
        c.send(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial body").unwrap();
        drop(c);
        let mut c = Conn::connect(gw.http_addr());
        c.send(b"POST /open/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\nabc").unwrap();
        drop(c);
        let mut c = Conn::connect(gw.http_addr());
        c.send(b"GET /open/x HTTP/1.1\r\nHo").unwrap();
        drop(c);
    }
    let r = gw.get("/open/after", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    wait_until("the backend sees the request after the aborts", Duration::from_secs(5), || {
        b.seen().iter().any(|s| s.target.ends_with("/after")).then_some(())
    });
    assert!(gw.status()["workers"].as_array().map(|w| w.len()) == Some(2));
    assert_eq!(gw.get("/status-0123456789abcdef", &[]).status, 200);
}

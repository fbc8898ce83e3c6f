//! Hostile input, wire side (issue #23 classes 1 and 5): values from requests that policies
//! write into heads (request line, status line, header fields) are encoded or refused, never
//! split into a second request or header; malformed backend framing is a 502; codec-level
//! confusion (underscored names, absolute-form authority, repeated X-Forwarded-For, trailers).
//! The backend records every byte it receives, so each test asserts what it saw on the wire.

mod common;

use common::backend::{echoed_headers, BackendMode};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A document with one API `w` at `serviceUrl` of `b`, keyless, with `policy` (if any).
fn doc(b: &Backend, policy: Option<&str>, extra: Value) -> String {
    let mut api = json!({"id": "w", "path": "w", "serviceUrl": b.url(), "subscriptionRequired": false});
    if let Some(p) = policy {
        api["policy"] = json!(p);
    }
    let mut d = json!({"revision": "h1", "apis": [api]});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            d[k] = v;
        }
    }
    d.to_string()
}

/// Waits until `count` access-log lines name `reason` as the last error.
fn wait_for_log(gw: &Gateway, reason: &str, count: usize) {
    wait_until(&format!("{count} access-log lines with {reason}"), Duration::from_secs(5), || {
        let n = gw
            .logs()
            .iter()
            .filter_map(|l| common::gateway::json_line(l))
            .filter(|v| v["lastErrorReason"] == reason)
            .count();
        (n >= count).then_some(())
    });
}

fn policies(inbound: &str, outbound: &str) -> String {
    format!(
        "<policies><inbound>{inbound}</inbound><backend><forward-request /></backend>\
         <outbound>{outbound}</outbound><on-error /></policies>"
    )
}

/// An encoded request-splitting payload: CRLF, a second request line, a NUL, spaces.
const SPLIT: &str = "a%20b%0D%0AGET%20/smuggled%20HTTP/1.1%0D%0AHost:%20x%0D%0A%0D%0Ac%00d";

fn assert_one_clean_request(b: &Backend, what: &str) {
    let lines = b.raw_request_lines();
    assert_eq!(lines.len(), 1, "{what}: the backend must see exactly one request line; saw {lines:?}");
    assert_eq!(b.heads(), 1, "{what}: backend heads");
    let raw = b.raw();
    assert!(!raw.contains(&0), "{what}: a NUL reached the backend: {:?}", String::from_utf8_lossy(&raw));
    assert!(
        !String::from_utf8_lossy(&raw).to_ascii_lowercase().contains("smuggled http"),
        "{what}: a second request line reached the backend: {:?}",
        String::from_utf8_lossy(&raw)
    );
}

#[test]
fn rewrite_uri_from_a_decoded_query_cannot_split_the_request_line() {
    let b = Backend::normal();
    let p = policies(
        r#"<rewrite-uri template='@("/echo/" + context.Request.Url.Query.GetValueOrDefault("p", ""))' copy-unmatched-params="false" />"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, Some(&p), json!({})), &[]);
    let r = gw.get(&format!("/w/x?p={SPLIT}"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_one_clean_request(&b, "rewrite-uri");
    let line = &b.raw_request_lines()[0];
    assert!(line.starts_with("GET /echo/a%20b%0D%0AGET%20/smuggled%20HTTP/1.1%0D%0AHost:%20x"), "{line}");
    assert!(line.ends_with("c%00d HTTP/1.1"), "{line}");
}

#[test]
fn rewrite_uri_from_a_template_parameter_cannot_split_the_request_line() {
    let b = Backend::normal();
    let p = policies(r#"<rewrite-uri template="/echo/{id}" />"#, "");
    let mut d: Value = serde_json::from_str(&doc(&b, None, json!({}))).unwrap();
    d["apis"][0]["operations"] = json!([{"id": "g", "method": "GET", "urlTemplate": "/r/{id}", "policy": p}]);
    let gw = Gateway::start(&d.to_string(), &[]);
    let r = gw.get("/w/r/a%20b%0D%0AGET%20%2Fsmuggled%20HTTP%2F1.1%0D%0A%0D%0A%00", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_one_clean_request(&b, "template parameter");
}

#[test]
fn set_query_parameter_values_are_encoded() {
    let b = Backend::normal();
    let p = policies(
        r#"<set-query-parameter name="q" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("v", ""))</value></set-query-parameter>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, Some(&p), json!({})), &[]);
    let r = gw.get(&format!("/w/echo?v={SPLIT}"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_one_clean_request(&b, "set-query-parameter");
}

#[test]
fn set_header_values_with_crlf_or_nul_are_refused() {
    let b = Backend::normal();
    let p = policies(
        r#"<set-header name="X-Echo" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("v", ""))</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, Some(&p), json!({})), &["telemetry.logs.requests=true"]);
    for v in ["a%0D%0AX-Injected:%20yes", "a%0AX-Injected:%20yes", "a%00b", "a%0Db"] {
        let r = gw.get(&format!("/w/echo?v={v}"), &[]);
        assert_error_shape(&r, 500);
        assert_eq!(b.heads(), 0, "{v}: the backend must not be called; saw {:?}", b.raw_request_lines());
    }
    // A clean value still goes through.
    let r = gw.get("/w/echo?v=fine%20value", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(echoed_headers(&r.json(), "x-echo"), vec!["fine value"]);
    wait_for_log(&gw, "InvalidHeadValue", 4);
}

#[test]
fn set_status_reason_with_crlf_is_refused() {
    let b = Backend::normal();
    let p =
        policies("", r#"<set-status code="200" reason='@(context.Request.Url.Query.GetValueOrDefault("r", "OK"))' />"#);
    let gw = Gateway::start(&doc(&b, Some(&p), json!({})), &[]);
    let mut c = Conn::connect(gw.http_addr());
    c.send(b"GET /w/echo?r=OK%0D%0ASet-Cookie:%20stolen=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let r = c.read_response(false).expect("a response");
    assert_error_shape(&r, 500);
    assert!(r.header("set-cookie").is_none(), "{r:?}");
    // A reason without controls is relayed as set.
    let r = gw.get("/w/echo?r=Fine", &[]);
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn return_response_with_crlf_from_a_request_is_refused() {
    let b = Backend::normal();
    let p = r#"<policies><inbound><return-response>
        <set-status code="200" reason='@(context.Request.Url.Query.GetValueOrDefault("r", "OK"))' />
        <set-header name="X-A" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("h", "a"))</value></set-header>
        <set-body>done</set-body>
      </return-response></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>"#;
    let gw = Gateway::start(&doc(&b, Some(p), json!({})), &[]);
    for q in ["r=OK%0D%0ASet-Cookie:%20a=1", "h=x%0D%0ASet-Cookie:%20a=1", "h=x%00y"] {
        let r = gw.get(&format!("/w/x?{q}"), &[]);
        assert_error_shape(&r, 500);
        assert!(r.header("set-cookie").is_none(), "{q}: {r:?}");
    }
    let r = gw.get("/w/x?h=clean", &[]);
    assert_eq!((r.status, r.header("x-a")), (200, Some("clean")), "{r:?}");
    assert_eq!(b.heads(), 0);
}

/// A backend answering `reply` to whatever it gets: the client sees a 502 with APIM's body on
/// both paths (pass-through and policies), never an empty reply or the malformed bytes.
fn backend_answer_is_502(case: &str, reply: &'static [u8]) {
    let b = Backend::start(BackendMode::Canned(reply));
    let mut d: Value = serde_json::from_str(&doc(&b, None, json!({}))).unwrap();
    let second = json!({"id": "p", "path": "p", "serviceUrl": b.url(), "subscriptionRequired": false,
        "policy": policies(r#"<set-header name="X-P" exists-action="override"><value>1</value></set-header>"#, "")});
    d["apis"].as_array_mut().unwrap().push(second);
    let gw = Gateway::start(&d.to_string(), &["telemetry.logs.requests=true"]);
    for path in ["/w/echo", "/p/echo"] {
        let mut c = Conn::connect(gw.http_addr());
        c.set_read_timeout(Duration::from_secs(10));
        c.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{case} {path}: no response ({e})"));
        assert_error_shape(&r, 502);
    }
    wait_for_log(&gw, "BackendConnectionFailure", 2);
}

#[test]
fn status_code_099_is_502() {
    backend_answer_is_502("099", b"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn malformed_first_chunk_is_502() {
    backend_answer_is_502("chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
}

#[test]
fn content_length_with_transfer_encoding_is_502() {
    backend_answer_is_502(
        "CL+TE",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
}

#[test]
fn differing_lengths_and_folding_are_502() {
    backend_answer_is_502("CL,CL", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    backend_answer_is_502("fold", b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn a_bad_chunk_after_the_head_was_relayed_closes_the_client_connection() {
    let b = Backend::start(BackendMode::CannedInTwo(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"zz\r\nworld\r\n0\r\n\r\n",
    ));
    let gw = Gateway::start(&doc(&b, None, json!({})), &[]);
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(10));
    c.send(b"GET /w/echo HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The head and the good chunk arrived; then the connection ends without a last chunk.
    assert!(c.read_response(false).is_err(), "a truncated message must not read as complete");
    let got = c.wait_closed(Duration::from_secs(5));
    assert!(got.is_ok(), "the client connection must close");
    assert!(!String::from_utf8_lossy(&got.unwrap()).contains("world"), "bytes after the bad chunk relayed");
}

#[test]
fn set_backend_service_base_url_from_a_request_cannot_split_the_request_line() {
    let b = Backend::normal();
    let p = policies(
        &format!(
            r#"<set-backend-service base-url='@("{}/be" + context.Request.Url.Query.GetValueOrDefault("p", ""))' />"#,
            b.url()
        ),
        "",
    );
    let gw = Gateway::start(&doc(&b, Some(&p), json!({})), &[]);
    let r = gw.get(&format!("/w/echo?p=/x{SPLIT}"), &[]);
    if r.status == 200 {
        assert_one_clean_request(&b, "set-backend-service");
    } else {
        assert_error_shape(&r, r.status);
        assert_eq!(b.heads(), 0, "refused, yet the backend saw {:?}", b.raw_request_lines());
    }
}

#[test]
fn underscored_header_names_never_reach_the_backend() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b, None, json!({})), &[]);
    let r = gw.get(
        "/w/echo",
        &[
            ("X_Forwarded_For", "6.6.6.6"),
            ("Transfer_Encoding", "chunked"),
            ("Content_Length", "5"),
            ("X_Custom", "1"),
            ("X-Kept", "yes"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let echo = r.json();
    let names: Vec<String> =
        echo["headers"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains('_')), "underscored names forwarded: {names:?}");
    assert_eq!(echoed_headers(&echo, "x-kept"), vec!["yes"]);
    let xff = echoed_headers(&echo, "x-forwarded-for");
    assert_eq!(xff, vec!["127.0.0.1"], "a spoofed X_Forwarded_For must not join the chain");
}

#[test]
fn request_trailers_are_not_forwarded() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b, None, json!({})), &[]);
    let mut c = Conn::connect(gw.http_addr());
    c.send(
        b"POST /w/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\nTransfer_Encoding: x\r\nX-Trailer: smuggled\r\n\r\n",
    )
    .unwrap();
    let r = c.read_response(false).expect("response");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["bodyLength"], 5);
    let raw = String::from_utf8_lossy(&b.raw()).into_owned();
    assert!(!raw.contains("X-Trailer") && !raw.contains("Transfer_Encoding"), "trailers forwarded: {raw:?}");
    assert!(raw.ends_with("0\r\n\r\n"), "{raw:?}");
}

#[test]
fn absolute_form_authority_wins_over_host() {
    let b = Backend::normal();
    let hosts = json!({"gateway": {"hostnames": [{"hostname": "good.example"}]}});
    let gw = Gateway::start(&doc(&b, None, hosts), &[]);
    let mut c = Conn::connect(gw.http_addr());
    // Routed by the target's authority, whatever Host says.
    c.send(b"GET http://good.example/w/echo HTTP/1.1\r\nHost: evil.example\r\n\r\n").unwrap();
    let r = c.read_response(false).expect("response");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(echoed_headers(&r.json(), "x-forwarded-host"), vec!["good.example"]);
    // And refused by it: a matching Host does not let another authority in.
    c.send(b"GET http://evil.example/w/echo HTTP/1.1\r\nHost: good.example\r\n\r\n").unwrap();
    let r = c.read_response(false).expect("response");
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(b.heads(), 1);
}

#[test]
fn repeated_forwarded_for_lines_are_combined_in_order() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b, None, json!({})), &[]);
    let r = gw.get(
        "/w/echo",
        &[("X-Forwarded-For", "1.1.1.1"), ("X-Forwarded-For", "2.2.2.2, 3.3.3.3"), ("x-forwarded-for", "4.4.4.4")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let xff = echoed_headers(&r.json(), "x-forwarded-for");
    assert_eq!(xff, vec!["1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 127.0.0.1"]);
}

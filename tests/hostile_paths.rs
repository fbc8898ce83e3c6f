//! Hostile paths (issue #23 class 2): dot-segments, encoded dots, encoded slashes and
//! backslashes never carry a request from one API (here a keyless one) into another API's
//! backend path, nor above an API's `serviceUrl` base path. The gateway normalises before
//! routing and admission (RFC 3986 §5.2.4, `%2e` as `.`) and refuses with 400 what stays
//! ambiguous; the backend records every request line, so each case asserts what it received.

mod common;

use common::*;
use serde_json::json;

const KEY: &str = "key-for-priv-0123456789";

/// `pub` (keyless) and `priv` (needs a key) on one backend, under different base paths;
/// `rw` rewrites its path from the `p` query parameter.
fn start(b: &Backend) -> Gateway {
    let u = b.url();
    let rewrite = r#"<policies><inbound><rewrite-uri template='@(context.Request.Url.Query.GetValueOrDefault("p", "/echo"))' copy-unmatched-params="false" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>"#;
    let d = json!({
        "revision": "paths",
        "apis": [
            {"id": "pub", "path": "pub", "serviceUrl": format!("{u}/pub-be"), "subscriptionRequired": false},
            {"id": "priv", "path": "priv", "serviceUrl": format!("{u}/priv-be")},
            {"id": "rw", "path": "rw", "serviceUrl": format!("{u}/rw-be/base"), "subscriptionRequired": false, "policy": rewrite}
        ],
        "subscriptions": [{"id": "s", "scope": "/apis/priv", "primaryKey": KEY, "state": "active"}]
    });
    Gateway::start(&d.to_string(), &[])
}

/// The backend never saw a request line with a dot-segment, an encoded dot or a backslash.
fn assert_no_escape(b: &Backend, case: &str) {
    for line in b.raw_request_lines() {
        let target = line.split(' ').nth(1).unwrap_or("").to_ascii_lowercase();
        let path = target.split('?').next().unwrap_or("");
        let dotted = path.split('/').any(|s| matches!(s.split(';').next(), Some(".") | Some("..")));
        assert!(
            !dotted && !path.contains("%2e") && !path.contains('\\') && !path.contains("%5c"),
            "{case}: the backend received {line:?}"
        );
    }
}

#[test]
fn keyless_api_cannot_reach_another_apis_backend() {
    let b = Backend::normal();
    let gw = start(&b);
    let cases = [
        "/pub/../priv/echo",
        "/pub/./../priv/echo",
        "/pub/%2e%2e/priv/echo",
        "/pub/%2E%2E/priv/echo",
        "/pub/%2E./priv/echo",
        "/pub/.%2e/priv/echo",
        "/pub/x/../../priv/echo",
        "/pub/x/%2e%2e/%2e%2e/priv/echo",
        "/pub/..%2Fpriv/echo",
        "/pub/..%2fpriv/echo",
        "/pub/x/..%2F..%2Fpriv/echo",
        "/pub/%2e%2e%2fpriv/echo",
        "/pub/..\\priv/echo",
        "/pub/%2e%2e%5cpriv/echo",
        "/pub/..%5Cpriv/echo",
        "/pub/.%2e%2F%2e./priv/echo",
        "/pub/..;/priv/echo",
        "/pub/%2e%2e;x=1/priv/echo",
    ];
    for case in cases {
        let mut c = Conn::connect(gw.http_addr());
        c.send(format!("GET {case} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{case}: no response ({e})"));
        // Normalised into `priv`: admitted there (401 without its key), or refused as ambiguous.
        assert!(matches!(r.status, 400 | 401), "{case}: {r:?}");
        assert_error_shape(&r, r.status);
        assert_no_escape(&b, case);
        assert!(
            !b.raw_request_lines().iter().any(|l| l.contains("priv-be")),
            "{case}: the keyless API reached priv's backend: {:?}",
            b.raw_request_lines()
        );
    }
    assert_eq!(b.heads(), 0, "no case reached the backend: {:?}", b.raw_request_lines());
}

#[test]
fn the_normalised_path_is_routed_admitted_and_sent() {
    let b = Backend::normal();
    let gw = start(&b);
    // Normalised into priv: its key is required, and the backend gets exactly that path.
    let r = gw.get("/pub/%2e%2e/priv/a/./b/../echo", &[("Ocp-Apim-Subscription-Key", KEY)]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/priv-be/a/echo");
    // Within one API, dot-segments resolve as RFC 3986 says.
    let r = gw.get("/pub/a/%2E/b/%2e%2e/echo", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/pub-be/a/echo");
    // An encoded slash that hides no dot-segment is a name, passed on as sent.
    let r = gw.get("/pub/files/a%2Fb", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/pub-be/files/a%2Fb");
    assert_no_escape(&b, "normalised");
}

#[test]
fn climbing_above_the_root_or_base_path_is_refused() {
    let b = Backend::normal();
    let gw = start(&b);
    for case in ["/pub/../../pub-be/echo", "/pub/%2e%2e/%2e%2e/x", "/..", "/pub/x/../../../echo"] {
        let mut c = Conn::connect(gw.http_addr());
        c.send(format!("GET {case} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{case}: no response ({e})"));
        assert_error_shape(&r, 400);
        assert!(c.wait_closed(std::time::Duration::from_secs(5)).is_ok(), "{case}: connection kept after 400");
    }
    assert_eq!(b.heads(), 0, "{:?}", b.raw_request_lines());
}

#[test]
fn a_rewritten_path_cannot_climb_above_the_service_url() {
    let b = Backend::normal();
    let gw = start(&b);
    for p in ["/../../priv-be/echo", "../priv-be/echo", "/x/%2e%2e/%2e%2e/%2e%2e/priv-be/echo", "/a/../../../priv-be"] {
        let r = gw.get(&format!("/rw/go?p={}", p.replace('%', "%25")), &[]);
        assert_error_shape(&r, 400);
    }
    assert_eq!(b.heads(), 0, "{:?}", b.raw_request_lines());
    // Inside the base path, the rewrite resolves and is sent.
    let r = gw.get("/rw/go?p=/x/../echo", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/rw-be/base/echo");
    assert_no_escape(&b, "rewrite");
}

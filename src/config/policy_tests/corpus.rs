//! A corpus of realistic policy documents in APIM's raw form (unescaped quotes, `<`, `&&`
//! inside expressions), each loaded through the configuration compiler as an operation policy
//! and run on a fake context with a behaviour assertion. The documents are data files under
//! `tests/policy-corpus/`; `tests/policy_corpus.rs` runs the same files end to end.

use super::documents::*;
use crate::policy::expr::jwt::make_jwt;
use crate::policy::testkit::*;

/// Reads the corpus files at compile time (`tests/policy-corpus/<name>.xml`, the same files the
/// end-to-end test `tests/policy_corpus.rs` loads into a real gateway).
macro_rules! corpus {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/policy-corpus/", $name, ".xml")))),*]
    };
}

pub const DOCS: &[(&str, &str)] = corpus![
    "require-api-key",
    "jwt-sub-to-header",
    "jwt-role-gate",
    "version-rewrite",
    "conditional-backend",
    "error-shaping",
    "cors-spa",
    "mock-while-building",
    "correlation-id",
    "strip-server-headers",
    "query-to-header",
    "basic-to-backend",
    "basic-user-read",
    "ip-allow-office",
    "ip-block-v6",
    "method-override",
    "body-enrich",
    "response-rewrite-urls",
    "status-remap",
    "retry-5xx",
    "timeout-override",
    "variables-flow",
    "tenant-from-path",
    "json-to-xml-legacy",
    "xml-to-json-soap",
    "on-error-headers",
    "api-version-header",
    "block-by-claim",
    "backend-by-id",
    "well-formed-escaped",
    "elapsed-header",
    "fragment-like-comments",
    "header-errors-shaped",
    "inbound-xml-to-json",
    "ip-not-allowed-shaped",
    "json-roundtrip",
];

fn jwt(claims: serde_json::Value) -> String {
    format!("Bearer {}", make_jwt(&claims))
}

/// The named values the corpus documents use (`{{eu-backend}}`, `{{us-backend}}`).
fn named_values() -> serde_json::Value {
    serde_json::json!({"eu-backend": "https://eu.backend.local/api", "us-backend": "https://us.backend.local/api"})
}

#[test]
fn every_corpus_file_is_listed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/policy-corpus");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".xml").map(str::to_string))
        .collect();
    files.sort();
    let mut listed: Vec<String> = DOCS.iter().map(|d| d.0.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "tests/policy-corpus/*.xml and corpus::DOCS differ");
}

#[test]
fn corpus_loads_and_behaves() {
    assert!(DOCS.len() >= 30);
    for (name, doc) in DOCS {
        let mut cfg = config(None, None, None, Some(doc));
        cfg["namedValues"] = named_values();
        let s = load(&cfg);
        let p = s.policy_plans.get(0, Some(0), None);
        let go = |req: FakeReq| drive(p, &req, "10.1.1.1", &FakeResp::new(200, r#"{"ok":true}"#), None);
        let get = || FakeReq::new("GET", "/orders/items/42?format=xml&x=1");
        match *name {
            "require-api-key" => {
                assert_eq!(go(get()).status(), 401);
                assert_eq!(go(get().h("x-api-key", "k")).forwarded, 1);
            }
            "jwt-sub-to-header" => {
                let r = go(get().h("authorization", &jwt(serde_json::json!({"sub": "bob"}))));
                assert_eq!(r.req_header("x-user").as_deref(), Some("bob"));
            }
            "jwt-role-gate" => {
                assert_eq!(go(get()).status(), 403, "no token: null ?? true");
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"roles": ["admin"]})))).forwarded, 1);
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"roles": "reader"})))).status(), 403);
            }
            "version-rewrite" => assert_eq!(go(get()).request_edits.path_and_query.as_deref(), Some("/v2/items/42")),
            "conditional-backend" => {
                let host = |r: Result_| match r.request_edits.backend {
                    Some(crate::policy::BackendTarget::Url(u)) => u.host,
                    other => panic!("{other:?}"),
                };
                assert_eq!(host(go(get().h("x-region", "eu"))), "eu.backend.local");
                assert_eq!(host(go(get())), "us.backend.local");
            }
            "error-shaping" => {
                let r = go(get());
                assert_eq!(r.status(), 422);
                assert_eq!(r.body(), r#"{"title":"tenant required","reason":"HeaderNotFound"}"#);
                assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
            }
            "cors-spa" => {
                let r = go(FakeReq::new("OPTIONS", "/orders/items/42")
                    .h("origin", "https://a.b")
                    .h("access-control-request-method", "DELETE"));
                assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
                assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("DELETE"));
            }
            "mock-while-building" => assert_eq!((go(get()).status(), go(get()).forwarded), (200, 0)),
            "correlation-id" => {
                let r = go(get());
                assert_eq!(r.req_header("x-correlation-id").as_deref(), Some("req-1"));
                assert_eq!(go(get().h("x-correlation-id", "c9")).header("x-correlation-id").as_deref(), Some("c9"));
            }
            "strip-server-headers" => assert!(go(get()).response_edits.headers.is_removed("x-powered-by")),
            "query-to-header" => {
                let r = go(get());
                assert_eq!(r.req_header("x-format").as_deref(), Some("xml"));
                assert_eq!(r.request_edits.path_and_query.as_deref(), Some("/items/42?x=1"));
            }
            "basic-to-backend" => {
                assert_eq!(go(get()).req_header("authorization").as_deref(), Some("Basic Z2F0ZXdheTpzM2NyM3Q="))
            }
            "basic-user-read" => {
                let r = go(get().h("authorization", "Basic dTE6cA=="));
                assert_eq!(r.var("user").as_deref(), Some("u1"));
                assert_eq!(r.req_header("x-caller").as_deref(), Some("u1"));
                assert!(r.request_edits.headers.is_removed("authorization"));
                assert_eq!(go(get()).var("user").as_deref(), Some("anonymous"));
            }
            "ip-allow-office" => {
                assert_eq!(go(get()).forwarded, 1);
                assert_eq!(drive(p, &get(), "203.0.113.8", &FakeResp::new(200, ""), None).status(), 403);
            }
            "ip-block-v6" => {
                assert_eq!(go(get()).forwarded, 1);
                assert_eq!(drive(p, &get(), "2001:db8::5", &FakeResp::new(200, ""), None).status(), 403);
            }
            "method-override" => assert_eq!(
                go(get().h("x-http-method-override", "patch")).request_edits.method.as_deref(),
                Some("PATCH")
            ),
            "body-enrich" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, ""), Some(r#"{"name":"ann"}"#));
                assert_eq!(r.request_edits.body.as_deref(), Some(&br#"{"name":"ANN","by":"Sub One"}"#[..]));
                assert!(p.needs_request_body());
            }
            "response-rewrite-urls" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, "see http://backend:8080/api/items/1"), None);
                assert_eq!(r.body(), "see https://api.contoso.local/orders/items/1");
            }
            "status-remap" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(404, "nf"), None);
                assert_eq!((r.status(), r.body().as_str()), (204, ""));
            }
            "retry-5xx" => assert_eq!(drive(p, &get(), "1.1.1.1", &FakeResp::new(502, ""), None).forwarded, 3),
            "timeout-override" => {
                let f = p.forward().unwrap();
                assert!(p.is_passthrough() && f.timeout.as_secs() == 1 && !f.follow_redirects);
            }
            "variables-flow" => {
                assert_eq!(
                    go(get().h("user-agent", "X Mobile Y")).request_edits.path_and_query.as_deref(),
                    Some("/mobile/items/42?format=xml&x=1")
                );
                assert_eq!(go(get()).request_edits.path_and_query, None);
            }
            "tenant-from-path" => assert_eq!(go(get()).req_header("x-item").as_deref(), Some("item-42")),
            "json-to-xml-legacy" => {
                let r = drive(
                    p,
                    &get().h("content-type", "application/json"),
                    "1.1.1.1",
                    &FakeResp::new(200, ""),
                    Some(r#"{"a":"b"}"#),
                );
                assert_eq!(
                    r.request_edits.body.as_deref(),
                    Some(&b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Document><a>b</a></Document>"[..])
                );
            }
            "xml-to-json-soap" => {
                let mut resp = FakeResp::new(200, "<a><b>1</b></a>");
                resp.headers = vec![("content-type".into(), "text/xml".into())];
                assert_eq!(drive(p, &get(), "1.1.1.1", &resp, None).body(), r#"{"a":{"b":"1"}}"#);
            }
            "on-error-headers" => {
                let r = go(get());
                assert_eq!((r.status(), r.header("retry-after").as_deref()), (503, Some("30")));
                assert!(r.body().contains("\"statusCode\":500"), "{}", r.body());
            }
            "api-version-header" => assert_eq!(go(get()).req_header("api-version").as_deref(), Some("2024-01-01")),
            "block-by-claim" => {
                assert_eq!(go(get()).status(), 401);
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"tid": "t1"})))).forwarded, 1);
            }
            "backend-by-id" => assert!(go(get()).request_edits.backend.is_some()),
            "well-formed-escaped" => {
                let r = go(get());
                assert_eq!(r.var("ok").as_deref(), Some("True"));
                assert_eq!(r.req_header("x-ok").as_deref(), Some("True"));
            }
            "elapsed-header" => assert_eq!(go(get()).header("x-elapsed").as_deref(), Some("True")),
            "fragment-like-comments" => assert_eq!(go(get()).req_header("x-env").as_deref(), Some("prod")),
            "header-errors-shaped" => {
                let r = go(get());
                assert_eq!((r.status(), r.header("x-error-reason").as_deref()), (401, Some("HeaderNotFound")));
                assert_eq!(r.body(), "unknown client");
                let r = go(get().h("x-client", "other"));
                assert_eq!((r.status(), r.header("x-error-reason").as_deref()), (403, Some("HeaderValueNotAllowed")));
                assert_eq!(go(get().h("x-client", "APP-TWO")).forwarded, 1);
            }
            "inbound-xml-to-json" => {
                let r = go(FakeReq::new("POST", "/orders/items/42?id=7"));
                assert_eq!(r.request_edits.body.as_deref(), Some(&br#"{"order":{"id":"7","item":"pen"}}"#[..]));
                assert_eq!(r.req_header("content-type").as_deref(), Some("application/json"));
            }
            "ip-not-allowed-shaped" => {
                assert_eq!(go(get()).forwarded, 1);
                let r = drive(p, &get(), "127.0.0.1", &FakeResp::new(200, ""), None);
                assert_eq!(r.status(), 403);
                assert_eq!(r.header("x-error-reason").as_deref(), Some("CallerIpNotAllowed"));
                assert_eq!(r.header("x-error-source").as_deref(), Some("ip-filter/inbound"));
            }
            "json-roundtrip" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, r#"{"a":"b","n":{"c":"d"}}"#), None);
                assert_eq!(r.body(), r#"{"Document":{"a":"b","n":{"c":"d"}}}"#);
            }
            other => panic!("no assertion for {other}"),
        }
    }
}

//! Routing precedence: hostnames, longest API path, templates, methods, versions.
//! Each API has its own backend path prefix in `serviceUrl`, so the echoed path
//! names the API that answered; operations are told apart by the
//! `ringgate_requests_total{api,operation,code_class}` metric.

mod common;

use common::*;

fn api(id: &str, path: &str, b: &Backend, extra: &str) -> String {
    format!(r#"{{"id":"{id}","path":"{path}","serviceUrl":"{}/be-{id}","subscriptionRequired":false{extra}}}"#, b.url())
}

fn doc(apis: &[String], extra: &str) -> String {
    format!(r#"{{"revision":"r1","apis":[{}]{extra}}}"#, apis.join(","))
}

fn echoed_path(r: &Response) -> String {
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["path"].as_str().unwrap().to_string()
}

#[test]
fn longest_api_path_wins_segment_by_segment() {
    let b = Backend::normal();
    let gw = Gateway::start(
        &doc(
            &[
                api("outer", "outer", &b, ""),
                api("inner", "outer/inner", &b, ""),
                api("deep", "outer/inner/deep", &b, ""),
            ],
            "",
        ),
        &[],
    );
    assert_eq!(echoed_path(&gw.get("/outer/inner/x?q=1", &[])), "/be-inner/x?q=1");
    assert_eq!(echoed_path(&gw.get("/outer/inner/deep/y", &[])), "/be-deep/y");
    assert_eq!(echoed_path(&gw.get("/outer/x", &[])), "/be-outer/x");
    // segment-wise: "innerx" is not the segment "inner"
    assert_eq!(echoed_path(&gw.get("/outer/innerx", &[])), "/be-outer/innerx");
    assert_eq!(echoed_path(&gw.get("/outer/inner", &[])), "/be-inner");
    // "outerx" is no API at all
    assert_error_shape(&gw.get("/outerx/a", &[]), 404);
}

#[test]
fn operation_precedence_literal_param_wildcard_and_method() {
    let b = Backend::normal();
    let ops = r#","operations":[
        {"id":"wild","method":"GET","urlTemplate":"/items/*"},
        {"id":"param","method":"GET","urlTemplate":"/items/{id}"},
        {"id":"literal","method":"GET","urlTemplate":"/items/special"},
        {"id":"any-param","method":"*","urlTemplate":"/items/{id}"},
        {"id":"delete-param","method":"DELETE","urlTemplate":"/items/{id}"},
        {"id":"root","method":"GET","urlTemplate":"/"}
    ]"#;
    let gw = Gateway::start(&doc(&[api("tpl", "tpl", &b, ops)], ""), &[]);
    let count = |op: &str, n: f64| {
        gw.wait_metric("ringgate_requests_total", &[("api", "tpl"), ("operation", op), ("code_class", "2xx")], n)
    };
    assert_eq!(echoed_path(&gw.get("/tpl/items/special", &[])), "/be-tpl/items/special");
    count("literal", 1.0);
    assert_eq!(echoed_path(&gw.get("/tpl/items/42?x=1", &[])), "/be-tpl/items/42?x=1");
    count("param", 1.0);
    assert_eq!(echoed_path(&gw.get("/tpl/items/42/more", &[])), "/be-tpl/items/42/more");
    count("wild", 1.0);
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/tpl/items/42", &[], b"body");
    assert_eq!(echoed_path(&r), "/be-tpl/items/42");
    count("any-param", 1.0);
    let r = c.request("DELETE", "/tpl/items/42", &[], b"");
    assert_eq!(echoed_path(&r), "/be-tpl/items/42");
    assert_eq!(r.json()["method"], "DELETE");
    count("delete-param", 1.0);
    // literal still wins on a second look, and the others did not move
    gw.get("/tpl/items/special", &[]);
    count("literal", 2.0);
    count("param", 1.0);
    // API known, no operation matches: 404
    let r = gw.get("/tpl/nothing/here", &[]);
    assert_error_shape(&r, 404);
    let r = Conn::connect(gw.http_addr()).request("PUT", "/tpl/items/special/x", &[], b"");
    assert_error_shape(&r, 404);
}

#[test]
fn versions_by_segment_header_and_query_with_original() {
    let b = Backend::normal();
    let seg = r#""apiVersionSet":{"versioningScheme":"Segment"}"#;
    let hdr = r#""apiVersionSet":{"versioningScheme":"Header","versionHeaderName":"Api-Version"}"#;
    let qry = r#""apiVersionSet":{"versioningScheme":"Query","versionQueryName":"api-version"}"#;
    let gw = Gateway::start(
        &doc(
            &[
                api("seg-orig", "seg", &b, &format!(",{seg}")),
                api("seg-v1", "seg", &b, &format!(",\"apiVersion\":\"v1\",{seg}")),
                api("seg-v2", "seg", &b, &format!(",\"apiVersion\":\"v2\",{seg}")),
                api("hdr-orig", "hdr", &b, &format!(",{hdr}")),
                api("hdr-v1", "hdr", &b, &format!(",\"apiVersion\":\"v1\",{hdr}")),
                api("hdr-v2", "hdr", &b, &format!(",\"apiVersion\":\"v2\",{hdr}")),
                api("qry-v1", "qry", &b, &format!(",\"apiVersion\":\"v1\",{qry}")),
                api("qry-v2", "qry", &b, &format!(",\"apiVersion\":\"v2\",{qry}")),
            ],
            "",
        ),
        &[],
    );
    // segment: the version segment follows the API path and is not forwarded
    assert_eq!(echoed_path(&gw.get("/seg/v1/x", &[])), "/be-seg-v1/x");
    assert_eq!(echoed_path(&gw.get("/seg/v2/x", &[])), "/be-seg-v2/x");
    assert_eq!(echoed_path(&gw.get("/seg/x", &[])), "/be-seg-orig/x");
    // header
    assert_eq!(echoed_path(&gw.get("/hdr/x", &[("Api-Version", "v2")])), "/be-hdr-v2/x");
    assert_eq!(echoed_path(&gw.get("/hdr/x", &[("api-version", "v1")])), "/be-hdr-v1/x");
    assert_eq!(echoed_path(&gw.get("/hdr/x", &[])), "/be-hdr-orig/x");
    assert_error_shape(&gw.get("/hdr/x", &[("Api-Version", "v9")]), 404);
    // query
    let p = echoed_path(&gw.get("/qry/x?a=1&api-version=v2", &[]));
    assert!(p.starts_with("/be-qry-v2/x?"), "{p}");
    assert!(p.contains("a=1"), "{p}");
    let p = echoed_path(&gw.get("/qry/x?api-version=v1", &[]));
    assert!(p.starts_with("/be-qry-v1/x"), "{p}");
    // no original for qry: no version → 404
    assert_error_shape(&gw.get("/qry/x", &[]), 404);
    assert_error_shape(&gw.get("/qry/x?api-version=v3", &[]), 404);
}

#[test]
fn unknown_api_is_404() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&[api("known", "known", &b, "")], ""), &[]);
    assert_error_shape(&gw.get("/unknown/x", &[]), 404);
    assert_error_shape(&gw.get("/", &[]), 404);
    assert_eq!(echoed_path(&gw.get("/known/x", &[])), "/be-known/x");
    assert_eq!(b.requests(), 1, "only the known API reached the backend");
}

#[test]
fn host_not_in_gateway_hostnames_is_404() {
    let b = Backend::normal();
    let gw = Gateway::start(
        &doc(
            &[api("h", "h", &b, "")],
            r#","gateway":{"hostnames":[{"hostname":"api.test.local"},{"hostname":"*.wild.local"}]}"#,
        ),
        &[],
    );
    assert_eq!(echoed_path(&gw.get("/h/x", &[("Host", "api.test.local")])), "/be-h/x");
    assert_eq!(echoed_path(&gw.get("/h/x", &[("Host", "API.Test.Local")])), "/be-h/x");
    assert_eq!(echoed_path(&gw.get("/h/x", &[("Host", "api.test.local:8080")])), "/be-h/x");
    assert_eq!(echoed_path(&gw.get("/h/x", &[("Host", "a.wild.local")])), "/be-h/x");
    assert_error_shape(&gw.get("/h/x", &[("Host", "other.local")]), 404);
    assert_error_shape(&gw.get("/h/x", &[("Host", "api.test.local.evil")]), 404);
    assert_error_shape(&gw.get("/h/x", &[("Host", "wild.local")]), 404);
    assert_eq!(b.requests(), 4);
    // the health probe answers whatever the Host
    assert_eq!(gw.get("/status-0123456789abcdef", &[("Host", "nobody.local")]).status, 200);
}

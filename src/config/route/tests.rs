use super::*;
use crate::config::{load_document, Snapshot};

struct H(&'static [(&'static str, &'static str)]);
impl HeaderLookup for H {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_bytes())
    }
}
const NO: H = H(&[]);

fn snap(apis: &str) -> Snapshot {
    let mut doc = format!(r#"{{"apis": {apis}}}"#).into_bytes();
    match load_document(&mut doc) {
        Ok(l) => l.snapshot,
        Err(e) => panic!("{e}"),
    }
}

fn req<'a>(path: &'a str, query: &'a str, method: &'a str) -> RouteRequest<'a> {
    RouteRequest { path, query, method, scheme: Scheme::Https }
}

/// (api id, operation id, rest) or a short error tag.
fn route(s: &Snapshot, r: &RouteRequest<'_>, h: &H) -> String {
    match s.router.route(r, h) {
        RouteOutcome::Matched(m) => {
            let api = &s.apis[m.api as usize];
            let op = m.operation.map_or("-", |o| api.operations[o as usize].id.as_str());
            format!("{} {} {:?}", api.id, op, &r.path[m.rest_start..])
        }
        RouteOutcome::ApiNotFound => "ApiNotFound".into(),
        RouteOutcome::OperationNotFound { api } => {
            format!("OperationNotFound {}", s.apis[api as usize].id)
        }
    }
}

fn get(s: &Snapshot, path: &str) -> String {
    route(s, &req(path, "", "GET"), &NO)
}

#[test]
fn longest_api_path_and_segments() {
    let s = snap(r#"[{"id":"root","path":""},{"id":"o","path":"orders"},{"id":"o1","path":"orders/v1"}]"#);
    assert_eq!(get(&s, "/orders/v1/items/3"), r#"o1 - "/items/3""#);
    assert_eq!(get(&s, "/orders/v1"), r#"o1 - """#);
    assert_eq!(get(&s, "/orders/v2/x"), r#"o - "/v2/x""#);
    assert_eq!(get(&s, "/orders"), r#"o - """#);
    assert_eq!(get(&s, "/ordersX/a"), r#"root - "/ordersX/a""#);
    assert_eq!(get(&s, "/"), r#"root - "/""#);
    assert_eq!(get(&s, "/ORDERS/V1/x"), r#"o1 - "/x""#, "API path is case-insensitive");
    assert_eq!(get(&s, "/orders/"), r#"o - "/""#);
}

#[test]
fn no_root_api_means_not_found() {
    let s = snap(r#"[{"id":"o","path":"orders"}]"#);
    assert_eq!(get(&s, "/other"), "ApiNotFound");
    assert_eq!(get(&s, "/"), "ApiNotFound");
    assert_eq!(get(&s, ""), "ApiNotFound");
    assert_eq!(get(&s, "orders"), "ApiNotFound");
}

#[test]
fn scheme_must_be_allowed() {
    let s = snap(r#"[{"id":"o","path":"o","protocols":["https"]},{"id":"root","path":""}]"#);
    assert_eq!(route(&s, &RouteRequest { scheme: Scheme::Http, ..req("/o/x", "", "GET") }, &NO), "ApiNotFound");
    assert_eq!(get(&s, "/o/x"), r#"o - "/x""#);
}

const OPS: &str = r#"[{"id":"u","path":"users","operations":[
    {"id":"me","method":"GET","urlTemplate":"/users/me"},
    {"id":"byid","method":"GET","urlTemplate":"/users/{id}"},
    {"id":"any","method":"*","urlTemplate":"/users/{id}"},
    {"id":"wild","method":"GET","urlTemplate":"/users/*"},
    {"id":"list","method":"GET","urlTemplate":"/users"},
    {"id":"root","method":"GET","urlTemplate":"/"},
    {"id":"files","method":"*","urlTemplate":"/files/*"}
]}]"#;

#[test]
fn operation_precedence() {
    let s = snap(OPS);
    assert_eq!(get(&s, "/users/users/me"), r#"u me "/users/me""#);
    assert_eq!(get(&s, "/users/users/7"), r#"u byid "/users/7""#);
    assert_eq!(route(&s, &req("/users/users/7", "", "DELETE"), &NO), r#"u any "/users/7""#);
    assert_eq!(get(&s, "/users/users/7/x"), r#"u wild "/users/7/x""#);
    assert_eq!(get(&s, "/users/users"), r#"u list "/users""#);
    assert_eq!(get(&s, "/users/users/"), r#"u list "/users/""#, "one trailing slash is insignificant");
    assert_eq!(get(&s, "/users"), r#"u root """#);
    assert_eq!(get(&s, "/users/"), r#"u root "/""#);
    assert_eq!(get(&s, "/users/files"), r#"u files "/files""#);
    assert_eq!(route(&s, &req("/users/files/a/b", "", "PUT"), &NO), r#"u files "/files/a/b""#);
    assert_eq!(get(&s, "/users/Users/me"), "OperationNotFound u", "templates are case-sensitive");
    assert_eq!(route(&s, &req("/users/users", "", "POST"), &NO), "OperationNotFound u");
}

#[test]
fn exact_method_beats_star_regardless_of_order() {
    let s = snap(
        r#"[{"id":"a","path":"a","operations":[
        {"id":"star","method":"*","urlTemplate":"/x"},
        {"id":"get","method":"get","urlTemplate":"/x"}]}]"#,
    );
    assert_eq!(get(&s, "/a/x"), r#"a get "/x""#);
    assert_eq!(route(&s, &req("/a/x", "", "POST"), &NO), r#"a star "/x""#);
}

const SEG: &str = r#"[
 {"id":"orig","path":"orders","apiVersionSet":{"versioningScheme":"Segment"}},
 {"id":"v1","path":"orders","apiVersion":"v1","apiVersionSet":{"versioningScheme":"Segment"}},
 {"id":"v2","path":"orders","apiVersion":"v2","apiVersionSet":{"versioningScheme":"Segment"}},
 {"id":"root","path":""}]"#;

#[test]
fn segment_versions() {
    let s = snap(SEG);
    assert_eq!(get(&s, "/orders/v2/items"), r#"v2 - "/items""#);
    assert_eq!(get(&s, "/orders/V1"), r#"v1 - """#);
    assert_eq!(get(&s, "/orders/items"), r#"orig - "/items""#);
    assert_eq!(get(&s, "/orders"), r#"orig - """#);
}

#[test]
fn segment_versions_without_original_fall_back_to_shorter_path() {
    let s = snap(
        r#"[
 {"id":"v1","path":"orders","apiVersion":"v1","apiVersionSet":{"versioningScheme":"Segment"}},
 {"id":"root","path":""}]"#,
    );
    assert_eq!(get(&s, "/orders/v1/x"), r#"v1 - "/x""#);
    assert_eq!(get(&s, "/orders/v9/x"), r#"root - "/orders/v9/x""#);
}

#[test]
fn header_and_query_versions() {
    let hs = r#"{"versioningScheme":"Header","versionHeaderName":"Api-Version"}"#;
    let s = snap(&format!(
        r#"[{{"id":"orig","path":"h","apiVersionSet":{hs}}},{{"id":"h1","path":"h","apiVersion":"2024-01","apiVersionSet":{hs}}}]"#
    ));
    assert_eq!(route(&s, &req("/h/x", "", "GET"), &H(&[("api-version", " 2024-01 ")])), r#"h1 - "/x""#);
    assert_eq!(get(&s, "/h/x"), r#"orig - "/x""#);
    assert_eq!(route(&s, &req("/h/x", "", "GET"), &H(&[("api-version", "nope")])), "ApiNotFound");

    let qs = r#"{"versioningScheme":"Query","versionQueryName":"api-version"}"#;
    let s = snap(&format!(r#"[{{"id":"q1","path":"q","apiVersion":"v1","apiVersionSet":{qs}}}]"#));
    assert_eq!(route(&s, &req("/q/x", "a=1&api-version=v1", "GET"), &NO), r#"q1 - "/x""#);
    assert_eq!(route(&s, &req("/q/x", "a=1", "GET"), &NO), "ApiNotFound");
    assert_eq!(route(&s, &req("/q/x", "api-version=v2", "GET"), &NO), "ApiNotFound");
}

fn problems(apis: &str) -> Vec<String> {
    let mut doc = format!(r#"{{"apis": {apis}}}"#).into_bytes();
    match load_document(&mut doc) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn load_time_rejections() {
    let p = problems(
        r#"[{"id":"a","path":"x"},{"id":"a","path":"X"},
        {"id":"b","path":"v","apiVersion":"1","apiVersionSet":{"versioningScheme":"Segment"}},
        {"id":"c","path":"v","apiVersion":"1","apiVersionSet":{"versioningScheme":"Segment"}},
        {"id":"d","path":"v","apiVersion":"2","apiVersionSet":{"versioningScheme":"Query","versionQueryName":"q"}},
        {"id":"e","path":"e","operations":[
            {"id":"o","method":"GET","urlTemplate":"x"},
            {"id":"o","method":"GET","urlTemplate":"/{a}/{a}"},
            {"id":"p","method":"GET","urlTemplate":"/{a"},
            {"id":"q","method":"GET","urlTemplate":"/*/x"}]}]"#,
    );
    let expected = [
        "apis[1].id: duplicate id 'a' (first used at apis[0])",
        "apis[5].operations[1].id: duplicate id 'o' (first used at apis[5].operations[0])",
        "apis[1].path: path 'X' is already used by API 'a'",
        "apis[3].apiVersion: path 'v' version '1' is already used by API 'b'",
        "apis[4].apiVersionSet: versioning scheme differs from API 'b' at the same path",
        "apis[5].operations[0].urlTemplate: must start with '/'",
        "apis[5].operations[1].urlTemplate: duplicate parameter name 'a'",
        "apis[5].operations[2].urlTemplate: unbalanced braces",
        "apis[5].operations[3].urlTemplate: '*' must be the last segment",
    ];
    for e in expected {
        assert!(p.iter().any(|x| x.starts_with(e)), "missing {e:?} in {p:#?}");
    }
    assert_eq!(p.len(), expected.len(), "{p:#?}");
}

#[test]
fn api_path_shape_rejected() {
    for bad in ["/a", "a/", "a//b", "a b", "a?b"] {
        let p = problems(&format!(r#"[{{"id":"a","path":"{bad}"}}]"#));
        assert!(p.iter().any(|x| x.starts_with("apis[0].path:")), "{bad}: {p:?}");
    }
}

#[test]
fn random_requests_never_panic() {
    let s = snap(&format!("{},{}", OPS.trim_end_matches(']'), SEG.trim_start_matches('[')));
    let mut rng = fastrand::Rng::with_seed(7);
    let parts = ["/", "users", "orders", "v1", "V2", "files", "me", "", "%2F", "é", "*", "{id}", "?"];
    let mut path = String::new();
    let mut query = String::new();
    for _ in 0..2000 {
        path.clear();
        query.clear();
        for _ in 0..rng.usize(0..8) {
            path.push_str(parts[rng.usize(0..parts.len())]);
        }
        for _ in 0..rng.usize(0..3) {
            query.push_str(parts[rng.usize(0..parts.len())]);
        }
        let method = ["GET", "POST", "", "get"][rng.usize(0..4)];
        let scheme = if rng.bool() { Scheme::Http } else { Scheme::Https };
        let r = RouteRequest { path: &path, query: &query, method, scheme };
        if let RouteOutcome::Matched(m) = s.router.route(&r, &H(&[("api-version", "v1")])) {
            assert!(path.is_char_boundary(m.rest_start) && m.rest_start <= path.len(), "{path}");
        }
    }
}

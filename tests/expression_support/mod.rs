//! Helpers shared by the end-to-end expression document tests (tests/expression_documents*.rs):
//! configuration documents around one backend, APIs with inbound/outbound fragments, echoed
//! header lookup, unsigned JWTs, and POSTs with a content type.
#![allow(dead_code)]

use crate::common::backend::echoed_headers;
use crate::common::*;
use serde_json::{json, Value};

/// A configuration document whose APIs all point at `b`, with no subscription required.
pub fn doc(b: &Backend, apis: Vec<Value>) -> String {
    let mut d = json!({"revision": "e1", "apis": apis});
    for api in d["apis"].as_array_mut().expect("apis") {
        api["serviceUrl"] = json!(b.url());
        api["subscriptionRequired"] = json!(false);
    }
    d.to_string()
}

/// An API at `/{id}` whose policy runs `inbound` and `outbound` around forward-request.
pub fn api(id: &str, inbound: &str, outbound: &str) -> Value {
    let policy = format!(
        "<policies><inbound><base />{inbound}</inbound><backend><forward-request /></backend><outbound><base />{outbound}</outbound><on-error><base /></on-error></policies>"
    );
    json!({"id": id, "path": id, "policy": policy})
}

/// An API at `/{id}` with a whole policy document as written.
pub fn api_doc(id: &str, policy: &str) -> Value {
    json!({"id": id, "path": id, "policy": policy})
}

/// The first value of an echoed request header (what the backend received).
pub fn one(v: &Value, name: &str) -> Option<String> {
    echoed_headers(v, name).into_iter().next()
}

/// An unsigned JWT (`….sig`) carrying `claims`.
pub fn jwt(claims: &Value) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}.sig", e.encode(br#"{"alg":"RS256","typ":"JWT"}"#), e.encode(claims.to_string()))
}

/// POSTs `body` with `content_type` on a fresh connection.
pub fn post(gw: &Gateway, target: &str, content_type: &str, body: &[u8]) -> Response {
    let mut c = Conn::connect(gw.http_addr());
    c.request("POST", target, &[("Content-Type", content_type)], body)
}

/// Asserts the backend received exactly `want` as the request body (the echo's checksum).
pub fn assert_backend_body(echo: &Value, want: &str) {
    assert_eq!(echo["bodyLength"], want.len(), "backend body length: {echo}\nwant {want}");
    assert_eq!(echo["bodyFnv"], fnv_hex(want.as_bytes()), "backend body checksum: {echo}\nwant {want}");
}
